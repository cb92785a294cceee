/** The scaler's decisions, without processes: fake children and a stopper whose children exit when ordered to. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Children } from '../../packages/cluster/src/children.ts';
import type { MasterState } from '../../packages/cluster/src/master.ts';
import { Scaler, type ScaleHost } from '../../packages/cluster/src/scaler.ts';
import { Stopper } from '../../packages/cluster/src/stopper.ts';
import { FakeWorker, recordingLogger } from '../helpers/fake-children.ts';

/** `count` serving workers in slots 0..count-1; a fork boots as `onFork` says (serves, by default). */
function cluster(count: number, options: { reloading?: boolean; perSlotSockets?: boolean } = {}) {
  const slots = new Map<FakeWorker, number>();
  const track = (w: FakeWorker, slot: number) => {
    slots.set(w, slot);
    w.process.once('exit', () => slots.delete(w));
  };
  for (let slot = 0; slot < count; slot++) {
    const w = new FakeWorker();
    w.serve();
    track(w, slot);
  }
  const state = { now: 'ready' as MasterState, onFork: (w: FakeWorker) => w.serve() };
  const children = {
    bySlot: () => [...slots].map(([worker, slot]) => ({ worker, slot })).sort((a, b) => a.slot - b.slot),
    forkWorker(slot: number, candidate = false) {
      const w = new FakeWorker(candidate);
      track(w, slot);
      queueMicrotask(() => state.onFork(w));
      return w;
    },
  };
  const left: unknown[] = [];
  const logger = recordingLogger();
  const stopper = new Stopper({ logger, stopTimeout: 1_000, leave: (w) => left.push(w) });
  const stop = stopper.stop.bind(stopper);
  stopper.stop = (child, reason, timeout) => {
    const outcome = stop(child, reason, timeout);
    queueMicrotask(() => (child as unknown as FakeWorker).process.exit(0));
    return outcome;
  };
  const host: ScaleHost = {
    logger,
    children: children as unknown as Children,
    stopper,
    bootTimeout: 200,
    state: () => state.now,
    url: () => 'http://127.0.0.1:1',
    reloading: () => options.reloading ?? false,
    perSlotSockets: () => options.perSlotSockets ?? false,
  };
  return { scaler: new Scaler(host, count, 8), slots, state, left, workers: () => children.bySlot() };
}

const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c;

describe('the scaler (docs/operations.md, "Scaling while running")', () => {
  it('up: new slots, in service once they listen and told the cluster is ready; down: the highest slots leave the rotation and stop', async () => {
    const c = cluster(2);
    const up = await c.scaler.scale(4);
    assert.equal(up.from, 2);
    assert.equal(up.to, 4);
    assert.deepEqual(
      c.workers().map((w) => w.slot),
      [0, 1, 2, 3],
    );
    for (const { worker } of c.workers().slice(2)) {
      assert.equal(worker.inService, true);
      assert.ok(worker.process.sent.some((m) => m.clutch === 'cluster-ready'));
    }
    const before = c.workers().map((w) => w.worker);
    const down = await c.scaler.scale(1);
    assert.deepEqual(
      down.retired.sort(),
      before
        .slice(1)
        .map((w) => w.pid)
        .sort(),
    );
    assert.deepEqual(c.left, before.slice(1), 'out of the rotation first (the Stopper)');
    assert.ok(before.slice(1).every((w) => w.retired && w.process.sent.some((m) => m.clutch === 'stop' && m.reason === 'reload')));
    assert.deepEqual(
      c.workers().map((w) => w.slot),
      [0],
    );
    assert.equal(c.scaler.keeps(0), true);
    assert.equal(c.scaler.keeps(1), false, 'a slot scaled away is not reforked');
  });

  it('a new worker that fails to boot: SCALE_FAILED, every new one stopped, the count unchanged', async () => {
    const c = cluster(1);
    let n = 0;
    c.state.onFork = (w) => (n++ === 0 ? w.serve() : w.process.exit(70));
    await assert.rejects(c.scaler.scale(3), code('CLUTCH_ERR_CLUSTER_SCALE_FAILED'));
    assert.equal(c.scaler.count, 1);
    assert.deepEqual(
      c.workers().map((w) => w.slot),
      [0],
    );
  });

  it('out of range is SCALE_OUT_OF_RANGE; while reloading, not ready, scaling, or down with per-slot sockets, SCALE_REFUSED', async () => {
    const c = cluster(2);
    for (const n of [0, 9, 1.5, Number.NaN]) await assert.rejects(c.scaler.scale(n), code('CLUTCH_ERR_CLUSTER_SCALE_OUT_OF_RANGE'), String(n));
    await assert.rejects(cluster(2, { reloading: true }).scaler.scale(3), code('CLUTCH_ERR_CLUSTER_SCALE_REFUSED'));
    await assert.rejects(cluster(2, { perSlotSockets: true }).scaler.scale(1), code('CLUTCH_ERR_CLUSTER_SCALE_REFUSED'));
    assert.equal((await cluster(2, { perSlotSockets: true }).scaler.scale(3)).to, 3, 'up is fine with per-slot sockets');
    c.state.onFork = () => {};
    const slow = c.scaler.scale(3);
    await assert.rejects(c.scaler.scale(4), code('CLUTCH_ERR_CLUSTER_SCALE_REFUSED'));
    await assert.rejects(slow, code('CLUTCH_ERR_CLUSTER_SCALE_FAILED'), 'the new worker never listened within the boot timeout');
    c.state.now = 'stopping';
    await assert.rejects(c.scaler.scale(3), code('CLUTCH_ERR_CLUSTER_SCALE_REFUSED'));
  });
});
