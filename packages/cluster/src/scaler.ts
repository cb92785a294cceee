import { availableParallelism } from 'node:os';
import type { Children } from './children.js';
import { ClusterErrorCode, ClutchError } from './errors.js';
import type { Logger } from './logger.js';
import type { MasterState } from './master.js';
import type { Stopper } from './stopper.js';
import { withTimeout } from './with-timeout.js';
import type { WorkerProcess } from './worker-process.js';

/** What scaling needs of the master. */
export interface ScaleHost {
  readonly logger: Logger;
  readonly children: Children;
  /** The one way a worker is retired: out of the rotation, drained, not replaced (stopper.ts). */
  readonly stopper: Stopper;
  /** How long a new worker may take to listen, ms. */
  readonly bootTimeout: number;
  state(): MasterState;
  url(): string;
  /** True while a reload runs: scaling then waits for none, it is refused. */
  reloading(): boolean;
  /** True when each slot has its own SO_REUSEPORT socket (a slot's queue cannot be handed to another). */
  perSlotSockets(): boolean;
}

/** What `app scale` answers. */
export interface ScaleResult {
  /** The worker count before and after. */
  from: number;
  to: number;
  /** Pids of the workers started and of those retired. */
  added: number[];
  retired: number[];
  ms: number;
}

/** The default upper bound of `app scale`: four workers per CPU, and never fewer than the start's count. */
export function defaultMaxWorkers(workers: number): number {
  return Math.max(workers, 4 * availableParallelism());
}

/**
 * Changes the number of worker slots while the cluster runs. Up: a new worker per new slot, in
 * service once it listens (as a reload's new worker: it takes connections only then). Down: the
 * workers of the highest slots are retired by the Stopper — out of the rotation first, then drained,
 * as in a reload — so no request is lost. The count is the master's from then on: a reload replaces
 * the slots that exist, and supervision does not refork a slot scaled away.
 */
export class Scaler {
  readonly #host: ScaleHost;
  readonly #max: number;
  #count: number;
  #running = false;

  constructor(host: ScaleHost, workers: number, maxWorkers: number) {
    this.#host = host;
    this.#count = workers;
    this.#max = maxWorkers;
  }

  /** The number of worker slots the cluster keeps. */
  get count(): number {
    return this.#count;
  }

  get max(): number {
    return this.#max;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Whether `slot` is one the cluster keeps (supervision reforks only those). */
  keeps(slot: number): boolean {
    return slot < this.#count;
  }

  async scale(to: number): Promise<ScaleResult> {
    if (!Number.isSafeInteger(to) || to < 1 || to > this.#max)
      throw new ClutchError(
        ClusterErrorCode.SCALE_OUT_OF_RANGE,
        `Cannot scale to ${JSON.stringify(to)} workers: the count must be an integer from 1 to ${this.#max} (maxWorkers; --max-workers at the start)`,
      );
    const state = this.#host.state();
    if (state !== 'ready') throw new ClutchError(ClusterErrorCode.SCALE_REFUSED, `Cannot scale while the cluster is ${state}`);
    if (this.#host.reloading()) throw new ClutchError(ClusterErrorCode.SCALE_REFUSED, 'Cannot scale while a reload runs; try again once it is done');
    if (this.#running) throw new ClutchError(ClusterErrorCode.SCALE_REFUSED, 'Another scale is running');
    // With SO_REUSEPORT the kernel queues connections per slot's socket: a slot scaled away would
    // strand the connections already in its queue.
    if (to < this.#count && this.#host.perSlotSockets())
      throw new ClutchError(
        ClusterErrorCode.SCALE_REFUSED,
        'Cannot scale down with --reuse-port: each slot has its own socket and queue, whose waiting connections would be lost',
      );
    this.#running = true;
    const began = Date.now();
    const from = this.#count;
    try {
      const result = to > from ? await this.#up(from, to) : await this.#down(to);
      this.#host.logger.info('scaled from %d to %d workers in %dms', from, to, Date.now() - began);
      return { from, to, ...result, ms: Date.now() - began };
    } finally {
      this.#running = false;
    }
  }

  /** New slots from..to-1, each with a worker that listens before the count changes. */
  async #up(from: number, to: number): Promise<{ added: number[]; retired: number[] }> {
    const { children, bootTimeout } = this.#host;
    // Candidates: a death while booting is the scale's failure, not a crash to replace.
    const fresh = Array.from({ length: to - from }, (_, i) => children.forkWorker(from + i, true));
    try {
      await Promise.all(
        fresh.map((w) =>
          withTimeout(
            w.boot.promise,
            bootTimeout,
            () => new ClutchError(ClusterErrorCode.START_TIMEOUT, `the new worker ${w.pid} did not listen within ${bootTimeout}ms`),
          ),
        ),
      );
      if (this.#host.state() !== 'ready') throw new ClutchError(ClusterErrorCode.SCALE_FAILED, `the cluster is ${this.#host.state()}`);
    } catch (err) {
      await Promise.all(fresh.map((w) => this.#host.stopper.retire(w, 'stop')));
      throw new ClutchError(ClusterErrorCode.SCALE_FAILED, `Scale to ${to} stopped: ${(err as Error).message}. The cluster keeps its ${from} workers`, {
        cause: err,
      });
    }
    this.#count = to;
    for (const w of fresh) {
      w.admit();
      w.send({ clutch: 'cluster-ready', url: this.#host.url() });
    }
    return { added: fresh.map((w) => w.pid), retired: [] };
  }

  /** The workers of slots to.. are retired; the count changes first, so none of them is reforked. */
  async #down(to: number): Promise<{ added: number[]; retired: number[] }> {
    this.#count = to;
    const going: WorkerProcess[] = this.#host.children
      .bySlot()
      .filter(({ slot }) => slot >= to)
      .map(({ worker }) => worker);
    await Promise.all(going.map((w) => this.#host.stopper.retire(w, 'reload')));
    return { added: [], retired: going.map((w) => w.pid) };
  }
}
