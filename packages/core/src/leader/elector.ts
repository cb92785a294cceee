import { EventEmitter } from 'node:events';
import type { LeaseStore, LeaderOptions } from './lease-store.js';

/** The time and timers the elector runs on: the real ones, or a test's. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

export interface ElectorEvents {
  elected: [token: number];
  lost: [];
  /** The store could not be reached (or did not answer in time). */
  storeError: [err: Error];
  /** The store answered again after failing. */
  storeBack: [];
}

/** A promise that rejects after `ms` on `clock`. */
function within<T>(clock: Clock, ms: number, work: Promise<T>): Promise<T> {
  let timer: unknown;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = clock.setTimeout(() => reject(new Error(`the store did not answer within ${Math.round(ms)}ms`)), Math.max(1, ms));
    }),
  ]).finally(() => clock.clearTimeout(timer));
}

/**
 * The agent's side of leader election, after client-go's LeaderElector: every `retryPeriod` it tries
 * to take the lease (or, leading, to renew it) for `ttl`. A leader that has not renewed within
 * `renewDeadline` of the last renewal it *sent* steps down — before the lease can expire on the
 * store's clock (the store set the expiry at the earliest when it received that request, `ttl`
 * after it) — so that two agents never both believe they lead. What a paused leader does just as it
 * wakes is fenced by the token: tick claims carry it, and the store refuses an old one.
 */
export class LeaderElector extends EventEmitter<ElectorEvents> {
  readonly #store: LeaseStore;
  readonly #options: LeaderOptions;
  readonly #holder: string;
  readonly #clock: Clock;
  #token: number | null = null;
  /** When the last successful acquire or renewal was sent (clock time). */
  #renewedAt = 0;
  #timer: unknown = null;
  #deadline: unknown = null;
  #running = false;
  #storeDown = false;
  #busy: Promise<void> = Promise.resolve();

  constructor(store: LeaseStore, options: LeaderOptions, holder: string, clock: Clock = realClock) {
    super();
    this.#store = store;
    this.#options = options;
    this.#holder = holder;
    this.#clock = clock;
  }

  get isLeader(): boolean {
    return this.#token !== null;
  }

  /** The token of the current term, or null when not leading. */
  get token(): number | null {
    return this.#token;
  }

  get holder(): string {
    return this.#holder;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Stops trying; a leader steps down and releases the lease, so another takes over within about a retry period. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#clock.clearTimeout(this.#timer);
    await this.#busy;
    if (this.#token !== null) {
      this.#stepDown();
      await within(this.#clock, Math.min(1_000, this.#options.retryPeriod), this.#store.release(this.#options.name, this.#holder)).catch(() => {});
    }
  }

  /** Claims tick `tick` of `schedule` under the current token; false when not leading, already claimed, or the store refuses the token. */
  async claimTick(schedule: string, tick: number): Promise<boolean> {
    if (this.#token !== null && this.#remaining() <= 0) this.#stepDown();
    const token = this.#token;
    if (token === null) return false;
    return within(this.#clock, this.#remaining(), this.#store.claimTick(this.#options.name, this.#holder, token, schedule, tick)).catch(() => false);
  }

  /** How long this leader may still trust its lease, ms. */
  #remaining(): number {
    return this.#renewedAt + this.#options.renewDeadline - this.#clock.now();
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#busy = this.#attempt();
    }, ms);
  }

  async #attempt(): Promise<void> {
    if (!this.#running) return;
    // Woken past the deadline (paused, or a loop that blocked): not a leader any more, whatever comes next.
    if (this.#token !== null && this.#remaining() <= 0) this.#stepDown();
    const sentAt = this.#clock.now();
    // A leader gives its renewal only the time left before its deadline; a follower, a retry period.
    const limit = this.#token !== null ? this.#remaining() : this.#options.retryPeriod;
    try {
      const result = await within(this.#clock, limit, this.#store.acquire(this.#options.name, this.#holder, this.#options.ttl));
      if (this.#storeDown) {
        this.#storeDown = false;
        this.emit('storeBack');
      }
      if (!this.#running) return;
      if (result.acquired) {
        // The lease lapsed between two renewals (and nobody took it): a new term with a new token.
        if (this.#token !== null && this.#token !== result.token) this.#stepDown();
        this.#renewedAt = sentAt;
        this.#armDeadline();
        if (this.#token === null) {
          this.#token = result.token;
          this.emit('elected', result.token);
        }
      } else if (this.#token !== null) {
        this.#stepDown();
      }
    } catch (err) {
      if (!this.#storeDown) {
        this.#storeDown = true;
        this.emit('storeError', err as Error);
      }
      // A leader's own deadline decides when it steps down (armDeadline): not one failed renewal.
    }
    this.#schedule(this.#options.retryPeriod);
  }

  /** Steps down the moment the renew deadline passes without a renewal — even while a renewal hangs. */
  #armDeadline(): void {
    this.#clock.clearTimeout(this.#deadline);
    this.#deadline = this.#clock.setTimeout(
      () => {
        if (this.#token !== null && this.#remaining() <= 0) this.#stepDown();
      },
      Math.max(1, this.#remaining()),
    );
  }

  #stepDown(): void {
    this.#clock.clearTimeout(this.#deadline);
    if (this.#token === null) return;
    this.#token = null;
    this.emit('lost');
  }
}
