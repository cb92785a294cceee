import { ClusterErrorCode } from './errors.js';
import type { Logger } from './logger.js';

/** How a Backoff grows and resets. */
export interface BackoffOptions {
  /** Delay after the second death in a row, ms (the first restart is immediate). */
  base: number;
  /** Upper bound of the delay, ms. */
  cap: number;
  /** A process up at least this long before dying resets the streak, ms. */
  stableAfter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { base: 250, cap: 5_000, stableAfter: 15_000 };

/**
 * Restart policy for a process that keeps dying: each death soon after the last start doubles the
 * wait before the next fork, up to a cap; a process that stayed up long enough resets the streak.
 * One Backoff per worker slot and one for the agent, so a crash-looping worker never slows down
 * the replacement of a healthy one.
 */
export class Backoff {
  readonly #options: BackoffOptions;
  #streak = 0;

  constructor(options: BackoffOptions = DEFAULT_BACKOFF) {
    this.#options = options;
  }

  /** How many deaths in a row, each soon after its start. */
  get streak(): number {
    return this.#streak;
  }

  /**
   * Records a death after `uptime` ms and returns how long to wait before the next fork. A death
   * that says nothing about the code (`counts` false: killed from outside after it had booted) is
   * replaced at once and leaves the streak as it was.
   */
  next(uptime: number, counts = true): number {
    if (!counts) return 0;
    if (uptime >= this.#options.stableAfter) this.#streak = 0;
    this.#streak++;
    if (this.#streak === 1) return 0;
    return Math.min(this.#options.cap, this.#options.base * 2 ** (this.#streak - 2));
  }
}

/**
 * The master's restart policy: one Backoff per worker slot and one for the agent, the pending
 * refork timers, and a boot deadline for replacements (RestartLog counts them).
 * It decides when; the master forks.
 */
export class Supervisor {
  readonly #options: BackoffOptions;
  readonly #logger: Logger;
  readonly #startTimeout: number;
  readonly #slots = new Map<number, Backoff>();
  readonly #agent: Backoff;
  readonly #timers = new Set<NodeJS.Timeout>();
  #agentRefork: NodeJS.Timeout | null = null;

  constructor(options: { backoff: BackoffOptions; logger: Logger; startTimeout: number }) {
    this.#options = options.backoff;
    this.#logger = options.logger;
    this.#startTimeout = options.startTimeout;
    this.#agent = new Backoff(options.backoff);
  }

  /**
   * A worker of `slot` died after `uptime` ms: `refork` runs after the slot's backoff. `counts` is
   * false for a death that was no crash (killed from outside after it had booted): no delay then.
   */
  workerDied(slot: number, uptime: number, refork: () => void, counts = true): void {
    let backoff = this.#slots.get(slot);
    if (!backoff) this.#slots.set(slot, (backoff = new Backoff(this.#options)));
    this.#later(backoff, uptime, `worker slot ${slot}`, counts, refork);
  }

  /** The agent died after `uptime` ms: `refork` runs after the agent's backoff, unless cancelled. */
  agentDied(uptime: number, refork: () => void, counts = true): void {
    this.#agentRefork = this.#later(this.#agent, uptime, 'the agent', counts, () => {
      this.#agentRefork = null;
      refork();
    });
  }

  /** A reload forks the agent itself: a pending refork of a dead one must not fork another. */
  cancelAgentRefork(): void {
    if (!this.#agentRefork) return;
    clearTimeout(this.#agentRefork);
    this.#timers.delete(this.#agentRefork);
    this.#agentRefork = null;
  }

  /**
   * A replacement that hangs while booting would hold its slot forever: past the start timeout it
   * is killed, and its exit goes through the backoff like any other death.
   */
  bootDeadline(what: string, booted: Promise<void>, kill: () => void): void {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      this.#logger.error('[%s] %s was not ready within %dms; killing it', ClusterErrorCode.START_TIMEOUT, what, this.#startTimeout);
      kill();
    }, this.#startTimeout);
    timer.unref();
    const settle = () => {
      done = true;
      clearTimeout(timer);
    };
    booted.then(settle, settle);
  }

  /** Cancels every pending refork (the cluster stops). */
  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#agentRefork = null;
  }

  /** Runs `fork` after the backoff's delay; logs a crash loop clearly instead of spinning. */
  #later(backoff: Backoff, uptime: number, what: string, counts: boolean, fork: () => void): NodeJS.Timeout {
    const delay = backoff.next(uptime, counts);
    if (counts && backoff.streak >= 2) {
      this.#logger.error(
        '[%s] %s died %d times in a row, each soon after it started; next attempt in %dms',
        ClusterErrorCode.CRASH_LOOP,
        what,
        backoff.streak,
        delay,
      );
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fork();
    }, delay);
    this.#timers.add(timer);
    return timer;
  }
}
