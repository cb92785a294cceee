/**
 * Sticky sessions without workers: the picker on its own, then the master's listener on real
 * sockets on loopback, each client from its own source address (127.0.0.x), handing connections to
 * fake targets that record them; then the broker's refusals of modes where the master does not accept.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { ClusterErrorCode, type ListenConfig } from '@clutch/cluster';
import { ListenBroker } from '../../packages/cluster/src/listen-broker.ts';
import { RoundRobinListener, type ConnectionTarget, type RawHandle } from '../../packages/cluster/src/round-robin.ts';
import { pickSticky, stickySlot } from '../../packages/cluster/src/sticky.ts';
import type { WorkerProcess } from '../../packages/cluster/src/worker-process.ts';
import { FakeWorker } from '../helpers/fake-children.ts';

const addresses = (n: number, prefix = '10.1') => Array.from({ length: n }, (_, i) => `${prefix}.${(i >> 8) & 255}.${i & 255}`);

describe('the sticky picker', () => {
  it('gives an address the same slot every time, and spreads addresses evenly', () => {
    for (const slots of [
      [0, 1],
      [0, 1, 2, 3],
    ]) {
      const count = new Map<number, number>();
      for (const a of addresses(4_000)) {
        const slot = stickySlot(a, slots)!;
        assert.equal(stickySlot(a, slots), slot);
        assert.equal(stickySlot(a, [...slots].reverse()), slot, 'the order of the slots does not matter');
        count.set(slot, (count.get(slot) ?? 0) + 1);
      }
      const even = 4_000 / slots.length;
      for (const slot of slots)
        assert.ok(Math.abs(count.get(slot)! - even) < even * 0.1, `slot ${slot} got ${count.get(slot)} of 4000 over ${slots.length} slots`);
    }
    assert.equal(stickySlot('127.0.0.1', []), null);
    // An IPv4 client on a dual-stack socket (the master listens on :: when no hostname is set) is the same client.
    for (const a of addresses(200)) assert.equal(stickySlot(`::ffff:${a}`, [0, 1, 2]), stickySlot(a, [0, 1, 2]));
    assert.equal(stickySlot('fe80::1', [0, 1]), stickySlot('fe80::1', [1, 0]));
  });

  it('a slot without a worker moves only its own addresses, each to its next-best slot, and gets them back', () => {
    const all = [0, 1, 2, 3];
    for (const a of addresses(2_000)) {
      const home = stickySlot(a, all)!;
      const without2 = stickySlot(a, [0, 1, 3])!;
      if (home !== 2) assert.equal(without2, home, `${a} moved from slot ${home} when slot 2 went away`);
      else assert.notEqual(without2, 2);
    }
  });

  it('one slot more (app scale) moves only the addresses the new slot wins', () => {
    let moved = 0;
    for (const a of addresses(3_000)) {
      const before = stickySlot(a, [0, 1, 2])!;
      const after = stickySlot(a, [0, 1, 2, 3])!;
      if (after !== before) {
        assert.equal(after, 3);
        moved++;
      }
    }
    assert.ok(moved > 600 && moved < 900, `${moved} of 3000 moved to the fourth slot (a quarter is 750)`);
  });

  it('two workers in one slot (a replacement under way): the newer gets the address; a suspended one is passed over', () => {
    const address = addresses(50).find((a) => stickySlot(a, [0, 1]) === 1)!;
    const members = [
      { target: 'old-0', slot: 0 },
      { target: 'old-1', slot: 1 },
      { target: 'new-1', slot: 1 },
    ];
    assert.equal(
      pickSticky(address, members, () => true),
      'new-1',
    );
    assert.equal(
      pickSticky(address, members, (t) => t !== 'new-1'),
      'old-1',
    );
    assert.equal(
      pickSticky(address, members, (t) => t === 'old-0'),
      'old-0',
      'the slot has nobody usable: the next-best slot',
    );
    assert.equal(
      pickSticky(address, members, () => false),
      null,
    );
  });
});

/** Every hand-off to a Target, as ('got', target). */
const handed = new EventEmitter();

/** A worker as the listener sees it: records each connection's source address, writes it at once. */
class Target implements ConnectionTarget {
  static #next = 1;
  readonly pid = Target.#next++;
  readonly from: string[] = [];
  sendConnection(handle: RawHandle, done: (err: Error | null) => void): void {
    const peer: { address?: string } = {};
    handle.getpeername?.(peer);
    this.from.push(peer.address ?? '?');
    queueMicrotask(() => done(null));
    handed.emit('got', this);
  }
}

const clients: Socket[] = [];
const closers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const c of closers.splice(0)) c.close();
});

/** Connects from `localAddress` and resolves with the target that was handed the connection (one of `targets`). */
async function dialFrom(port: number, localAddress: string, targets: Target[]): Promise<Target> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => {});
  clients.push(socket);
  // The master accepts on a later turn of the loop: the listener is in place by then.
  const [got] = (await once(handed, 'got')) as [Target];
  assert.ok(targets.includes(got));
  return got;
}

/** Loopback source addresses, half of them of slot 0 and half of slot 1 of two. */
const LOOPBACK = Array.from({ length: 40 }, (_, i) => `127.0.0.${i + 2}`);
const ofSlot = (slot: number) => LOOPBACK.filter((a) => stickySlot(a, [0, 1]) === slot).slice(0, 3);

