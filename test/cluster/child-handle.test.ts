/** The child handle, the one owner of a child's state: no processes, a fake channel. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterErrorCode } from '@clutch/cluster';
import { FakeAgent, FakeWorker, settle } from '../helpers/fake-children.ts';

describe('the child handle', () => {
  it('moves only forward: booting → ready → listening → stopping → dead', () => {
    const worker = new FakeWorker();
    assert.equal(worker.state, 'booting');
    assert.equal(worker.booted(), true);
    assert.equal(worker.booted(), false, 'no step in place');
    assert.equal(worker.listening(), true);
    worker.orderStop({ clutch: 'stop', reason: 'stop', timeout: 1_000 });
    assert.equal(worker.state, 'stopping');
    assert.equal(worker.listening(), false, 'no step back');
    worker.process.exit(0);
    assert.equal(worker.state, 'dead');
  });

  it('settles its own boot: the agent once ready, a worker once it listens', async () => {
    const agent = new FakeAgent();
    agent.booted();
    assert.equal(agent.boot.done, true);
    await agent.boot.promise;
    const worker = new FakeWorker();
    worker.booted();
    assert.equal(worker.boot.done, false, 'a worker that booted but does not listen yet is still starting');
    worker.listening();
    assert.equal(worker.boot.done, true);
  });

  it('a death before the boot ended fails it with the boot error the child sent, coded by role', async () => {
    const worker = new FakeWorker();
    worker.bootFailed({ name: 'Error', message: 'app.ts threw', code: 'CLUTCH_ERR_LIFECYCLE_HOOK_FAILED' });
    worker.process.exit(70);
    await assert.rejects(worker.boot.promise, (err: { code?: string; message: string }) => {
      assert.equal(err.code, ClusterErrorCode.WORKER_BOOT_FAILED);
      assert.match(err.message, /app\.ts threw \[CLUTCH_ERR_LIFECYCLE_HOOK_FAILED\]/);
      return true;
    });
    const agent = new FakeAgent();
    agent.process.exit(null, 'SIGKILL');
    await assert.rejects(agent.boot.promise, { code: ClusterErrorCode.PROCESS_EXITED });
    const busy = new FakeWorker();
    busy.bootFailed({ name: 'ClutchError', message: 'port 80 is in use', code: ClusterErrorCode.PORT_IN_USE });
    busy.process.exit(70);
    await assert.rejects(busy.boot.promise, { code: ClusterErrorCode.PORT_IN_USE });
  });

  it('a death after the boot leaves it resolved', async () => {
    const agent = new FakeAgent();
    agent.booted();
    agent.process.exit(1);
    await agent.boot.promise;
    await settle();
  });

  it('a stop ordered while loading is sent again once the child says it booted, and the boot does not count', async () => {
    const agent = new FakeAgent();
    agent.orderStop({ clutch: 'stop', reason: 'reload', timeout: 500 });
    assert.equal(agent.booted(), false);
    await settle();
    assert.deepEqual(
      agent.process.sent.filter((m) => m.clutch === 'stop'),
      [
        { clutch: 'stop', reason: 'reload', timeout: 500 },
        { clutch: 'stop', reason: 'reload', timeout: 500 },
      ],
    );
    assert.equal(agent.boot.done, false);
  });

  it('a stop order without a channel becomes SIGTERM', () => {
    const worker = new FakeWorker();
    worker.process.connected = false;
    worker.orderStop({ clutch: 'stop', reason: 'stop', timeout: 100 });
    assert.deepEqual(worker.process.signals, ['SIGTERM']);
  });

  it('owns its flags: leaving on its own only without an order; a stall kill names its reason', () => {
    const own = new FakeWorker();
    own.serve();
    own.leaving();
    assert.equal(own.leftOnItsOwn, true, 'draining with no order from the master: someone else sent SIGTERM');
    const ordered = new FakeWorker();
    ordered.serve();
    ordered.orderStop({ clutch: 'stop', reason: 'stop', timeout: 100 });
    ordered.leaving();
    assert.equal(ordered.leftOnItsOwn, false);
    const stalled = new FakeAgent();
    stalled.killStalled();
    assert.equal(stalled.killedFor, 'stalled');
    assert.deepEqual(stalled.process.signals, ['SIGKILL']);
    stalled.reportLogHealth({ dropped: 3, lastError: 'ENOSPC' });
    assert.deepEqual(stalled.logHealth, { dropped: 3, lastError: 'ENOSPC' });
  });

  it('a signal to a process that has exited is not sent', () => {
    const worker = new FakeWorker();
    worker.process.exit(0);
    worker.kill('SIGKILL');
    assert.deepEqual(worker.process.signals, []);
  });
});
