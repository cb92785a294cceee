import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { OverloadLimits } from '../framework.js';
import type { Logger } from '../logger.js';

/** How often a worker looks at its own load. */
const SAMPLE_MS = 100;
/** How long every look must find it under its limits before an overloaded worker serves again: one episode, not a flicker of them. */
const RECOVER_MS = 500;

/**
 * Load shedding in a worker (docs/operations.md, "Load shedding"): a look every 100 ms at the
 * event loop's lag, its utilization, the heap and the RSS; while one is over its limit, new
 * requests are answered 503 with Retry-After before any of the app's middleware runs, so an
 * overloaded worker says so at once instead of queueing requests until clients time out.
 *
 * The lag is the lateness of this timer itself: a loop blocked for 300 ms fires it 300 ms late,
 * and the look runs before the requests that waited meanwhile are read (timers come before I/O in
 * a turn of the loop), so those get the 503. It serves again once its looks have found it under
 * every limit for half a second. A request costs one boolean read.
 */
export class OverloadGuard {
  readonly #limits: OverloadLimits;
  readonly #logger: Logger;
  readonly #changed: () => void;
  #reason: string | null = null;
  #since = 0;
  /** When the looks began to find it under its limits again, while it sheds; 0 otherwise. */
  #underSince = 0;
  #shedInEpisode = 0;
  #total = 0;
  #elu: EventLoopUtilization = performance.eventLoopUtilization();
  #expected = 0;
  #timer: NodeJS.Timeout | null = null;

  /** `changed` runs when shedding starts or ends (the worker tells the master at once). */
  constructor(limits: OverloadLimits, logger: Logger, changed: () => void) {
    this.#limits = limits;
    this.#logger = logger;
    this.#changed = changed;
  }

  start(): void {
    this.#expected = performance.now() + SAMPLE_MS;
    this.#timer = setTimeout(() => this.#look(), SAMPLE_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** True while new requests are refused. */
  get shedding(): boolean {
    return this.#reason !== null;
  }

  /** Requests answered 503 since the worker started. */
  get total(): number {
    return this.#total;
  }

  /** The value of the Retry-After header, seconds. */
  get retryAfter(): number {
    return this.#limits.retryAfter;
  }

  /** A request was refused. */
  refused(): void {
    this.#total++;
    this.#shedInEpisode++;
  }

  #look(): void {
    const now = performance.now();
    const lag = Math.max(0, now - this.#expected);
    const elu = performance.eventLoopUtilization(this.#elu);
    this.#elu = performance.eventLoopUtilization();
    this.#judge(this.#over(lag, elu.utilization));
    this.#expected = performance.now() + SAMPLE_MS;
    this.#timer = setTimeout(() => this.#look(), SAMPLE_MS);
    this.#timer.unref();
  }

  /** Which limit is crossed now, said as the log line says it; null when none is. */
  #over(lag: number, utilization: number): string | null {
    const { maxEventLoopDelay, maxEventLoopUtilization, maxHeapUsedBytes, maxRssBytes } = this.#limits;
    if (maxEventLoopDelay !== undefined && lag > maxEventLoopDelay) return `event-loop delay ${Math.round(lag)}ms > ${maxEventLoopDelay}ms`;
    if (maxEventLoopUtilization !== undefined && utilization > maxEventLoopUtilization)
      return `event-loop utilization ${utilization.toFixed(2)} > ${maxEventLoopUtilization}`;
    if (maxHeapUsedBytes !== undefined) {
      const heap = getHeapStatistics().used_heap_size;
      if (heap > maxHeapUsedBytes) return `heap used ${mb(heap)} > ${mb(maxHeapUsedBytes)}`;
    }
    if (maxRssBytes !== undefined) {
      let rss = 0;
      try {
        rss = process.memoryUsage.rss();
      } catch {
        // Out of descriptors (it reads /proc): this look does not judge the RSS.
      }
      if (rss > maxRssBytes) return `RSS ${mb(rss)} > ${mb(maxRssBytes)}`;
    }
    return null;
  }

  #judge(over: string | null): void {
    let reason = over;
    if (!over && this.#reason) {
      const now = Date.now();
      this.#underSince ||= now;
      if (now - this.#underSince < RECOVER_MS) reason = this.#reason;
    }
    if (over) this.#underSince = 0;
    if (reason && !this.#reason) {
      this.#since = Date.now();
      this.#shedInEpisode = 0;
      this.#logger.warn('overloaded (%s): new requests get 503 with Retry-After: %d until it is back under', reason, this.#limits.retryAfter);
    } else if (!reason && this.#reason) {
      this.#logger.info('serving again after %dms overloaded (%s); %d request(s) got 503', Date.now() - this.#since, this.#reason, this.#shedInEpisode);
      this.#underSince = 0;
    }
    const changed = (reason === null) !== (this.#reason === null);
    this.#reason = reason;
    if (changed) this.#changed();
  }
}

const mb = (n: number) => `${Math.round(n / 1048576)}MB`;
