import cluster from 'node:cluster';
import { ChildProcessHandle } from './child-handle.js';
import type { MasterMessage } from './protocol.js';
import type { ConnectionTarget, RawHandle } from './round-robin.js';

/**
 * The master's handle on one app worker: a node:cluster fork (user code that checks
 * `cluster.isWorker` sees what it expects), which serves the connections the master's listening
 * socket accepts and hands it. `cluster.setupPrimary` must have pointed at the worker entry.
 */
export class WorkerProcess extends ChildProcessHandle implements ConnectionTarget {
  readonly role = 'worker' as const;
  protected readonly bootedAt = 'listening';
  /** Forked by a reload and not in service yet: a death is the reload's failure, not a crash. */
  #candidate: boolean;
  #preloaded!: () => void;
  /**
   * A worker of the start (forked gated) has loaded its modules and waits for its release; settles
   * (never rejects) when it asked, or when it died before (its boot says why).
   */
  readonly loaded: Promise<void>;

  constructor(env: NodeJS.ProcessEnv, candidate = false) {
    const worker = cluster.fork(env);
    super(worker.process, worker);
    this.#candidate = candidate;
    this.loaded = new Promise<void>((resolve) => {
      this.#preloaded = resolve;
      void this.exited.then(() => resolve());
    });
  }

  /** The worker said its modules are loaded (`preloaded`); one ordered to stop meanwhile may have missed the order while it linked them: it goes again. */
  preloaded(): void {
    if (this.state === 'stopping') this.resendStop();
    this.#preloaded();
  }

  get candidate(): boolean {
    return this.#candidate;
  }

  /** A reload's candidate is put in service. */
  admit(): void {
    this.#candidate = false;
  }

  /** In service: not a candidate, not retired, not stopping or gone. */
  get inService(): boolean {
    return !this.#candidate && !this.retired && this.state !== 'stopping' && this.state !== 'dead';
  }

  /** Sends a message with a socket (a raw handle, kept open here: the master holds its own copy). */
  sendWithHandle(message: MasterMessage, handle: RawHandle): boolean {
    return this.sendHandle(message, handle);
  }

  sendConnection(handle: RawHandle, done: (err: Error | null) => void): void {
    // A raw handle (net.Native): no net.Socket is built around it in the master.
    if (!this.sendHandle({ clutch: 'connection' }, handle, done)) queueMicrotask(() => done(new Error(`the channel to worker ${this.pid} is closed`)));
  }
}
