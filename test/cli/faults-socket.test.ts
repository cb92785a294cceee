import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { controlSocketPath } from '@clutch/cluster';
import { runApp, startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { copyFixture } from '../helpers/project.ts';

describe('a control socket deleted while the cluster runs (a tmp cleaner) is made again', { timeout: 60_000 }, () => {
  const started: AppProcess[] = [];
  const copies: Array<{ remove(): void }> = [];
  // A directory of this test's own: the socket's folder is deleted below, and other suites share the default one.
  const runDir = mkdtempSync(join(tmpdir(), 'clutch-socket-'));
  const env = { CLUTCH_RUN_DIR: join(runDir, 'control') };
  after(() => {
    for (const app of started) app.kill();
    for (const c of copies) c.remove();
    rmSync(runDir, { recursive: true, force: true });
  });

  for (const what of ['the socket file', 'the whole control directory'] as const) {
    it(`${what} removed: status, reload and stop still work (exit 0), and the master says what happened`, async () => {
      mkdirSync(env.CLUTCH_RUN_DIR, { recursive: true, mode: 0o700 });
      const project = copyFixture('reloadable');
      copies.push(project);
      const { app, info } = await startFixture(project.dir, ['--workers', '1'], { env });
      started.push(app);
      const socket = (() => {
        const saved = process.env.CLUTCH_RUN_DIR;
        process.env.CLUTCH_RUN_DIR = env.CLUTCH_RUN_DIR;
        try {
          return controlSocketPath(project.dir, 'reloadable');
        } finally {
          if (saved === undefined) delete process.env.CLUTCH_RUN_DIR;
          else process.env.CLUTCH_RUN_DIR = saved;
        }
      })();
      assert.ok(existsSync(socket), `the socket is at ${socket}`);
      rmSync(what === 'the socket file' ? socket : env.CLUTCH_RUN_DIR, { recursive: true, force: true });

      const status = await runApp(['status', project.dir, '--json'], 15_000, env);
      assert.equal(status.code, 0, status.stderr);
      assert.equal((JSON.parse(status.stdout) as { master: { pid: number } }).master.pid, info.pid);
      await app.waitForLine(/CLUTCH_ERR_CONTROL_RESTORED.*listens again/, 5_000);
      const reload = await runApp(['reload', project.dir], 30_000, env);
      assert.equal(reload.code, 0, reload.stderr);
      assert.equal((await getJson(`${info.url}/`)).status, 200);
      const stop = await runApp(['stop', project.dir], 30_000, env);
      assert.equal(stop.code, 0, stop.stderr);
      assert.match(stop.stdout, /^stopped reloadable/m);
      assert.equal((await app.waitForExit(10_000)).code, 0);
    });
  }
});
