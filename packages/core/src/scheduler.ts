import type { Logger } from '@clutch/cluster';
import type { Leader } from './leader/leader.js';
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
 * task is still going is skipped, so runs never overlap. A `type: 'cluster'` tick runs only where the
 * agent leads, and only once it has claimed the tick in the lease store under its token: at most
 * once per tick across every host, even for a leader that lost its lease while paused.
 */
/** What a task's `ctx.schedule` holds. */
export interface ScheduleRun {
  key: string;
  /** The tick's scheduled time, ms since epoch. */
  tick: number;
  /** The leader's token (type 'cluster'); null for the others. */
  token: number | null;
}

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

  readonly #leader: Leader | null;

  readonly #ran: (key: string, ms: number, ok: boolean) => void;

  constructor(
    messenger: Messenger,
    logger: Logger,
    schedules: Schedule[],
    leader: Leader | null = null,
    /** Each run's outcome, for the master's /metrics and `app status`. */
    ran: (key: string, ms: number, ok: boolean) => void = () => {},
  ) {
    this.#ran = ran;
    this.#messenger = messenger;
    this.#logger = logger;
    this.#schedules = schedules.filter((s) => !s.disable);
    this.#leader = leader;
  }

  start(): void {
    for (const s of this.#schedules) {
      if (s.immediate) void this.#run(s, Date.now());
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

  /**
   * The next tick. A cluster schedule's interval ticks fall on multiples of the interval since the
   * epoch, so that every host means the same tick by the same time (cron times are the same anyway).
   */
  #next(s: Schedule): number | null {
    const now = Date.now();
    if (s.interval === null) return s.cron!.nextRun()?.getTime() ?? null;
    return s.type === 'cluster' ? (Math.floor(now / s.interval) + 1) * s.interval : now + s.interval;
  }

  #arm(s: Schedule, until?: number): void {
    if (this.#stopped) return;
    const at = until ?? this.#next(s);
    if (at === null) return; // a cron with no future run
    const delay = Math.max(0, at - Date.now());
    const timer = setTimeout(
      () => {
        if (delay > MAX_DELAY) return this.#arm(s, at);
        this.#arm(s);
        this.#tick(s, at);
      },
      Math.min(delay, MAX_DELAY),
    );
    this.#timers.set(s.key, timer);
  }

  #tick(s: Schedule, tick: number): void {
    if (s.type === 'cluster' && !this.#leader?.isLeader) return;
    if (this.#running.has(s.key)) {
      if (!this.#skipping.has(s.key)) this.#logger.warn('schedule %s: the previous run is still going; skipping ticks until it ends', s.key);
      this.#skipping.add(s.key);
      return;
    }
    this.#skipping.delete(s.key);
    void this.#run(s, tick);
  }

  async #run(s: Schedule, tick: number): Promise<void> {
    const workers = this.#messenger.pids.workers;
    if (workers.length === 0) {
      this.#logger.warn('schedule %s: no worker is ready; run skipped', s.key);
      return;
    }
    const targets = s.type === 'all' ? workers : [workers[this.#rotation++ % workers.length]!];
    this.#running.add(s.key);
    try {
      let token: number | null = null;
      if (s.type === 'cluster') {
        token = this.#leader?.token ?? null;
        // Claimed before it runs: a tick another leader ran, or one this agent can no longer claim
        // under its token (it lost the lease, paused), does not run here.
        if (token === null || !(await this.#leader!.claimTick(s.key, tick))) return;
      }
      const run: ScheduleRun = { key: s.key, tick, token };
      const began = performance.now();
      const results = await Promise.allSettled(targets.map((pid) => this.#messenger.request(pid, SCHEDULE_ACTION, run, { timeout: TASK_TIMEOUT })));
      this.#ran(
        s.key,
        Math.round(performance.now() - began),
        results.every((r) => r.status === 'fulfilled'),
      );
      results.forEach((r, i) => {
        if (r.status === 'rejected') this.#logger.error('schedule %s failed in worker %d: %s', s.key, targets[i], (r.reason as Error).message);
        else if (r.value === false) this.#logger.warn('schedule %s: worker %d still runs the previous run; skipped there', s.key, targets[i]);
      });
    } finally {
      this.#running.delete(s.key);
    }
  }
}
