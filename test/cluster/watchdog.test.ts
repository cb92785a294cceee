/** The watchdog, without processes: fake children, its monotonic clock in the test's hand, each look (check) called by the test. */
import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import type { HeartbeatMessage } from '@clutch/cluster';
import type { ChildHandle } from '../../packages/cluster/src/child-handle.ts';
import { Watchdog, type WatchdogOptions } from '../../packages/cluster/src/watchdog.ts';
import { FakeAgent, FakeWorker } from '../helpers/fake-children.ts';

const MB = 1024 * 1024;

function beat(rss = 50 * MB, cpuMicros = 0): HeartbeatMessage {
  return { clutch: 'heartbeat', cpu: { user: cpuMicros, system: 0 }, rss, heapUsed: 10 * MB, heapTotal: 20 * MB, loop: { mean: 1, p99: 2, max: 3 } };
}

function serving(): FakeWorker {
  const w = new FakeWorker();
  w.serve();
  return w;
}

/** A watchdog on a clock the test moves, recording what it reports. */
function watchdog(options: Partial<WatchdogOptions> = {}) {
  let now = 1_000;
  const said: string[] = [];
  const dog = new Watchdog({
    stallTimeout: 2_000,
    maxMemory: undefined,
    now: () => now,
    onStall: (h: ChildHandle, ms: number) => said.push(`stall ${h.pid} ${ms}`),
    onMemory: (h: ChildHandle, rss: number) => said.push(`memory ${h.pid} ${rss}`) > 0,
    onUnresponsive: (h: ChildHandle, ms: number) => said.push(`unresponsive ${h.pid} ${ms}`),
    onResponsive: (h: ChildHandle) => said.push(`responsive ${h.pid}`),
    ...options,
  });
  dogs.push(dog);
  /** Lets `ms` pass on the master's clock, one look every `every` ms (the real timer looks every 250 ms). */
  const pass = (ms: number, every = 250) => {
    for (let t = 0; t < ms; t += every) {
      now += Math.min(every, ms - t);
      dog.check();
    }
  };
  return { dog, said, pass, jump: (ms: number) => (now += ms) };
}

const dogs: Watchdog[] = [];
afterEach(() => {
  for (const d of dogs.splice(0)) d.stop();
  mock.timers.reset();
});

