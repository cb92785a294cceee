/** Coalescing a turn's messages to one channel into one write (packages/cluster/src/coalesce.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MasterMessage } from '@clutch/cluster';
import { BATCH_MAX_BYTES, BATCH_MAX_MESSAGES, Coalescer, isBatch, type Batch } from '../../packages/cluster/src/coalesce.ts';
import { FakeWorker, settle } from '../helpers/fake-children.ts';

type M = { n: number; payload?: string };

function recorder() {
  const writes: Array<M | Batch<M>> = [];
  const outbox = new Coalescer<M>((message, written) => {
    writes.push(message);
    written?.(null);
  });
  return { writes, outbox };
}

describe('the coalescer', () => {
  it('a lone message goes unwrapped, in the same turn (no timer: a microtask)', async () => {
    const { writes, outbox } = recorder();
    outbox.push({ n: 1 });
    assert.deepEqual(writes, [], 'not written while the turn runs');
    await Promise.resolve();
    assert.deepEqual(writes, [{ n: 1 }]);
  });

  it("a turn's messages go as one batch, in order, and every written callback runs once", async () => {
    const { writes, outbox } = recorder();
    let called = 0;
    for (let n = 0; n < 100; n++) outbox.push({ n }, () => called++);
    await settle();
    assert.equal(writes.length, 1);
    const batch = writes[0]!;
    assert.ok(isBatch(batch));
    assert.deepEqual(
      batch.messages.map((m) => m.n),
      Array.from({ length: 100 }, (_, n) => n),
    );
    assert.equal(called, 100);
  });

  it('a batch is cut at its message and byte bounds; a flush writes what waits first', async () => {
    const { writes, outbox } = recorder();
    for (let n = 0; n < BATCH_MAX_MESSAGES + 1; n++) outbox.push({ n });
    assert.equal(writes.length, 1, 'a full batch goes at once');
    await settle();
    assert.equal(writes.length, 2);
    assert.deepEqual(writes[1], { n: BATCH_MAX_MESSAGES });
    const big = 'x'.repeat(BATCH_MAX_BYTES / 2);
    outbox.push({ n: 1, payload: big });
    outbox.push({ n: 2, payload: big });
    assert.equal(writes.length, 3, 'past the byte bound it goes at once');
    outbox.push({ n: 3 });
    outbox.flush();
    assert.deepEqual(writes[3], { n: 3 });
    await settle();
    assert.equal(writes.length, 4, 'nothing left for the scheduled flush');
  });

  it('the child handle writes a burst as one batch, and a message with a handle after what waited', async () => {
    const worker = new FakeWorker();
    const burst: MasterMessage[] = Array.from({ length: 50 }, (_, i) => ({ clutch: 'deliver', action: 'b', from: 'agent', pid: 1, payload: String(i) }));
    for (const m of burst) assert.equal(worker.send(m), true);
    worker.sendWithHandle({ clutch: 'connection' }, {} as never);
    await settle();
    assert.equal(worker.process.writes, 2, 'the burst in one write, the connection in its own');
    assert.deepEqual(worker.process.sent, [...burst, { clutch: 'connection' }]);
    worker.process.connected = false;
    assert.equal(worker.send({ clutch: 'reopen-logs' }), false, 'a closed channel takes nothing');
  });
});
