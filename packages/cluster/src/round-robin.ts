import { lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { debuglog } from 'node:util';
import { ClusterErrorCode, ClutchError } from './errors.js';
import type { ListenConfig } from './framework.js';
import type { ListenAddress } from './protocol.js';
import { pickSticky, type StickyMember } from './sticky.js';

const debug = debuglog('clutch:round-robin');

/** A connection as the kernel handed it to the master: the raw TCP (or pipe) handle, not read from. */
export interface RawHandle {
  close(callback?: () => void): void;
  /** A TCP handle's remote address (libuv's getpeername: 0, and `out` filled); pipes have none. */
  getpeername?(out: { address?: string }): number;
}

/** How a listener picks a worker. */
export interface ListenerOptions {
  /** Sticky sessions (sticky.ts): a connection's remote address picks its worker's slot. Asked at each connection. */
  sticky?: () => boolean;
}

/** What the listener needs of a worker. */
export interface ConnectionTarget {
  readonly pid: number;
  /**
   * Hands a connection to the worker. `done` runs once it is written to the worker's channel — the
   * worker holds its own descriptor from then on — or with an error if it could not be sent.
   */
  sendConnection(handle: RawHandle, done: (err: Error | null) => void): void;
}

/** Connections handed to one worker and not yet written to its channel; past this it is skipped. */
const MAX_UNSENT = 4;
/** How long a connection may wait in the master for a worker (while every worker slot is being replaced), ms. */
export const QUEUE_WAIT_MS = 10_000;
/** How many connections may wait in the master at once; beyond it the oldest is closed. */
const MAX_QUEUED = 8_192;

interface Waiting {
  handle: RawHandle;
  since: number;
}

type NativeServerHandle = { onconnection: (err: number, handle: RawHandle | undefined) => void };

/** True when `path` is a unix socket that refuses connections: no process listens on it. */
async function staleSocket(path: string): Promise<boolean> {
  try {
    // bigint: a plain lstat of a socket would mislead Node 20's realpathSync cache (see log-sink.ts).
    if (!lstatSync(path, { bigint: true }).isSocket()) return false;
  } catch {
    return false;
  }
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

function addressOf(server: Server): ListenAddress {
  const a = server.address();
  if (typeof a === 'string' || a === null) return { address: a ?? '', port: null, family: 'unix' };
  const info = a;
  return { address: info.address, port: info.port, family: info.family === 'IPv6' ? 'IPv6' : 'IPv4' };
}

/**
 * The master's listening socket and its round-robin hand-off, as node:cluster's own
 * round_robin_handle does it — with the two things that one lacks: the socket stays open however
 * many workers die (connections wait here, or in the kernel's backlog, until a worker is back), and
 * a connection is never stranded: the master closes its copy once the connection is written to the
 * worker's channel (a worker that dies holding it takes it down with it, and the client sees the
 * close at once), and what was not written yet goes to another worker.
 *
 * Connections are taken from the server's native handle (`onconnection`), as node:cluster does: a
 * net.Socket per connection in the master costs a third more of its CPU, and the master never reads.
 */
export class RoundRobinListener {
  readonly address: ListenAddress;
  readonly #server: Server;
  readonly #rotation: ConnectionTarget[] = [];
  /** The rotation with each member's slot, in the order they joined (sticky sessions pick by slot). */
  readonly #members: StickyMember<ConnectionTarget>[] = [];
  readonly #sticky: () => boolean;
  /** Members that missed their heartbeats (frozen, blocked): skipped until they answer again. */
  readonly #suspended = new Set<ConnectionTarget>();
  #next = 0;
  /** Per worker, connections handed to it that are not written to its channel yet. */
  readonly #unsent = new Map<ConnectionTarget, Set<RawHandle>>();
  #queue: Waiting[] = [];
  #sweeper: NodeJS.Timeout | null = null;
  #closed = false;

  private constructor(server: Server, options: ListenerOptions) {
    this.#server = server;
    this.#sticky = options.sticky ?? (() => false);
    this.address = addressOf(server);
    const native = (server as unknown as { _handle?: NativeServerHandle })._handle;
    if (!native || typeof native.onconnection !== 'function') {
      throw new ClutchError(ClusterErrorCode.INVALID_OPTION, `This Node.js (${process.version}) has no native server handle to take connections from`);
    }
    native.onconnection = (err, handle) => {
      if (err || !handle) {
        // EMFILE and friends: the kernel keeps the connection in its backlog; try again on the next one.
        debug('accept failed: %d', err);
        return;
      }
      this.#dispatch(handle);
    };
  }

  /**
   * Binds `config` (port 0 takes a free port). Rejects with the system error (EADDRINUSE, EACCES, …).
   * A unix socket file nobody listens on any more (its master was killed) is removed and bound again.
   */
  static async open(config: ListenConfig, options: ListenerOptions = {}): Promise<RoundRobinListener> {
    try {
      return await RoundRobinListener.#bind(config, options);
    } catch (err) {
      if (!config.path || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !(await staleSocket(config.path))) throw err;
      debug('removing the stale socket %s', config.path);
      unlinkSync(config.path);
      return RoundRobinListener.#bind(config, options);
    }
  }

  static #bind(config: ListenConfig, options: ListenerOptions): Promise<RoundRobinListener> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        // A listening server has no other use for 'error'; keep one so it is never an uncaught exception.
        server.on('error', (err) => debug('listener error: %s', err.message));
        try {
          resolve(new RoundRobinListener(server, options));
        } catch (err) {
          server.close();
          reject(err);
        }
      };
      if (config.path) server.listen(config.path, done);
      else if (config.hostname) server.listen(config.port ?? 0, config.hostname, done);
      else server.listen(config.port ?? 0, done);
    });
  }

  /** How many workers are in the rotation and answering (a suspended one is not counted). */
  get members(): number {
    return this.#rotation.length - this.#suspended.size;
  }

  /** A worker that stopped answering gets no new connection until `resume()`; what it holds stays with it. */
  suspend(target: ConnectionTarget): void {
    if (this.#rotation.includes(target)) this.#suspended.add(target);
  }

  resume(target: ConnectionTarget): void {
    if (this.#suspended.delete(target)) this.#drainQueue();
  }

  /** Connections waiting in the master for a worker. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Puts a worker (of `slot`) in the rotation; connections that waited go to it first. */
  add(target: ConnectionTarget, slot = 0): void {
    if (this.#closed || this.#rotation.includes(target)) return;
    this.#rotation.push(target);
    this.#members.push({ target, slot });
    if (!this.#unsent.has(target)) this.#unsent.set(target, new Set());
    this.#drainQueue();
  }

  /** Takes a worker out of the rotation: it gets no new connection (those already sent still reach it). */
  remove(target: ConnectionTarget): void {
    const i = this.#rotation.indexOf(target);
    if (i < 0) return;
    this.#suspended.delete(target);
    this.#rotation.splice(i, 1);
    this.#members.splice(
      this.#members.findIndex((m) => m.target === target),
      1,
    );
    if (this.#next > i) this.#next--;
  }

  /** The worker is gone: what it was handed and never received goes to another worker. */
  targetExited(target: ConnectionTarget): void {
    this.remove(target);
    const set = this.#unsent.get(target);
    this.#unsent.delete(target);
    if (!set || set.size === 0) return;
    // Emptied first: a late write callback of the dead worker must find its handle gone, not close
    // a handle another worker now owns.
    const unsent = [...set];
    set.clear();
    debug('worker %d exited with %d connections not handed over; they go to another worker', target.pid, unsent.length);
    for (const handle of unsent) this.#dispatch(handle);
  }

  /** Stops accepting; connections waiting for a worker are closed. The port is released. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const { handle } of this.#queue) handle.close();
    this.#queue = [];
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }

  #dispatch(handle: RawHandle): void {
    if (this.#closed) {
      handle.close();
      return;
    }
    const target = this.#pick(handle);
    if (target) this.#send(target, handle);
    else this.#enqueue(handle);
  }

  #pick(handle: RawHandle): ConnectionTarget | null {
    return this.#sticky() ? this.#pickSticky(handle) : this.#pickNext();
  }

  /**
   * Sticky: the worker of the address's slot, or of its next-best slot while that one has none in
   * service (sticky.ts). The unsent limit does not apply: moving the address would break its
   * session, and a worker that stops reading its channel is suspended by the watchdog anyway.
   */
  #pickSticky(handle: RawHandle): ConnectionTarget | null {
    const peer: { address?: string } = {};
    const address = handle.getpeername?.(peer) === 0 ? (peer.address ?? '') : '';
    return pickSticky(address, this.#members, (t) => !this.#suspended.has(t));
  }

  /** The next worker in the rotation that is not behind on what it was handed. */
  #pickNext(): ConnectionTarget | null {
    const n = this.#rotation.length;
    for (let i = 0; i < n; i++) {
      const index = (this.#next + i) % n;
      const target = this.#rotation[index]!;
      if (!this.#suspended.has(target) && this.#unsent.get(target)!.size < MAX_UNSENT) {
        this.#next = (index + 1) % n;
        return target;
      }
    }
    return null;
  }

  #send(target: ConnectionTarget, handle: RawHandle): void {
    const unsent = this.#unsent.get(target)!;
    unsent.add(handle);
    target.sendConnection(handle, (err) => {
      // Already given to another worker (this one exited first): not ours to touch any more.
      if (!unsent.delete(handle)) return;
      if (err) {
        debug('could not hand a connection to worker %d: %s', target.pid, err.message);
        this.remove(target);
        this.#dispatch(handle);
        return;
      }
      // The worker's descriptor is in its channel now; the master's copy goes.
      handle.close();
      this.#drainQueue();
    });
  }

  #enqueue(handle: RawHandle): void {
    if (this.#queue.length >= MAX_QUEUED) this.#queue.shift()!.handle.close();
    this.#queue.push({ handle, since: Date.now() });
    this.#sweeper ??= setInterval(() => this.#sweep(), 1_000).unref();
  }

  #drainQueue(): void {
    // Sticky falls back to another slot, so it finds no worker only when none is usable at all: as round-robin.
    while (this.#queue.length > 0) {
      const target = this.#pick(this.#queue[0]!.handle);
      if (!target) return;
      this.#send(target, this.#queue.shift()!.handle);
    }
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }

  /** A connection that waited too long for a worker is closed: the client learns at once, rather than at its own timeout. */
  #sweep(): void {
    const cutoff = Date.now() - QUEUE_WAIT_MS;
    while (this.#queue.length > 0 && this.#queue[0]!.since < cutoff) this.#queue.shift()!.handle.close();
  }
}
