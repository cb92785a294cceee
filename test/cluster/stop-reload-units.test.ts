/** The stopper, reloads and recycling, without processes: fake children, a fake clock for the kill timer. */
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { ClusterErrorCode } from '@clutch/cluster';
import type { Children } from '../../packages/cluster/src/children.ts';
import type { MasterState } from '../../packages/cluster/src/master.ts';
import { requestBudget } from '../../packages/cluster/src/child/stop-budget.ts';
import { Recycler } from '../../packages/cluster/src/recycler.ts';
import { Reloader, type ReloadHost } from '../../packages/cluster/src/reload.ts';
import { RestartLog } from '../../packages/cluster/src/restart-log.ts';
import { KILL_GRACE_MS, Stopper } from '../../packages/cluster/src/stopper.ts';
import { FakeAgent, FakeWorker, recordingLogger, settle } from '../helpers/fake-children.ts';

/** A stopper whose children exit as soon as they are ordered to stop (unless `stubborn`). */
function fakeStopper(left: unknown[], stubborn = new Set<unknown>()) {
  const logger = recordingLogger();
  const stopper = new Stopper({ logger, stopTimeout: 1_000, leave: (w) => left.push(w) });
  const stop = stopper.stop.bind(stopper);
  stopper.stop = (child, reason, timeout) => {
    const outcome = stop(child, reason, timeout);
    if (!stubborn.has(child)) queueMicrotask(() => (child as unknown as FakeWorker).process.exit(0));
    return outcome;
  };
  return { stopper, logger };
}

/** The children of a fake cluster: `count` serving workers and a ready agent. */
function fakeChildren(count: number) {
  const slots = new Map<FakeWorker, number>();
  let agent = new FakeAgent();
  agent.booted();
  const forks: FakeWorker[] = [];
  for (let slot = 0; slot < count; slot++) {
    const w = new FakeWorker();
    w.serve();
    slots.set(w, slot);
  }
  let onFork: (w: FakeWorker) => void = (w) => w.serve();
  const children = {
    get agent() {
      return agent;
    },
    get workers() {
      return [...slots.keys()];
    },
    slots: () => [...new Set(slots.values())].sort(),
    slotOf: (w: FakeWorker) => slots.get(w)!,
    inService: (slot: number) => [...slots].filter(([w, s]) => s === slot && w.inService).map(([w]) => w),
    forkWorker(slot: number, candidate = false) {
      const w = new FakeWorker(candidate);
      slots.set(w, slot);
      w.process.once('exit', () => slots.delete(w));
      forks.push(w);
      queueMicrotask(() => onFork(w));
      return w;
    },
    forkAgent() {
      agent = new FakeAgent();
      queueMicrotask(() => agent.booted());
      return agent;
    },
  };
  for (const w of slots.keys()) w.process.once('exit', () => slots.delete(w));
  return {
    /** Lets a millisecond pass: a reload replaces the workers forked before it began. */
    aged: () => new Promise((r) => setTimeout(r, 5)),
    children: children as unknown as Children,
    forks,
    setOnFork: (f: (w: FakeWorker) => void) => (onFork = f),
  };
}

function reloadHost(children: Children, stopper: Stopper, state: { now: MasterState }, logger = recordingLogger()): ReloadHost {
  return {
    logger,
    children,
    restarts: new RestartLog(),
    bootTimeout: 500,
    stopper,
    state: () => state.now,
    url: () => 'http://127.0.0.1:1',
    prepare: async () => {},
    cancelAgentRefork: () => {},
  };
}

describe('the stopper', () => {
  it('takes a worker out of the rotation before it orders the stop; the agent has no rotation', async () => {
    const left: unknown[] = [];
    const { stopper } = fakeStopper(left);
    const worker = new FakeWorker();
    worker.serve();
    const outcome = await stopper.stop(worker as never, 'reload', 2_000);
    assert.deepEqual(left, [worker]);
    assert.deepEqual(worker.process.sent.at(-1), { clutch: 'stop', reason: 'reload', timeout: 2_000 });
    assert.deepEqual(outcome, { code: 0, signal: null, killed: false });
    const agent = new FakeAgent();
    agent.booted();
    await stopper.stop(agent as never);
    assert.deepEqual(left, [worker]);
  });

  it('kills a child that outlives its timeout by a second, and says it had to', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const worker = new FakeWorker();
      worker.serve();
      const { stopper, logger } = fakeStopper([], new Set([worker]));
      const outcome = stopper.stop(worker as never, 'stop', 200);
      mock.timers.tick(200 + KILL_GRACE_MS - 1);
      assert.deepEqual(worker.process.signals, [], 'not before the grace is over');
      mock.timers.tick(1);
      assert.deepEqual(worker.process.signals, ['SIGKILL']);
      worker.process.exit(null, 'SIGKILL');
      assert.equal((await outcome).killed, true);
      assert.match(logger.lines.join('\n'), /worker \d+ did not exit within 1200ms of the stop order, sending SIGKILL/);
    } finally {
      mock.timers.reset();
    }
  });

  it('retire marks the child as ended on purpose; stopAll stops the workers, then the agent, and names the killed', async () => {
    const { stopper } = fakeStopper([]);
    const worker = new FakeWorker();
    worker.serve();
    await stopper.retire(worker as never);
    assert.equal(worker.retired, true);
    const order: string[] = [];
    const w1 = new FakeWorker();
    const agent = new FakeAgent();
    w1.process.on('exit', () => order.push('worker'));
    agent.process.on('exit', () => order.push('agent'));
    assert.deepEqual(await stopper.stopAll([w1 as never], agent as never, 100), []);
    assert.deepEqual(order, ['worker', 'agent']);
  });
});

