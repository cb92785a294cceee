/** Buckets of a run's duration, seconds: schedules and reloads take from milliseconds to minutes. */
const BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const;

/** One named job's runs, as /metrics and `app status` show them. */
export interface RunRecord {
  name: string;
  runs: number;
  failures: number;
  /** The last run: when it ended (ms since epoch), how long it took (ms), whether it succeeded. */
  last: { at: number; ms: number; ok: boolean } | null;
}

interface Series {
  record: RunRecord;
  /** Per bucket (not cumulative); the last is +Inf. */
  buckets: number[];
  sum: number;
}

/**
 * Counts of runs by name — the agent's schedules, the master's reloads — with a duration
 * histogram each, rendered as Prometheus families `<prefix>_runs_total`, `<prefix>_failures_total`
 * and `<prefix>_duration_seconds` (docs/metrics.md).
 */
export class RunStats {
  readonly #prefix: string;
  readonly #label: string;
  readonly #what: string;
  readonly #series = new Map<string, Series>();

  /** `label`: the label naming the job (`schedule`); `what`: the jobs, for the HELP lines. */
  constructor(prefix: string, label: string, what: string) {
    this.#prefix = prefix;
    this.#label = label;
    this.#what = what;
  }

  record(name: string, ms: number, ok: boolean, at = Date.now()): void {
    let series = this.#series.get(name);
    if (!series) {
      series = { record: { name, runs: 0, failures: 0, last: null }, buckets: new Array<number>(BUCKETS.length + 1).fill(0), sum: 0 };
      this.#series.set(name, series);
    }
    series.record.runs++;
    if (!ok) series.record.failures++;
    series.record.last = { at, ms, ok };
    const seconds = ms / 1000;
    const i = BUCKETS.findIndex((le) => seconds <= le);
    series.buckets[i === -1 ? BUCKETS.length : i]!++;
    series.sum += seconds;
  }

  records(): RunRecord[] {
    return [...this.#series.values()].map((s) => ({ ...s.record }));
  }

  /** The families in the text format; empty while nothing ran. */
  render(): string {
    if (this.#series.size === 0) return '';
    const p = this.#prefix;
    const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
    const lines = [`# HELP ${p}_runs_total Runs of ${this.#what}, by name.`, `# TYPE ${p}_runs_total counter`];
    for (const s of this.#series.values()) lines.push(`${p}_runs_total{${this.#label}="${esc(s.record.name)}"} ${s.record.runs}`);
    lines.push(`# HELP ${p}_failures_total Runs of ${this.#what} that failed, by name.`, `# TYPE ${p}_failures_total counter`);
    for (const s of this.#series.values()) lines.push(`${p}_failures_total{${this.#label}="${esc(s.record.name)}"} ${s.record.failures}`);
    lines.push(`# HELP ${p}_duration_seconds How long runs of ${this.#what} took.`, `# TYPE ${p}_duration_seconds histogram`);
    for (const s of this.#series.values()) {
      const name = `${this.#label}="${esc(s.record.name)}"`;
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += s.buckets[i]!;
        lines.push(`${p}_duration_seconds_bucket{${name},le="${le}"} ${cumulative}`);
      });
      cumulative += s.buckets[BUCKETS.length]!;
      lines.push(`${p}_duration_seconds_bucket{${name},le="+Inf"} ${cumulative}`);
      lines.push(`${p}_duration_seconds_sum{${name}} ${s.sum}`, `${p}_duration_seconds_count{${name}} ${cumulative}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
