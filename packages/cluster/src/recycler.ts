import type { ChildHandle } from './child-handle.js';
import { ClusterErrorCode } from './errors.js';
import { replaceInSlot, type ReloadHost } from './reload.js';
import { WorkerProcess } from './worker-process.js';

/** What the recycler needs of the master besides what a reload needs. */
export interface RecyclerHost {
  /** True while no reload runs: a recycle may begin. */
  canRecycle(): boolean;
  /** Takes a worker out of the rotation (no new connection). */
  leave(worker: WorkerProcess): void;
  /** Hands a worker no new connection for now / again. */
  suspend(worker: WorkerProcess): void;
  resume(worker: WorkerProcess): void;
}

/**
 * What the master does when the watchdog speaks: a stalled worker leaves the rotation at once, is
 * replaced as one step of a reload, and is killed once its replacement listens; a worker over its
 * memory limit is replaced the same way and drains gracefully; a stalled agent is killed and
 * replaced as after a crash. One recycle at a time, so capacity never drops by more than one worker.
 */
export class Recycler {
  readonly #reload: ReloadHost;
  readonly #host: RecyclerHost;
  #queue: Promise<void> = Promise.resolve();

  constructor(reload: ReloadHost, host: RecyclerHost) {
    this.#reload = reload;
    this.#host = host;
  }

  #ready(): boolean {
    return this.#reload.state() === 'ready';
  }

  stalled(handle: ChildHandle, silent: number): void {
    if (!this.#ready()) return;
    const { logger } = this.#reload;
    if (handle instanceof WorkerProcess) {
      const slot = this.#reload.children.slotOf(handle);
      logger.error(
        '[%s] worker %d (slot %d) sent no heartbeat for %dms; it leaves the rotation and is replaced',
        ClusterErrorCode.WORKER_STALLED,
        handle.pid,
        slot,
        silent,
      );
      this.#host.leave(handle);
      this.recycle(handle, 'stalled', `it stalled for ${silent}ms`);
    } else {
      logger.error('[%s] the agent %d sent no heartbeat for %dms; it is killed and replaced', ClusterErrorCode.AGENT_STALLED, handle.pid, silent);
      handle.killedFor = 'stalled';
      handle.kill('SIGKILL');
    }
  }

  /**
   * Replaces one worker — the new one listens first — for `reason`. None during a reload (it
   * replaces every worker anyway), except that a stalled worker is still killed then (supervision
   * replaces it).
   */
  recycle(worker: WorkerProcess, reason: 'memory' | 'stalled', why: string): void {
    const kill = () => {
      worker.killedFor = 'stalled';
      worker.kill('SIGKILL');
    };
    // Over its memory limit, a worker takes no new connection from now on: under a fast leak each
    // one would grow it further while its replacement boots. The others, or the master's queue, take them.
    if (reason === 'memory') this.#host.suspend(worker);
    this.#queue = this.#queue.then(async () => {
      if (!this.#ready() || worker.state === 'dead' || worker.retired) return;
      if (!this.#host.canRecycle() || worker.candidate) {
        if (reason === 'stalled') kill();
        else this.#host.resume(worker);
        return;
      }
      const slot = this.#reload.children.slotOf(worker);
      this.#reload.logger.warn('recycling worker %d (slot %d): %s', worker.pid, slot, why);
      try {
        await replaceInSlot(this.#reload, slot, [worker], reason, async (old) => {
          if (reason !== 'stalled') return this.#reload.retire(old, 'reload');
          old.retire();
          old.kill('SIGKILL');
          await old.exited;
        });
      } catch (err) {
        this.#reload.logger.error('recycling worker %d failed: %s', worker.pid, err);
        // A stalled worker serves nobody: it goes anyway, and supervision replaces it with backoff.
        if (reason === 'stalled') kill();
        else this.#host.resume(worker);
      }
    });
  }
}