describe('reload', () => {
  it('replaces each slot in turn — the new worker serves before the old one is stopped — then the agent', async () => {
    const { children, forks, aged } = fakeChildren(2);
    await aged();
    const old = children.workers.map((w) => w as unknown as FakeWorker);
    const oldAgent = children.agent as unknown as FakeAgent;
    const { stopper } = fakeStopper([]);
    const events: string[] = [];
    for (const w of old) {
      const slot = children.slotOf(w as never);
      w.process.on('exit', () => events.push(`old ${slot} gone, new ${forks.length} forked`));
    }
    const result = await new Reloader(reloadHost(children, stopper, { now: 'ready' })).run({ workers: true, agent: true });
    assert.deepEqual(events, ['old 0 gone, new 1 forked', 'old 1 gone, new 2 forked'], 'one slot at a time, the new one first');
    assert.deepEqual(
      result.workers,
      forks.map((w) => w.pid),
    );
    assert.ok(
      forks.every((w) => !w.candidate),
      'the new workers were admitted',
    );
    assert.notEqual(result.agent, oldAgent.pid);
    assert.equal(oldAgent.state, 'dead');
  });

  it('the next slot is replaced while the old worker still drains; the reload, and the agent, wait until every old worker has exited', async () => {
    const { children, forks, aged } = fakeChildren(2);
    await aged();
    const old = children.workers.map((w) => w as unknown as FakeWorker);
    const oldAgent = children.agent as unknown as FakeAgent;
    // The old workers drain slowly: they exit only when the test says so.
    const { stopper } = fakeStopper([], new Set(old));
    let done = false;
    const reloading = new Reloader(reloadHost(children, stopper, { now: 'ready' })).run({ workers: true, agent: true }).then((r) => {
      done = true;
      return r;
    });
    const until = Date.now() + 2_000;
    while (forks.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
    assert.equal(forks.length, 2, 'the second slot was forked while the first old worker drains');
    assert.ok(
      old.every((w) => w.state !== 'dead'),
      'both new workers forked while the old ones drain',
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false, 'not done while old workers drain');
    assert.notEqual(oldAgent.state, 'dead', 'the agent is not replaced while old workers drain');
    old[0]!.process.exit(0);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false, 'not done while one old worker drains');
    old[1]!.process.exit(0);
    const result = await reloading;
    assert.deepEqual(
      result.workers,
      forks.map((w) => w.pid),
    );
    assert.equal(oldAgent.state, 'dead');
  });

  it('a new worker that never serves fails the reload: it is discarded, the old ones not yet replaced keep serving', async () => {
    const { children, forks, setOnFork, aged } = fakeChildren(2);
    await aged();
    const old = children.workers.map((w) => w as unknown as FakeWorker);
    setOnFork((w) => w.booted()); // ready, but never listening
    const { stopper } = fakeStopper([]);
    await assert.rejects(
      new Reloader(reloadHost(children, stopper, { now: 'ready' })).run({ workers: true, agent: true }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, ClusterErrorCode.RELOAD_FAILED);
        assert.match(err.message, /0 of 2 workers were replaced; the others keep serving the old code/);
        return true;
      },
    );
    assert.equal(forks[0]!.state, 'dead', 'the candidate was stopped');
    assert.ok(
      old.every((w) => w.state === 'listening'),
      'the old workers still serve',
    );
  });

  it('refuses a second reload while one runs, and any reload unless the cluster is ready', async () => {
    const { children, aged } = fakeChildren(1);
    await aged();
    const { stopper } = fakeStopper([]);
    const state = { now: 'ready' as MasterState };
    const reloader = new Reloader(reloadHost(children, stopper, state));
    const first = reloader.run({ workers: true, agent: false });
    await assert.rejects(reloader.run({ workers: true, agent: false }), { code: ClusterErrorCode.RELOAD_REFUSED });
    await first;
    state.now = 'stopping';
    await assert.rejects(reloader.run({ workers: true, agent: false }), { code: ClusterErrorCode.RELOAD_REFUSED });
  });

  it('a stop that begins during a reload ends it, and the failure does not claim anything keeps serving', async () => {
    const { children, setOnFork, aged } = fakeChildren(2);
    await aged();
    const state = { now: 'ready' as MasterState };
    setOnFork((w) => {
      state.now = 'stopping';
      w.serve();
    });
    const { stopper } = fakeStopper([]);
    await assert.rejects(new Reloader(reloadHost(children, stopper, state)).run({ workers: true, agent: true }), (err: Error) => {
      assert.match(err.message, /the cluster is stopping$/);
      return true;
    });
  });
});

