import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ExitCode, type ClusterStatus } from '@clutch/cluster';
import { appStatus, runApp, startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { startLoad } from '../helpers/load.ts';
import { copyFixture } from '../helpers/project.ts';

const pidsOf = (s: ClusterStatus) => ({ agent: s.agent!.pid, workers: s.workers.map((w) => w.pid).sort() });

describe('app reload', { timeout: 90_000 }, () => {
  const started: AppProcess[] = [];
  const copies: Array<{ remove(): void }> = [];
  after(() => {
    for (const app of started) app.kill();
    for (const c of copies) c.remove();
  });

  // The 15 s loads, with one worker and with two, are soak tests (test/soak/reload-load.soak.ts).
  it('with 2 workers under load from 16 connections until the new code serves: zero failed requests, every pid replaced', async () => {
    const project = copyFixture('reloadable');
    copies.push(project);
    const { app, info } = await startFixture(project.dir, ['--workers', '2']);
    started.push(app);
    const before = pidsOf(await appStatus(project.dir));
    const load = startLoad(`${info.url}/`, { connections: 16, idleClients: 4, durationMs: 30_000, paceMs: 5 });
    while (load.result.ok < 200) await new Promise((r) => setTimeout(r, 20));

    project.edit('app/controller/home.js', "const VERSION = 'v1';", "const VERSION = 'v2';");
    project.edit('agent.js', "const VERSION = 'v1';", "const VERSION = 'v2';");
    const reload = await runApp(['reload', project.dir], 60_000);
    assert.equal(reload.code, 0, reload.stderr);
    // The load goes on past the reload, until the new code has answered a hundred times.
    const v2At = load.result.versions.v2 ?? 0;
    while ((load.result.versions.v2 ?? 0) < v2At + 100 && load.result.failed === 0) await new Promise((r) => setTimeout(r, 20));
    load.stop();
    const result = await load.done;
    assert.deepEqual(result.failures, {}, 'no request failed');
    assert.ok((result.versions.v1 ?? 0) > 0 && (result.versions.v2 ?? 0) > 0, `served v1 then v2: ${JSON.stringify(result.versions)}`);

    const after = pidsOf(await appStatus(project.dir));
    assert.equal(after.workers.length, 2);
    assert.ok(
      after.workers.every((pid) => !before.workers.includes(pid)),
      'every worker replaced',
    );
    assert.notEqual(after.agent, before.agent, 'the agent replaced');
    assert.deepEqual((await getJson<{ pid: number; version: string }>(`${info.url}/agent-version`)).body, { pid: after.agent, version: 'v2' });
    assert.ok(!app.stderr.includes('CLUTCH_ERR_CLUSTER_CRASH_LOOP') && !/worker \d+ exited/.test(app.stderr), 'no refork was triggered');
  });

  it('a reload whose new code throws at boot: non-zero exit naming the error, zero failed requests, the same processes', async () => {
    const project = copyFixture('reloadable');
    copies.push(project);
    const { app, info } = await startFixture(project.dir, ['--workers', '2']);
    started.push(app);
    const before = pidsOf(await appStatus(project.dir));
    const load = startLoad(`${info.url}/`, { connections: 8, durationMs: 60_000, paceMs: 5 });
    while (load.result.ok < 200) await new Promise((r) => setTimeout(r, 20));

    project.write('app.js', "export default class { didLoad() { throw new Error('the new release is broken'); } }\n");
    const reload = await runApp(['reload', project.dir], 60_000);
    load.stop();
    const result = await load.done;

    assert.equal(reload.code, ExitCode.RELOAD_FAILED);
    assert.match(reload.stderr, /CLUTCH_ERR_CLUSTER_RELOAD_FAILED/);
    assert.match(reload.stderr, /the new release is broken/);
    assert.deepEqual(result.failures, {});
    assert.deepEqual(pidsOf(await appStatus(project.dir)), before, 'the old workers and agent still serve');
    assert.equal((await getJson(`${info.url}/`)).status, 200);
  });
});
