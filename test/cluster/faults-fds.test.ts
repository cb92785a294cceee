import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { startFixture, statusOf, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';

describe('a worker out of file descriptors keeps running', { timeout: 60_000 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const app of started) app.kill();
  });

  it('EMFILE under a 256-descriptor limit (prlimit): the heartbeat goes on, the cause is logged once with its code, the same worker serves after', async () => {
    const { app, info } = await startFixture('production', ['--workers', '1', '--stall-timeout', '4000']);
    started.push(app);
    const [worker] = info.workers as [number];
    execFileSync('prlimit', ['--pid', String(worker), '--nofile=256:256']);
    const held = await getJson<{ pid: number; held: number; code: string }>(`${info.url}/hold-fds?ms=3000`);
    assert.equal(held.body.code, 'EMFILE', 'the worker ran out of descriptors');
    await app.waitForLine(/CLUTCH_ERR_CLUSTER_SAMPLE_FAILED.*EMFILE/, 5_000);
    await app.waitForLine(/memory reads again/, 8_000);
    assert.equal(app.stderr.match(/CLUTCH_ERR_CLUSTER_SAMPLE_FAILED/g)?.length, 1, 'said once for the streak');
    assert.equal((await getJson<{ pid: number }>(`${info.url}/`)).body.pid, worker, 'the same worker serves');
    const s = await statusOf(app);
    assert.deepEqual(
      s?.workers.map((w) => [w.pid, w.restarts]),
      [[worker, 0]],
      'never replaced',
    );
    assert.doesNotMatch(app.stdout + app.stderr, /STALLED|exited \(code/);
  });
});