describe('recycling', () => {
  function recycler(count: number, canRecycle = true, shedding = { others: false }) {
    const { children, forks } = fakeChildren(count);
    const calls: string[] = [];
    const { stopper } = fakeStopper([]);
    const logger = recordingLogger();
    const r = new Recycler(reloadHost(children, stopper, { now: 'ready' }, logger), {
      canRecycle: () => canRecycle,
      leave: (w) => calls.push(`leave ${w.pid}`),
      suspend: (w) => calls.push(`suspend ${w.pid}`),
      resume: (w) => calls.push(`resume ${w.pid}`),
      maxMemory: () => 300 * 1048576,
      othersShedding: () => shedding.others,
    });
    return { r, children, forks, calls, logger, workers: children.workers as unknown as FakeWorker[] };
  }

  it('a stalled worker leaves the rotation at once, is replaced, then killed; a stalled agent is killed', async () => {
    const { r, workers, forks, calls, logger, children } = recycler(2);
    const [stalled] = workers;
    r.onStall(stalled as never, 31_000);
    assert.deepEqual(calls, [`leave ${stalled!.pid}`]);
    await settle();
    await settle();
    assert.equal(forks.length, 1, 'a replacement in its slot');
    assert.deepEqual(stalled!.process.signals, ['SIGKILL']);
    assert.equal(stalled!.killedFor, 'stalled');
    assert.match(logger.lines.join('\n'), /CLUTCH_ERR_CLUSTER_WORKER_STALLED.*31000ms/);
    r.onStall(children.agent as never, 40_000);
    assert.deepEqual((children.agent as unknown as FakeAgent).process.signals, ['SIGKILL']);
  });

  it('over its memory limit a worker takes no new connection while its replacement boots; one that cannot be recycled now serves again', async () => {
    const busy = recycler(1, false);
    const [w] = busy.workers;
    busy.r.onMemory(w as never, 400 * 1048576);
    await settle();
    assert.deepEqual(busy.calls, [`suspend ${w!.pid}`, `resume ${w!.pid}`], 'no recycle during a reload: back in the rotation');
    const free = recycler(1);
    const [v] = free.workers;
    free.r.onMemory(v as never, 400 * 1048576);
    assert.deepEqual(free.calls, [`suspend ${v!.pid}`]);
    for (let i = 0; i < 5 && v!.state !== 'dead'; i++) await settle();
    assert.equal(free.forks.length, 1);
    assert.equal(v!.state, 'dead', 'drained and stopped once the new one served');
    assert.match(free.logger.lines.join('\n'), /RSS is 400 MB, over the limit of 300 MB/);
  });

  it('over its memory limit while the other workers shed load, a worker keeps serving (said once) and is recycled once they stop', async () => {
    const shedding = { others: true };
    const { r, workers, calls, forks, logger } = recycler(2, true, shedding);
    const [w] = workers;
    assert.equal(r.onMemory(w as never, 400 * 1048576), false, 'not acted on: the watchdog asks again');
    assert.equal(r.onMemory(w as never, 410 * 1048576), false);
    await settle();
    assert.deepEqual(calls, [], 'never suspended');
    assert.equal(forks.length, 0);
    assert.equal(logger.lines.filter((l) => /once the other workers stop shedding/.test(l)).length, 1, 'said once');
    shedding.others = false;
    assert.equal(r.onMemory(w as never, 420 * 1048576), true);
    for (let i = 0; i < 5 && w!.state !== 'dead'; i++) await settle();
    assert.equal(forks.length, 1, 'recycled now');
  });

  it('a worker that misses its heartbeats is suspended, and resumed when it answers; the agent is left alone', () => {
    const { r, workers, calls, children } = recycler(1);
    r.onUnresponsive(workers[0] as never, 2_600);
    r.onResponsive(workers[0] as never);
    r.onUnresponsive(children.agent as never, 2_600);
    assert.deepEqual(calls, [`suspend ${workers[0]!.pid}`, `resume ${workers[0]!.pid}`]);
  });
});

describe("a worker's stop budget", () => {
  it('gives requests all of the stop timeout but a tenth, kept between 1 s and 5 s', () => {
    const budgets = [2_000, 4_000, 10_000, 30_000, 100_000, 500].map(requestBudget);
    assert.deepEqual(budgets, [1_000, 3_000, 9_000, 27_000, 95_000, 0]);
  });
});
