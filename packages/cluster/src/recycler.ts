import type { Child } from './children.js';
import { ClusterErrorCode } from './errors.js';
import { replaceInSlot, type ReloadHost } from './reload.js';
import type { WatchdogReactions } from './watchdog.js';
import type { WorkerProcess } from './worker-process.js';

/** What the recycler needs of the master besides what a reload needs. */
export interface RecyclerHost {
  /** True while no reload runs: a recycle may begin. */
  canRecycle(): boolean;
  /** Takes a worker out of the rotation for good (no new connection; it is about to go). */
  leave(worker: WorkerProcess): void;
  /** Hands a worker no new connection for now / again. */
  suspend(worker: WorkerProcess): void;
  resume(worker: WorkerProcess): void;
  /** The memory limit in force, bytes (for the log line). */
  maxMemory(): number | undefined;
  /** True while another worker in service sheds load (config.cluster.overload): no capacity to spare. */
  othersShedding(worker: WorkerProcess): boolean;
}

/**
 * What the master does when the watchdog speaks: a stalled worker leaves the rotation at once, is
 * replaced as one step of a reload, and is killed once its replacement listens; a worker over its
 * memory limit is replaced the same way and drains gracefully; a stalled agent is killed and
 * replaced as after a crash; a worker that misses its heartbeats gets no new connection until it
 * answers. One recycle at a time, so capacity never drops by more than one worker.
 */
/** The longest a recycle for memory waits for the other workers to stop shedding load. */
const POSTPONE_MS = 30_000;

export class Recycler implements WatchdogReactions<Child> {
  readonly #reload: ReloadHost;
  readonly #host: RecyclerHost;
  #queue: Promise<void> = Promise.resolve();
  /** Workers over their memory limit whose recycle waits for the others to stop shedding, since when (said once each). */
  readonly #postponed = new WeakMap<Child, number>();

  constructor(reload: ReloadHost, host: RecyclerHost) {
    this.#reload = reload;
    this.#host = host;
  }

  #ready(): boolean {
    return this.#reload.state() === 'ready';
  }

  onStall(child: Child, silent: number): void {
    if (!this.#ready()) return;
    const { logger } = this.#reload;
    if (child.role === 'agent') {
      logger.error('[%s] the agent %d sent no heartbeat for %dms; it is killed and replaced', ClusterErrorCode.AGENT_STALLED, child.pid, silent);
      child.killStalled();
      return;
    }
    const slot = this.#reload.children.slotOf(child);
    logger.error(
      '[%s] worker %d (slot %d) sent no heartbeat for %dms; it leaves the rotation and is replaced',
      ClusterErrorCode.WORKER_STALLED,
      child.pid,
      slot,
      silent,
    );
    this.#host.leave(child);
    this.recycle(child, 'stalled', `it stalled for ${silent}ms`);
  }

  onMemory(child: Child, rss: number): boolean {
    if (child.role !== 'worker') return true;
    const limit = (this.#host.maxMemory() ?? 0) / 1048576;
    const why = `its RSS is ${(rss / 1048576).toFixed(0)} MB, over the limit of ${limit.toFixed(0)} MB`;
    // Draining a worker while the others shed would turn their 503s into more: it waits, serving —
    // at most POSTPONE_MS, so workers that all leak (and all shed) are still recycled.
    const since = this.#postponed.get(child);
    if (this.#host.othersShedding(child) && (since === undefined || Date.now() - since < POSTPONE_MS)) {
      if (since === undefined) {
        this.#reload.logger.warn('worker %d: %s; recycled once the other workers stop shedding load (within %ds)', child.pid, why, POSTPONE_MS / 1000);
        this.#postponed.set(child, Date.now());
      }
      return false;
    }
    this.#postponed.delete(child);
    this.recycle(child, 'memory', why);
    return true;
  }

  onUnresponsive(child: Child, silent: number): void {
    if (child.role !== 'worker') return;
    this.#host.suspend(child);
    this.#reload.logger.warn(
      'worker %d (slot %d) missed its heartbeats (%dms silent): it gets no new connection until it answers',
      child.pid,
      this.#reload.children.slotOf(child),
      silent,
    );
  }

  onResponsive(child: Child): void {
    if (child.role !== 'worker') return;
    this.#host.resume(child);
    this.#reload.logger.info('worker %d (slot %d) answers again: back in the rotation', child.pid, this.#reload.children.slotOf(child));
  }

  /**
   * Replaces one worker — the new one listens first — for `reason`. None during a reload (it
   * replaces every worker anyway), except that a stalled worker is still killed then (supervision
   * replaces it).
   */
  recycle(worker: WorkerProcess, reason: 'memory' | 'stalled', why: string): void {
    // Over its memory limit, a worker takes no new connection from now on: under a fast leak each
    // one would grow it further while its replacement boots. The others, or the master's queue, take them.
    if (reason === 'memory') this.#host.suspend(worker);
    // A worker that cannot be replaced now serves again if it can (memory), or goes (stalled: it serves nobody).
    const giveUp = () => (reason === 'stalled' ? worker.killStalled() : this.#host.resume(worker));
    this.#queue = this.#queue.then(async () => {
      if (!this.#ready() || worker.state === 'dead' || worker.retired) return;
      if (!this.#host.canRecycle() || worker.candidate) {
        giveUp();
        return;
      }
      const slot = this.#reload.children.slotOf(worker);
      this.#reload.logger.warn('recycling worker %d (slot %d): %s', worker.pid, slot, why);
      try {
        await replaceInSlot(this.#reload, slot, [worker], reason, async (old) => {
          if (reason !== 'stalled') return this.#reload.stopper.retire(old, 'reload');
          old.retire();
          old.killStalled();
          await old.exited;
        });
      } catch (err) {
        this.#reload.logger.error('recycling worker %d failed: %s', worker.pid, err);
        giveUp();
      }
    });
  }
}
