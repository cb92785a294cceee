import type { ChildHandle } from './child-handle.js';
import { ClusterErrorCode } from './errors.js';
import type { Logger } from './logger.js';
import { replaceInSlot, type ReloadHost } from './reload.js';
import { WorkerProcess } from './worker-process.js';

/** What the recycler needs of the master. */
export interface RecyclerHost {
  readonly logger: Logger;
  readonly reloadHost: ReloadHost;
  /** True while the cluster is ready and no reload runs: a recycle may begin. */
  canRecycle(): boolean;
  ready(): boolean;
  slotOf(worker: WorkerProcess): number;
  /** Takes a worker out of the rotation (no new connection). */
  leave(worker: WorkerProcess): void;
  /** Drains and stops a worker (a reload's way). */
  drain(worker: WorkerProcess): Promise<void>;
}

/**
 * What the master does when the watchdog speaks: a stalled worker leaves the rotation at once, is
 * replaced as one step of a reload, and is killed once its replacement listens; a worker over its
 * memory limit is replaced the same way and drains gracefully; a stalled agent is killed and
 * replaced as after a crash. One recycle at a time, so capacity never drops by more than one worker.
 */
export class Recycler {
  readonly #host: RecyclerHost;
  #queue: Promise<void> = Promise.resolve();

  constructor(host: RecyclerHost) {
    this.#host = host;
  }

  stalled(handle: ChildHandle, silent: number): void {
    if (!this.#host.ready()) return;
    const { logger } = this.#host;
    if (handle instanceof WorkerProcess) {
      const slot = this.#host.slotOf(handle);
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
    this.#queue = this.#queue.then(async () => {
      if (!this.#host.ready() || worker.state === 'dead' || worker.retired) return;
      if (!this.#host.canRecycle() || worker.candidate) {
        if (reason === 'stalled') kill();
        return;
      }
      const slot = this.#host.slotOf(worker);
      this.#host.logger.warn('recycling worker %d (slot %d): %s', worker.pid, slot, why);
      try {
        await replaceInSlot(this.#host.reloadHost, slot, [worker], reason, async (old) => {
          old.retire();
          if (reason === 'stalled') {
            old.kill('SIGKILL');
            await old.exited;
          } else {
            await this.#host.drain(old);
          }
        });
      } catch (err) {
        this.#host.logger.error('recycling worker %d failed: %s', worker.pid, err instanceof Error ? err.message : err);
        // A stalled worker serves nobody: it goes anyway, and supervision replaces it with backoff.
        if (reason === 'stalled') kill();
      }
    });
  }
}
