export interface RepeatFilterOptions {
  /** Length of a window, ms. */
  windowMs: number;
  /** Lines of one kind logged per window; the rest are counted. */
  perKey: number;
  /** Lines of every kind together logged per window (a flood of distinct messages is bounded too). */
  total?: number;
  /** Kinds tracked at once; beyond it, new kinds share one bucket. */
  maxKeys?: number;
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
  readonly #options: Required<RepeatFilterOptions>;
  #buckets = new Map<string, Bucket>();
  #total = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: RepeatFilterOptions) {
    this.#options = { total: Number.POSITIVE_INFINITY, maxKeys: 1_000, ...options };
  }

  /** True when this occurrence should be logged; otherwise it is counted, and `summary` reports the count later. */
  admit(key: string, summary: (suppressed: number, windowMs: number) => void): boolean {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#options.maxKeys) key = '\0overflow';
      bucket = this.#buckets.get(key);
      if (!bucket) this.#buckets.set(key, (bucket = { logged: 0, suppressed: 0, summary }));
    }
    this.#timer ??= setTimeout(() => this.#rollOver(), this.#options.windowMs).unref();
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
    for (const bucket of buckets.values()) {
      if (bucket.suppressed > 0) bucket.summary(bucket.suppressed, this.#options.windowMs);
    }
  }
}
