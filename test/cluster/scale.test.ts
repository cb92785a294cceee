import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ExitCode } from '@clutch/cluster';
import { commandOf, liveStatus, startFixture, type AppProcess } from '../helpers/cluster.ts';

// Scaling under load, and the slots, readiness and metrics that follow it, is in test/soak/scale-load.soak.ts.
describe('app scale (docs/operations.md, "Scaling while running")', { timeout: 120_000 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const app of started) app.kill();
  });

  it('a count outside 1..maxWorkers is CLUTCH_ERR_CLUSTER_SCALE_OUT_OF_RANGE (exit 2) and changes nothing; 0 is a usage error; 2 then 1 is obeyed', async () => {
    const { app } = await startFixture('basic', ['--workers', '1', '--max-workers', '3']);
    started.push(app);
    const before = await liveStatus(app);
    const high = await commandOf(app, 'scale', ['4']);
    assert.equal(high.code, ExitCode.USAGE);
    assert.match(high.stderr, /CLUTCH_ERR_CLUSTER_SCALE_OUT_OF_RANGE/);
    assert.match(high.stderr, /from 1 to 3/);
    const zero = await commandOf(app, 'scale', ['0']);
    assert.equal(zero.code, ExitCode.USAGE);
    assert.match(zero.stderr, /CLUTCH_ERR_CLI_BAD_VALUE/);
    assert.deepEqual(
      (await liveStatus(app)).workers.map((w) => w.pid),
      before.workers.map((w) => w.pid),
    );

    const up = await commandOf(app, 'scale', ['2']);
    assert.equal(up.code, 0, up.stderr);
    const two = await liveStatus(app);
    assert.deepEqual(
      two.workers.map((w) => [w.slot, w.state]),
      [
        [0, 'ready'],
        [1, 'ready'],
      ],
    );
    assert.equal(two.workers[0]!.pid, before.workers[0]!.pid, 'slot 0 kept its worker');
    const down = await commandOf(app, 'scale', ['1']);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(
      (await liveStatus(app)).workers.map((w) => w.pid),
      [before.workers[0]!.pid],
    );
  });
});
