/** Soak: reloads under 15 s of load (test/run-soak.js). The short reload under load is in test/cluster/reload.test.ts. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ClusterStatus } from '@clutch/cluster';
import { appStatus, runApp, startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { startLoad } from '../helpers/load.ts';
import { copyFixture } from '../helpers/project.ts';

const pidsOf = (s: ClusterStatus) => ({ agent: s.agent!.pid, workers: s.workers.map((w) => w.pid).sort() });

describe('app reload under long load', { timeout: 180_000 }, () => {
  const started: AppProcess[] = [];
  const copies: Array<{ remove(): void }> = [];
  after(() => {
    for (const app of started) app.kill();
    for (const c of copies) c.remove();
  });

  for (const workers of [2, 1]) {
    it(`with ${workers} worker(s) under 15 s of load from 16 connections: zero failed requests, every pid replaced, the new code served`, async () => {
      const project = copyFixture('reloadable');
      copies.push(project);
      const { app, info } = await startFixture(project.dir, ['--workers', String(workers)]);
      started.push(app);
      const before = pidsOf(await appStatus(project.dir));
      const load = startLoad(`${info.url}/`, { connections: 16, idleClients: 4, durationMs: 15_000 });
      // Let the load settle on the old code first.
      while (load.result.ok < 500) await new Promise((r) => setTimeout(r, 20));

      project.edit('app/controller/home.js', "const VERSION = 'v1';", "const VERSION = 'v2';");
      project.edit('agent.js', "const VERSION = 'v1';", "const VERSION = 'v2';");
      const reload = await runApp(['reload', project.dir], 60_000);
      assert.equal(reload.code, 0, reload.stderr);
      const okAtReload = load.result.ok;

      const result = await load.done;
      assert.deepEqual(result.failures, {}, 'no request failed');
      assert.equal(result.failed, 0);
      assert.ok(result.ok > okAtReload, 'the load went on after the reload');
      assert.ok((result.versions.v1 ?? 0) > 0 && (result.versions.v2 ?? 0) > 0, `served v1 then v2: ${JSON.stringify(result.versions)}`);

      const after = pidsOf(await appStatus(project.dir));
      assert.equal(after.workers.length, workers);
      assert.ok(
        after.workers.every((pid) => !before.workers.includes(pid)),
        'every worker replaced',
      );
      assert.notEqual(after.agent, before.agent, 'the agent replaced');
      assert.equal((await getJson<{ version: string }>(`${info.url}/`)).body.version, 'v2');
      assert.deepEqual((await getJson<{ pid: number; version: string }>(`${info.url}/agent-version`)).body, { pid: after.agent, version: 'v2' });
      assert.ok(!app.stderr.includes('CLUTCH_ERR_CLUSTER_CRASH_LOOP') && !/worker \d+ exited/.test(app.stderr), 'no refork was triggered');
    });
  }
});
