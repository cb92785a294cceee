/**
 * The master's listening sockets and their round-robin hand-off, without workers: real sockets on
 * 127.0.0.1, real client connections, and fake targets that record what they are handed.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { Listeners } from '../../packages/cluster/src/listeners.ts';
import { RoundRobinListener, type ConnectionTarget, type RawHandle } from '../../packages/cluster/src/round-robin.ts';

const LOCAL = { hostname: '127.0.0.1', port: 0 };

/**
 * A worker as the listener sees it. `write`: the connection is written to its channel at once (the
 * master then closes its copy); `hold`: it never is (a worker behind on its channel); `fail`: the
 * channel is closed.
 */
class Target extends EventEmitter implements ConnectionTarget {
  static #next = 1;
  readonly pid = Target.#next++;
  readonly got: RawHandle[] = [];
  /** What it holds and never wrote ('hold'): closed by the test, as a dead worker's would be. */
  readonly held: RawHandle[] = [];
  readonly mode: 'write' | 'hold' | 'fail';
  constructor(mode: 'write' | 'hold' | 'fail' = 'write') {
    super();
    this.mode = mode;
  }
  sendConnection(handle: RawHandle, done: (err: Error | null) => void): void {
    if (this.mode === 'fail') {
      queueMicrotask(() => done(new Error('channel closed')));
      return;
    }
    this.got.push(handle);
    if (this.mode === 'write') queueMicrotask(() => done(null));
    else {
      held.add(this);
      this.held.push(handle);
    }
    this.emit('got');
  }
}

/** Who was handed each connection, in order. */
function handOffs(...targets: Target[]): string[] {
  const seen: string[] = [];
  for (const [i, t] of targets.entries()) t.on('got', () => seen.push('ABCD'[i]!));
  return seen;
}

const clients: Socket[] = [];
const closers: Array<{ close(): void }> = [];
const held = new Set<Target>();
afterEach(() => {
  for (const t of held) for (const h of t.held.splice(0)) h.close();
  held.clear();
  for (const c of clients.splice(0)) c.destroy();
  for (const c of closers.splice(0)) c.close();
});

function dial(port: number | null): Socket {
  const socket = connect(port!, '127.0.0.1');
  socket.on('error', () => {});
  clients.push(socket);
  return socket;
}

/** Opens `n` connections to `port` and resolves once `targets` together were handed `n` more. */
async function handOver(port: number | null, n: number, ...targets: Target[]): Promise<void> {
  const total = () => targets.reduce((sum, t) => sum + t.got.length, 0);
  const want = total() + n;
  for (let i = 0; i < n; i++) {
    dial(port);
    // One at a time: the order of arrival is the order of hand-off.
    while (total() < want - (n - i - 1)) await Promise.race(targets.map((t) => once(t, 'got')));
  }
}

