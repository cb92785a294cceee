/**
 * Restart policy for a process that keeps dying: each death soon after the last start doubles the
 * wait before the next fork, up to a cap; a process that stayed up long enough resets the streak.
 * One Backoff per worker slot and one for the agent, so a crash-looping worker never slows down
 * the replacement of a healthy one.
 */
export interface BackoffOptions {
  /** Delay after the second death in a row, ms (the first restart is immediate). */
  base: number;
  /** Upper bound of the delay, ms. */
  cap: number;
  /** A process up at least this long before dying resets the streak, ms. */
  stableAfter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { base: 250, cap: 5_000, stableAfter: 15_000 };

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

  /** Records a death after `uptime` ms and returns how long to wait before the next fork. */
  next(uptime: number): number {
    if (uptime >= this.#options.stableAfter) this.#streak = 0;
    this.#streak++;
    if (this.#streak === 1) return 0;
    return Math.min(this.#options.cap, this.#options.base * 2 ** (this.#streak - 2));
  }
}
