import type { AgentProcess } from './agent-process.js';
import type { ExitInfo } from './child-handle.js';
import type { Child } from './children.js';
import type { Logger } from './logger.js';
import type { WorkerProcess } from './worker-process.js';

/** How long after a child's own stop timeout the master waits before SIGKILL. */
export const KILL_GRACE_MS = 1_000;

/** How one child's stop went: its exit, and whether it had to be killed. */
export type StopOutcome = ExitInfo & { killed: boolean };

/** What the stopper needs of the master. */
export interface StopperHost {
  readonly logger: Logger;
  /** The stop timeout when none is given, ms. */
  readonly stopTimeout: number;
  /** Takes a worker out of the rotation: it is handed no new connection. */
  leave(worker: WorkerProcess): void;
}

/**
 * The one way the master stops a child — for a stop, a reload, a recycle, or a scale-down: a worker
 * leaves the rotation first, so it is handed no new connection; then the child is ordered to stop
 * within `timeout` (over IPC, else with SIGTERM) and, a second past that, killed. The exit is what
 * counts: `ChildProcess.killed` turns true as soon as SIGTERM is sent, so a check on it never escalates.
 */
export class Stopper {
  readonly #host: StopperHost;

  constructor(host: StopperHost) {
    this.#host = host;
  }

  /** Stops `child` and resolves with its exit. */
  stop(child: Child, reason: 'stop' | 'reload' = 'stop', timeout = this.#host.stopTimeout): Promise<StopOutcome> {
    if (child.role === 'worker') this.#host.leave(child);
    return this.#terminate(child, timeout, reason);
  }

  /** Ends `child` on purpose (a reload, a recycle, a scale-down): its exit is not a crash, and nothing replaces it. */
  retire(child: Child, reason: 'stop' | 'reload' = 'reload', timeout = this.#host.stopTimeout): Promise<StopOutcome> {
    child.retire();
    return this.stop(child, reason, timeout);
  }

  /** Stops every worker at once, then the agent; resolves with the processes that had to be killed. */
  async stopAll(workers: WorkerProcess[], agent: AgentProcess | null, timeout: number): Promise<Array<{ role: Child['role']; pid: number }>> {
    const killed: Array<{ role: Child['role']; pid: number }> = [];
    const note = (child: Child) => (outcome: StopOutcome) => {
      if (outcome.killed) killed.push({ role: child.role, pid: child.pid });
    };
    await Promise.all(workers.map((w) => this.stop(w, 'stop', timeout).then(note(w))));
    if (agent) await this.stop(agent, 'stop', timeout).then(note(agent));
    return killed;
  }

  async #terminate(child: Child, timeout: number, reason: 'stop' | 'reload'): Promise<StopOutcome> {
    let killed = false;
    child.orderStop({ clutch: 'stop', reason, timeout });
    const timer = setTimeout(() => {
      killed = true;
      this.#host.logger.warn('%s %d did not exit within %dms of the stop order, sending SIGKILL', child.role, child.pid, timeout + KILL_GRACE_MS);
      child.kill('SIGKILL');
    }, timeout + KILL_GRACE_MS);
    try {
      return { ...(await child.exited), killed };
    } finally {
      clearTimeout(timer);
    }
  }
}
