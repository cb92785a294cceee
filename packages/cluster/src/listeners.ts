import type { ListenConfig } from './framework.js';
import type { ListenAddress } from './protocol.js';
import { RoundRobinListener, type ConnectionTarget, type ListenerOptions } from './round-robin.js';

function keyOf(config: ListenConfig): string {
  return config.path ? `unix:${config.path}` : `${config.hostname ?? ''}:${config.port ?? 0}`;
}

/**
 * The master's listening sockets, one per address the workers ask for. Workers that ask for the
 * same address share one socket, bound by the first (so `--port 0` takes one free port for all).
 * A socket stays open while the cluster runs, even with no worker in it — unless a reload moved the
 * workers to another address, which then supersedes it.
 */
export class Listeners {
  readonly #opening = new Map<string, Promise<RoundRobinListener>>();
  /** Sockets a worker has joined (a socket still being bound is not here, so it cannot be taken for unused). */
  readonly #open = new Map<string, RoundRobinListener>();
  readonly #of = new Map<ConnectionTarget, RoundRobinListener>();
  #closed = false;
  readonly #options: ListenerOptions;

  /** `options` go to every socket (sticky sessions). */
  constructor(options: ListenerOptions = {}) {
    this.#options = options;
  }

  /** Binds the address if no worker did yet, and puts `target` (of `slot`) in its rotation once `admit()` says it may still join. */
  async join(target: ConnectionTarget, config: ListenConfig, admit: () => boolean, slot = 0): Promise<ListenAddress> {
    const key = keyOf(config);
    let opening = this.#opening.get(key);
    if (!opening) {
      opening = RoundRobinListener.open(config, this.#options);
      this.#opening.set(key, opening);
      // A failed bind is not remembered: the next worker tries again.
      opening.catch(() => this.#opening.delete(key));
    }
    const listener = await opening;
    if (this.#closed) {
      listener.close();
      return listener.address;
    }
    // Known from now on, even if this worker is not admitted: closeAll() must find it.
    this.#open.set(key, listener);
    if (admit()) {
      listener.add(target, slot);
      this.#of.set(target, listener);
      this.#closeSuperseded();
    }
    return listener.address;
  }

  /** Takes a worker out of its rotation (it is about to drain). */
  leave(target: ConnectionTarget): void {
    this.#of.get(target)?.remove(target);
  }

  /** The worker stopped answering (missed heartbeats): no new connection for it, until `resume()`. */
  suspend(target: ConnectionTarget): void {
    this.#of.get(target)?.suspend(target);
  }

  resume(target: ConnectionTarget): void {
    this.#of.get(target)?.resume(target);
  }

  /** The worker exited: its rotation forgets it and re-routes what it never received. */
  exited(target: ConnectionTarget): void {
    const listener = this.#of.get(target);
    this.#of.delete(target);
    listener?.targetExited(target);
    this.#closeSuperseded();
  }

  /** Workers in a rotation and answering, over every socket. */
  inRotation(): number {
    let n = 0;
    for (const listener of this.#open.values()) n += listener.members;
    return n;
  }

  /** How many connections wait in the master for a worker, across every socket. */
  waiting(): number {
    let n = 0;
    for (const listener of this.#open.values()) n += listener.waiting;
    return n;
  }

  /** Closes every socket: the cluster is stopping. A bind still under way closes once it is done. */
  closeAll(): void {
    this.#closed = true;
    for (const listener of this.#open.values()) listener.close();
    this.#open.clear();
    this.#opening.clear();
  }

  /** A socket no worker uses any more while another one is in use (a reload changed the address) is closed. */
  #closeSuperseded(): void {
    const inUse = new Set(this.#of.values());
    if (inUse.size === 0) return;
    for (const [key, listener] of this.#open) {
      if (inUse.has(listener)) continue;
      listener.close();
      this.#open.delete(key);
      this.#opening.delete(key);
    }
  }
}
