/** The leader elector on an injected clock and an in-memory store: milliseconds, no processes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeaderElector, type Clock, type LeaseStore, type LeaderOptions } from '@clutch/core';

/** Time that moves only when the test says so; timers fire in order as it does. */
class FakeClock implements Clock {
  t = 0;
  #timers: Array<{ at: number; fn: () => void; id: number }> = [];
  #id = 0;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.#id;
    this.#timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.#timers = this.#timers.filter((x) => x.id !== id);
  };
  /** Moves time forward by `ms`, running each timer when its time comes, and letting promises settle in between. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers[0];
      if (!next || next.at > end) break;
      this.#timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
    await new Promise((r) => setImmediate(r));
  }
}

/** A lease store in memory, on the same clock; a partition makes one holder's calls hang. */
class MemoryStore implements LeaseStore {
  readonly kind = 'memory';
  holder: string | null = null;
  token = 0;
  expires = 0;
  readonly cutOff = new Set<string>();
  readonly claimed = new Set<number>();
  readonly clock: FakeClock;
  constructor(clock: FakeClock) {
    this.clock = clock;
  }
  #reach(holder: string): Promise<void> {
    return this.cutOff.has(holder) ? new Promise(() => {}) : Promise.resolve();
  }
  async acquire(_name: string, holder: string, ttl: number) {
    await this.#reach(holder);
    const now = this.clock.now();
    if (this.holder === holder && this.expires > now) {
      this.expires = now + ttl;
      return { acquired: true, token: this.token };
    }
    if (this.holder === null || this.expires <= now) {
      this.holder = holder;
      this.token++;
      this.expires = now + ttl;
      return { acquired: true, token: this.token };
    }
    return { acquired: false, token: this.token };
  }
  async release(_name: string, holder: string) {
    await this.#reach(holder);
    if (this.holder === holder) this.holder = null;
  }
  async claimTick(_name: string, holder: string, token: number, _schedule: string, tick: number) {
    await this.#reach(holder);
    if (this.holder !== holder || this.token !== token || this.expires <= this.clock.now() || this.claimed.has(tick)) return false;
    this.claimed.add(tick);
    return true;
  }
  async close() {}
}

const OPTIONS: LeaderOptions = { store: 'local', name: 'unit', ttl: 1_500, renewDeadline: 1_000, retryPeriod: 200 };

describe('LeaderElector', () => {
  it('is elected on its first attempt, renews every retry period and keeps its token', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore(clock);
    const a = new LeaderElector(store, OPTIONS, 'a', clock);
    const events: string[] = [];
    a.on('elected', (t) => events.push(`elected ${t}`)).on('lost', () => events.push('lost'));
    a.start();
    await clock.advance(10);
    assert.deepEqual(events, ['elected 1']);
    await clock.advance(5_000);
    assert.equal(a.isLeader, true);
    assert.equal(a.token, 1);
    assert.equal(store.expires, clock.now() - (clock.now() % 200) + 1_500, 'renewed at the last retry');
    assert.deepEqual(events, ['elected 1']);
  });

  it('steps down within its renew deadline when renewals hang — before the lease can lapse — and never leads beside another', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore(clock);
    const a = new LeaderElector(store, OPTIONS, 'a', clock);
    const b = new LeaderElector(store, OPTIONS, 'b', clock);
    a.start();
    await clock.advance(10);
    b.start();
    await clock.advance(1_000);
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);
    store.cutOff.add('a');
    const cutAt = clock.now();
    let lostAt = -1;
    a.on('lost', () => (lostAt = clock.now()));
    let bElectedAt = -1;
    b.on('elected', () => (bElectedAt = clock.now()));
    for (let i = 0; i < 300; i++) {
      await clock.advance(10);
      assert.ok(!(a.isLeader && b.isLeader), `both lead at ${clock.now()}`);
    }
    assert.ok(lostAt > 0 && lostAt - cutAt <= OPTIONS.renewDeadline, `a stepped down ${lostAt - cutAt}ms after the cut`);
    assert.ok(bElectedAt >= lostAt, 'b leads only after a stepped down');
    assert.equal(b.token, 2, 'a new holder, a new token');
  });

  it('a leader woken past its deadline reports lost before anything else, and its tick claims are refused', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore(clock);
    const a = new LeaderElector(store, OPTIONS, 'a', clock);
    a.start();
    await clock.advance(10);
    assert.equal(await a.claimTick('s', 300), true);
    // A pause: time jumps past the deadline with no timer having run.
    clock.t += 2_000;
    assert.equal(await a.claimTick('s', 600), false);
    assert.equal(a.isLeader, false);
  });

  it('releases the lease on stop, so another takes over within a retry period', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore(clock);
    const a = new LeaderElector(store, OPTIONS, 'a', clock);
    const b = new LeaderElector(store, OPTIONS, 'b', clock);
    a.start();
    await clock.advance(10);
    b.start();
    await clock.advance(500);
    const stop = a.stop();
    await clock.advance(10);
    await stop;
    const stoppedAt = clock.now();
    let electedAt = -1;
    b.on('elected', () => (electedAt = clock.now()));
    await clock.advance(1_000);
    assert.ok(electedAt > 0 && electedAt - stoppedAt <= OPTIONS.retryPeriod, `b took over ${electedAt - stoppedAt}ms after the release`);
  });

  it('a store that fails is reported once per outage, and a leader steps down only at its deadline', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore(clock);
    let failing = false;
    const acquire = store.acquire.bind(store);
    store.acquire = async (...args) => {
      if (failing) throw new Error('connection refused');
      return acquire(...args);
    };
    const a = new LeaderElector(store, OPTIONS, 'a', clock);
    const seen: string[] = [];
    a.on('storeError', () => seen.push('error'))
      .on('storeBack', () => seen.push('back'))
      .on('lost', () => seen.push('lost'));
    a.start();
    await clock.advance(10);
    failing = true;
    await clock.advance(800);
    assert.equal(a.isLeader, true, 'not on the first failure');
    await clock.advance(400);
    assert.equal(a.isLeader, false);
    failing = false;
    await clock.advance(2_000);
    assert.deepEqual(seen, ['error', 'lost', 'back']);
    assert.equal(a.isLeader, true);
  });
});
