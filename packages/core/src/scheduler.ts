import type { Logger } from '@clutch/cluster';
import type { Messenger } from './messenger.js';
import type { Schedule } from './schedule.js';

/** The action the agent sends a worker to run one task; the reply says it finished. */
export const SCHEDULE_ACTION = 'clutch:schedule';
/** setTimeout cannot wait longer than this; longer cron waits are chained. */
const MAX_DELAY = 2 ** 31 - 1;
/** A task may run this long before the agent stops waiting for it (a dead worker answers at once). */
const TASK_TIMEOUT = 24 * 3_600_000;

/**
 * Owns every schedule's timer, in the agent. On each tick it asks one worker (rotating), or every
 * worker, to run the task, and waits for them: a tick that comes while the previous run of the same
 * task is still going is skipped, so runs never overlap.
 */
export class Scheduler {
  readonly #messenger: Messenger;
  readonly #logger: Logger;
  readonly #schedules: Schedule[];
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #running = new Set<string>();
  /** Schedules whose ticks are being skipped, so the warning is said once per streak. */
  readonly #skipping = new Set<string>();
  #rotation = 0;
  #stopped = false;

  constructor(messenger: Messenger, logger: Logger, schedules: Schedule[]) {
    this.#messenger = messenger;
    this.#logger = logger;
    this.#schedules = schedules.filter((s) => !s.disable);
  }

  start(): void {
    for (const s of this.#schedules) {
      if (s.immediate) void this.#run(s);
      this.#arm(s);
    }
  }

  /**
   * Stops the timers and waits (up to `waitMs`) for runs still going, so that a replacement agent
   * (after a reload) never starts a task this one is still waiting on.
   */
  async stop(waitMs: number): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    const deadline = Date.now() + waitMs;
    while (this.#running.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  #arm(s: Schedule, until?: number): void {
    if (this.#stopped) return;
    const at = until ?? (s.interval !== null ? Date.now() + s.interval : (s.cron!.nextRun()?.getTime() ?? null));
    if (at === null) return; // a cron with no future run
    const delay = Math.max(0, at - Date.now());
    const timer = setTimeout(() => {
      if (delay > MAX_DELAY) return this.#arm(s, at);
      this.#arm(s);
      this.#tick(s);
    }, Math.min(delay, MAX_DELAY));
    this.#timers.set(s.key, timer);
  }

  #tick(s: Schedule): void {
    if (this.#running.has(s.key)) {
      if (!this.#skipping.has(s.key)) this.#logger.warn('schedule %s: the previous run is still going; skipping ticks until it ends', s.key);
      this.#skipping.add(s.key);
      return;
    }
    this.#skipping.delete(s.key);
    void this.#run(s);
  }

  async #run(s: Schedule): Promise<void> {
    const workers = this.#messenger.pids.workers;
    if (workers.length === 0) {
      this.#logger.warn('schedule %s: no worker is ready; run skipped', s.key);
      return;
    }
    const targets = s.type === 'all' ? workers : [workers[this.#rotation++ % workers.length]!];
    this.#running.add(s.key);
    try {
      const results = await Promise.allSettled(targets.map((pid) => this.#messenger.request(pid, SCHEDULE_ACTION, { key: s.key }, { timeout: TASK_TIMEOUT })));
      results.forEach((r, i) => {
        if (r.status === 'rejected') this.#logger.error('schedule %s failed in worker %d: %s', s.key, targets[i], (r.reason as Error).message);
        else if (r.value === false) this.#logger.warn('schedule %s: worker %d still runs the previous run; skipped there', s.key, targets[i]);
      });
    } finally {
      this.#running.delete(s.key);
    }
  }
}