/** Waits (a turn of the loop at a time) until `cond` holds; throws past 5 s, so a broken listener fails rather than spins. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}

async function refused(port: number | null): Promise<boolean> {
  const socket = connect(port!, '127.0.0.1');
  const outcome = await new Promise<string | undefined>((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });
  socket.destroy();
  return outcome === 'ECONNREFUSED';
}

async function open(): Promise<RoundRobinListener> {
  const listener = await RoundRobinListener.open(LOCAL);
  closers.push(listener);
  return listener;
}

describe('the round-robin listener', { timeout: 10_000 }, () => {
  it('hands connections to its members in turn', async () => {
    const listener = await open();
    const [a, b] = [new Target(), new Target()];
    const seen = handOffs(a, b);
    listener.add(a);
    listener.add(b);
    assert.equal(listener.members, 2);
    await handOver(listener.address.port, 4, a, b);
    assert.deepEqual(seen, ['A', 'B', 'A', 'B']);
  });

  it('skips a suspended member until it is resumed', async () => {
    const listener = await open();
    const [a, b] = [new Target(), new Target()];
    const seen = handOffs(a, b);
    listener.add(a);
    listener.add(b);
    listener.suspend(b);
    assert.equal(listener.members, 1);
    await handOver(listener.address.port, 3, a, b);
    assert.deepEqual(seen, ['A', 'A', 'A']);
    listener.resume(b);
    await handOver(listener.address.port, 2, a, b);
    assert.deepEqual(seen.slice(3).sort(), ['A', 'B']);
  });

  it('keeps connections waiting while it has no member, and hands them to the first that joins', async () => {
    const listener = await open();
    dial(listener.address.port);
    dial(listener.address.port);
    await until(() => listener.waiting >= 2, '2 connection(s) wait');
    const a = new Target();
    const arrived = once(a, 'got');
    listener.add(a);
    await arrived;
    assert.equal(a.got.length, 2);
    assert.equal(listener.waiting, 0);
  });

  it('a member whose channel fails is taken out, and the connection goes to the next', async () => {
    const listener = await open();
    const [broken, b] = [new Target('fail'), new Target()];
    listener.add(broken);
    listener.add(b);
    await handOver(listener.address.port, 1, b);
    assert.equal(listener.members, 1, 'the broken member left the rotation');
    await handOver(listener.address.port, 2, b);
    assert.equal(b.got.length, 3);
  });

  it('a member behind on its channel is skipped; when it exits, what it never received goes to another', async () => {
    const listener = await open();
    const [slow, b] = [new Target('hold'), new Target()];
    const seen = handOffs(slow, b);
    listener.add(slow);
    listener.add(b);
    listener.suspend(b);
    // Four unsent connections is as far behind as a member may be: the fifth waits.
    await handOver(listener.address.port, 4, slow);
    dial(listener.address.port);
    await until(() => listener.waiting >= 1, '1 connection(s) wait');
    listener.resume(b);
    assert.deepEqual(seen, ['A', 'A', 'A', 'A', 'B']);
    // What a dead worker held and never received is the master's again: it is handed on, not closed.
    slow.held.length = 0;
    await new Promise((r) => setImmediate(r)); // B's channel took the fifth: it may be handed four more
    listener.targetExited(slow);
    assert.deepEqual(seen.slice(5), ['B', 'B', 'B', 'B'], 'the four it held were handed to B');
    assert.equal(listener.members, 1);
  });

  it('close() ends the waiting connections at once and releases the port', async () => {
    const listener = await open();
    const waiting = dial(listener.address.port);
    await until(() => listener.waiting >= 1, '1 connection(s) wait');
    const ended = once(waiting, 'close');
    listener.close();
    await ended;
    assert.equal(await refused(listener.address.port), true);
  });
});

describe('the listeners', { timeout: 10_000 }, () => {
  it('workers that ask for the same address share one socket', async () => {
    const listeners = new Listeners();
    closers.push({ close: () => listeners.closeAll() });
    const [a, b] = [new Target(), new Target()];
    const [first, second] = await Promise.all([listeners.join(a, LOCAL, () => true), listeners.join(b, LOCAL, () => true)]);
    assert.equal(first.port, second.port);
    assert.equal(listeners.inRotation(), 2);
    const seen = handOffs(a, b);
    await handOver(first.port, 2, a, b);
    assert.deepEqual(seen.sort(), ['A', 'B']);
  });

  it('a worker not admitted (a stop came meanwhile) is not put in rotation; closeAll still closes its socket', async () => {
    const listeners = new Listeners();
    closers.push({ close: () => listeners.closeAll() });
    const a = new Target();
    const address = await listeners.join(a, LOCAL, () => false);
    assert.equal(listeners.inRotation(), 0);
    dial(address.port);
    await until(() => listeners.waiting() >= 1, '1 connection(s) wait');
    assert.equal(a.got.length, 0);
    listeners.closeAll();
    assert.equal(await refused(address.port), true);
  });

  it('a failed bind is not remembered: the next worker binds again', async () => {
    const taken: Server = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as { port: number }).port;
    const listeners = new Listeners();
    closers.push({ close: () => listeners.closeAll() });
    await assert.rejects(
      listeners.join(new Target(), { hostname: '127.0.0.1', port }, () => true),
      { code: 'EADDRINUSE' },
    );
    taken.close();
    await once(taken, 'close');
    const address = await listeners.join(new Target(), { hostname: '127.0.0.1', port }, () => true);
    assert.equal(address.port, port);
  });

  it('a socket no worker uses once another is in use (a reload moved the address) is closed', async () => {
    const listeners = new Listeners();
    closers.push({ close: () => listeners.closeAll() });
    const [old, moved] = [new Target(), new Target()];
    const before = await listeners.join(old, LOCAL, () => true);
    const after = await listeners.join(moved, { hostname: '127.0.0.1', port: await freePort() }, () => true);
    assert.notEqual(before.port, after.port);
    assert.equal(await refused(before.port), false, 'open while its worker serves');
    listeners.exited(old);
    assert.equal(await refused(before.port), true, 'closed once its last worker is gone');
    assert.equal(listeners.inRotation(), 1);
  });

  it('closeAll() during a bind closes that socket once it is bound', async () => {
    const listeners = new Listeners();
    const joining = listeners.join(new Target(), LOCAL, () => true);
    listeners.closeAll();
    const address = await joining;
    assert.equal(await refused(address.port), true);
    assert.equal(listeners.inRotation(), 0);
  });

  it('leave() takes a worker out of rotation; exited() forgets it', async () => {
    const listeners = new Listeners();
    closers.push({ close: () => listeners.closeAll() });
    const [a, b] = [new Target(), new Target()];
    const address = await listeners.join(a, LOCAL, () => true);
    await listeners.join(b, LOCAL, () => true);
    listeners.leave(a);
    assert.equal(listeners.inRotation(), 1);
    await handOver(address.port, 2, a, b);
    assert.equal(a.got.length, 0);
    listeners.suspend(b);
    assert.equal(listeners.inRotation(), 0);
    listeners.resume(b);
    listeners.exited(b);
    assert.equal(listeners.inRotation(), 0);
  });
});