describe('the listener with sticky sessions', { timeout: 10_000 }, () => {
  it('connections from one address go to the worker of its slot, and to the successor after a replacement', async () => {
    let sticky = true;
    const listener = await RoundRobinListener.open({ hostname: '127.0.0.1', port: 0 }, { sticky: () => sticky });
    closers.push(listener);
    const port = listener.address.port!;
    const [a, b, c] = [new Target(), new Target(), new Target()];
    listener.add(a, 0);
    listener.add(b, 1);
    for (const slot of [0, 1])
      for (const address of ofSlot(slot)) for (let i = 0; i < 3; i++) assert.equal(await dialFrom(port, address, [a, b, c]), slot === 0 ? a : b, address);

    // c replaces b in slot 1: it listens first (both in the rotation), then b leaves.
    listener.add(c, 1);
    for (const address of ofSlot(1)) assert.equal(await dialFrom(port, address, [a, b, c]), c, `${address} goes to the successor`);
    listener.remove(b);
    for (const address of ofSlot(1)) assert.equal(await dialFrom(port, address, [a, b, c]), c);
    for (const address of ofSlot(0)) assert.equal(await dialFrom(port, address, [a, b, c]), a, 'slot 0 is untouched');

    // Slot 1 has nobody (its worker died): its addresses fall back to slot 0, and return once it serves.
    listener.targetExited(c);
    for (const address of ofSlot(1)) assert.equal(await dialFrom(port, address, [a, b, c]), a, `${address} falls back`);
    const d = new Target();
    listener.add(d, 1);
    for (const address of ofSlot(1)) assert.equal(await dialFrom(port, address, [a, d]), d, `${address} is back in its slot`);
    listener.suspend(d);
    assert.equal(await dialFrom(port, ofSlot(1)[0]!, [a, d]), a, 'a suspended worker is passed over');
    listener.resume(d);

    // Sticky off (a reload changed the config): round-robin again, whatever the address.
    sticky = false;
    const seen = new Set<Target>();
    for (let i = 0; i < 4; i++) seen.add(await dialFrom(port, ofSlot(0)[0]!, [a, d]));
    assert.equal(seen.size, 2);
  });

  it('a connection that waited for a worker (every slot empty) goes to the worker of its slot once there is one', async () => {
    const listener = await RoundRobinListener.open({ hostname: '127.0.0.1', port: 0 }, { sticky: () => true });
    closers.push(listener);
    const port = listener.address.port!;
    for (const address of [...ofSlot(0), ...ofSlot(1)]) {
      const s = connect({ port, host: '127.0.0.1', localAddress: address });
      s.on('error', () => {});
      clients.push(s);
    }
    const deadline = Date.now() + 5_000;
    while (listener.waiting < 6) {
      assert.ok(Date.now() < deadline, `${listener.waiting} of 6 connections waiting`);
      await new Promise((r) => setImmediate(r));
    }
    const [a, b] = [new Target(), new Target()];
    listener.add(b, 1);
    assert.deepEqual(b.from.sort(), [...ofSlot(0), ...ofSlot(1)].sort(), 'the only worker takes them all');
    listener.add(a, 0);
    assert.equal(await dialFrom(port, ofSlot(0)[0]!, [a, b]), a);
  });
});

describe('sticky sessions need the master to accept on TCP', () => {
  const LOCAL: ListenConfig = { hostname: '127.0.0.1', port: 0 };
  const brokerWith = (options: { scheduling?: 'rr' | 'os'; reusePort?: boolean; sticky?: boolean }) =>
    new ListenBroker({
      port: undefined,
      reusePort: options.reusePort,
      scheduling: () => options.scheduling ?? 'rr',
      sticky: () => options.sticky ?? true,
      slotOf: () => 0,
      admits: () => true,
      serving: () => {},
    });

  it("refuses with scheduling 'os', with reusePort and on a unix socket: CLUTCH_ERR_CLUSTER_STICKY_UNSUPPORTED", async () => {
    assert.throws(() => brokerWith({ scheduling: 'os' }).checkSupported(), { code: ClusterErrorCode.STICKY_UNSUPPORTED, message: /scheduling 'os'/ });
    assert.doesNotThrow(() => brokerWith({ scheduling: 'os', sticky: false }).checkSupported());
    assert.doesNotThrow(() => brokerWith({}).checkSupported());
    const cases: Array<[{ scheduling?: 'rr' | 'os'; reusePort?: boolean }, ListenConfig, RegExp]> = [
      [{ scheduling: 'os' }, LOCAL, /scheduling 'os'/],
      [{}, { ...LOCAL, reusePort: true }, /reusePort/],
      [{}, { path: '/tmp/clutch-sticky-never-bound.sock' }, /unix socket/],
    ];
    for (const [options, config, why] of cases) {
      const broker = brokerWith(options);
      const worker = new FakeWorker();
      worker.serve();
      await broker.listen(worker as unknown as WorkerProcess, config);
      const sent = worker.process.sent.at(-1);
      assert.ok(sent?.clutch === 'listen-failed', JSON.stringify(sent));
      assert.equal(sent.error.code, ClusterErrorCode.STICKY_UNSUPPORTED);
      assert.match(sent.error.message, why);
      broker.closeAll();
    }
  });
});
