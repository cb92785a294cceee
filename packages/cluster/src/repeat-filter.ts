export interface RepeatFilterOptions {
  /** Length of a window, ms. */
  windowMs: number;
  /** Lines of one kind logged per window; the rest are counted. */
  perKey: number;
  /** Lines of every kind together logged per window (a flood of distinct messages is bounded too). */
  total?: number;
  /** Kinds tracked at once; beyond it, new kinds share one bucket. */
  maxKeys?: number;
  /** Summary lines per window; the kinds beyond them are counted in one more line, by `overflow`. */
  maxSummaries?: number;
  /** Reports the kinds past `maxSummaries`: how many kinds, and how many lines they suppressed together. */
  overflow?: (kinds: number, suppressed: number, windowMs: number) => void;
}

interface Bucket {
  logged: number;
  suppressed: number;
  summary: (suppressed: number, windowMs: number) => void;
}

/**
 * Collapses repeated log lines, so that nothing outside a process — a client sending the same
 * broken request in a loop, a plugin whose sends are refused by the thousand — can make its logs
 * grow without bound. Within a window the first lines of each kind are logged; the rest are only
 * counted, and when the window closes one line says how many there were.
 *
 * @example
 * const filter = new RepeatFilter({ windowMs: 10_000, perKey: 1 });
 * if (filter.admit(err.code, (n) => logger.warn('… and %d more like it', n))) logger.warn('refused: %s', err.message);
 */
export class RepeatFilter {
  readonly #options: Required<Omit<RepeatFilterOptions, 'overflow'>> & Pick<RepeatFilterOptions, 'overflow'>;
  #buckets = new Map<string, Bucket>();
  #total = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: RepeatFilterOptions) {
    this.#options = { total: Number.POSITIVE_INFINITY, maxKeys: 1_000, maxSummaries: 10, ...options };
  }

  /** True when this occurrence should be logged; otherwise it is counted, and `summary` reports the count later. */
  admit(key: string, summary: (suppressed: number, windowMs: number) => void): boolean {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#options.maxKeys) key = '\0overflow';
      bucket = this.#buckets.get(key);
      if (!bucket) this.#buckets.set(key, (bucket = { logged: 0, suppressed: 0, summary }));
    }
    if (!this.#timer) this.#timer = setTimeout(() => this.#rollOver(), this.#options.windowMs).unref();
    if (bucket.logged < this.#options.perKey && this.#total < this.#options.total) {
      bucket.logged++;
      this.#total++;
      return true;
    }
    bucket.suppressed++;
    return false;
  }

  /** Reports what each kind suppressed, then starts a fresh window for the kinds still repeating. */
  #rollOver(): void {
    this.#timer = null;
    const buckets = this.#buckets;
    this.#buckets = new Map();
    this.#total = 0;
    let summaries = 0;
    let restKinds = 0;
    let restLines = 0;
    for (const bucket of buckets.values()) {
      if (bucket.suppressed === 0) continue;
      if (summaries++ < this.#options.maxSummaries || !this.#options.overflow) {
        bucket.summary(bucket.suppressed, this.#options.windowMs);
      } else {
        restKinds++;
        restLines += bucket.suppressed;
      }
    }
    if (restKinds > 0) this.#options.overflow?.(restKinds, restLines, this.#options.windowMs);
  }
}