describe('the watchdog', () => {
  it('beats as often as a quarter of the stall timeout, 50 ms to 1 s; 1 s with stall detection off', () => {
    const periods = [30_000, 2_000, 400, 100, 0].map((stallTimeout) => watchdog({ stallTimeout }).dog.heartbeatMs);
    assert.deepEqual(periods, [1_000, 500, 100, 50, 1_000]);
  });

  it('reports a booted process silent past the stall timeout as stalled, once', () => {
    const { dog, said, pass } = watchdog();
    const worker = serving();
    dog.watch(worker);
    pass(2_000);
    assert.deepEqual(
      said.filter((s) => s.startsWith('stall')),
      [],
      'not before the timeout',
    );
    pass(250);
    assert.deepEqual(
      said.filter((s) => s.startsWith('stall')),
      [`stall ${worker.pid} 2250`],
    );
    assert.equal(dog.vitals(worker)?.flagged, 'stalled');
    pass(5_000);
    assert.equal(said.filter((s) => s.startsWith('stall')).length, 1, 'acted on once');
  });

  it('a process that beats is never stalled, however long it runs', () => {
    const { dog, said, pass } = watchdog();
    const agent = new FakeAgent();
    agent.booted();
    dog.watch(agent);
    for (let i = 0; i < 40; i++) {
      pass(500);
      dog.beat(agent, beat());
    }
    assert.deepEqual(said, []);
    assert.equal(dog.vitals(agent)?.silentMs, 0);
  });

  it('a process that missed two and a half heartbeats is unresponsive until its next one', () => {
    const { dog, said, pass } = watchdog();
    const worker = serving();
    dog.watch(worker);
    // stallTimeout 2 s: a heartbeat every 500 ms, unresponsive past 1250 ms of silence.
    pass(1_250);
    assert.deepEqual(said, []);
    pass(250);
    assert.deepEqual(said, [`unresponsive ${worker.pid} 1500`]);
    assert.equal(dog.vitals(worker)?.responsive, false);
    dog.beat(worker, beat());
    assert.deepEqual(said, [`unresponsive ${worker.pid} 1500`, `responsive ${worker.pid}`]);
    assert.equal(dog.vitals(worker)?.responsive, true);
    assert.equal(dog.vitals(worker)?.silentMs, 0);
  });

  it('time the master itself did not run is nobody silence: one look counts at most 1 s', () => {
    const { dog, said, pass, jump } = watchdog();
    const worker = serving();
    dog.watch(worker);
    // The master was frozen for a minute (SIGSTOP, a paused VM); the worker's beats wait unread.
    jump(60_000);
    dog.check();
    assert.deepEqual(said, [], 'not stalled, not even unresponsive, on the resume');
    assert.equal(dog.vitals(worker)?.silentMs, 1_000);
    // Silence the master sees awake still counts.
    pass(1_250);
    assert.deepEqual(said, [`unresponsive ${worker.pid} 1500`, `stall ${worker.pid} 2250`]);
  });

  it('watches only from the end of the boot, and never a process that is leaving', () => {
    const { dog, said, pass } = watchdog();
    const booting = new FakeWorker();
    dog.beat(booting, beat());
    assert.equal(dog.vitals(booting)?.silentMs, null, 'beats before the boot only feed the figures');
    const retired = serving();
    dog.watch(retired);
    retired.retire();
    const stopping = serving();
    dog.watch(stopping);
    stopping.orderStop({ clutch: 'stop', reason: 'stop', timeout: 1_000 });
    const forgotten = serving();
    dog.watch(forgotten);
    dog.forget(forgotten);
    pass(10_000);
    assert.deepEqual(said, []);
    assert.equal(dog.vitals(forgotten), undefined);
  });

  it('stall detection off (stallTimeout 0) still tells an unresponsive process, never a stalled one', () => {
    const { dog, said, pass } = watchdog({ stallTimeout: 0 });
    const worker = serving();
    dog.watch(worker);
    pass(60_000);
    assert.deepEqual(said, [`unresponsive ${worker.pid} 2750`]);
  });

  it('a worker over maxMemory for three heartbeats in a row is reported once; a spike is not', () => {
    const { dog, said } = watchdog({ maxMemory: 100 * MB });
    const spiky = serving();
    const leaky = serving();
    dog.watch(spiky);
    dog.watch(leaky);
    for (const rss of [150, 150, 90, 150, 150, 90]) dog.beat(spiky, beat(rss * MB));
    for (const rss of [150, 160, 170, 180, 190]) dog.beat(leaky, beat(rss * MB));
    assert.deepEqual(said, [`memory ${leaky.pid} ${170 * MB}`]);
    assert.equal(dog.vitals(leaky)?.flagged, 'memory');
    assert.equal(dog.vitals(spiky)?.overMemory, 0);
  });

  it('the memory limit is a worker limit: the agent and a retired worker are never reported', () => {
    const { dog, said } = watchdog({ maxMemory: 100 * MB });
    const agent = new FakeAgent();
    agent.booted();
    dog.watch(agent);
    const retired = serving();
    dog.watch(retired);
    retired.retire();
    for (let i = 0; i < 5; i++) {
      dog.beat(agent, beat(500 * MB));
      dog.beat(retired, beat(500 * MB));
    }
    assert.deepEqual(said, []);
  });

  it('configure() changes the limits in force: the project config arrives with the agent', () => {
    const { dog, said, pass } = watchdog({ stallTimeout: 30_000 });
    const worker = serving();
    dog.watch(worker);
    dog.configure({ stallTimeout: 1_000, maxMemory: 100 * MB });
    assert.equal(dog.stallTimeout, 1_000);
    assert.equal(dog.heartbeatMs, 250);
    for (let i = 0; i < 3; i++) dog.beat(worker, beat(200 * MB));
    assert.deepEqual(said, [`memory ${worker.pid} ${200 * MB}`]);
    const other = serving();
    dog.watch(other);
    pass(1_250);
    assert.ok(said.includes(`stall ${other.pid} 1250`), said.join('\n'));
    dog.configure({ maxMemory: undefined });
    const third = serving();
    dog.watch(third);
    for (let i = 0; i < 5; i++) dog.beat(third, beat(900 * MB));
    assert.ok(!said.some((s) => s.startsWith(`memory ${third.pid}`)), 'no limit, no report');
  });

  it('CPU use is the CPU time between two heartbeats over the wall time between them', () => {
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const { dog } = watchdog();
    const worker = serving();
    dog.watch(worker);
    dog.beat(worker, beat(MB, 0));
    mock.timers.tick(1_000);
    // 250 ms of CPU in 1 s of wall time: a quarter of one core.
    dog.beat(worker, beat(MB, 250_000));
    assert.equal(dog.vitals(worker)?.cpuPercent, 25);
  });
});
