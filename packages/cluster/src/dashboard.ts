import { DURATION_BUCKETS, type HttpCounts } from './http-stats.js';
import type { ReadinessReport } from './readiness.js';
import type { ClusterStatus } from './status.js';

/** How often the dashboard's history takes a point, ms, and how many it keeps: five minutes. */
export const SAMPLE_MS = 2_000;
export const POINTS = 150;

/** One worker's figures right now, as the master has them from its heartbeats. */
export interface WorkerFigures {
  slot: number;
  pid: number;
  http: HttpCounts | undefined;
  rss: number | null;
  cpu: number | null;
}

/** What the dashboard reads of the master (the monitor gives it). */
export interface DashboardSource {
  status(): Promise<ClusterStatus>;
  workers(): WorkerFigures[];
  /** What /readyz answers, and why not. */
  readiness(): ReadinessReport;
  reloads(): { count: number; lastAt: number | null };
}

/** A worker slot's last five minutes, one value per point (null where there was no worker or no request). */
export interface SlotHistory {
  /** Requests per second, and 5xx answers per second. */
  rps: Array<number | null>;
  errors: Array<number | null>;
  /** Latency percentiles over the point's interval, ms (estimated within the histogram's buckets, as Prometheus' histogram_quantile does). */
  p50: Array<number | null>;
  p95: Array<number | null>;
  p99: Array<number | null>;
  rss: Array<number | null>;
  cpu: Array<number | null>;
}

/** What GET /dashboard/data answers. */
export interface DashboardData {
  now: number;
  sampleMs: number;
  /** When each point was taken (ms since epoch), oldest first. */
  times: number[];
  history: Record<string, SlotHistory>;
  /** As `app status --json` has it (the schedules' runs and each worker's shedding included). */
  status: ClusterStatus;
  readiness: ReadinessReport;
  reloads: { count: number; lastAt: number | null };
}

/** The q-quantile of the responses counted in `buckets` (not cumulative; the last is +Inf), ms; null without any. */
export function quantileMs(buckets: number[], q: number): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const target = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]!;
    if (n > 0 && below + n >= target) {
      const lower = i === 0 ? 0 : DURATION_BUCKETS[i - 1]!;
      // The +Inf bucket has no upper bound: its lower bound is the best guess, as Prometheus says.
      if (i >= DURATION_BUCKETS.length) return lower * 1000;
      const upper = DURATION_BUCKETS[i]!;
      return Math.round((lower + ((upper - lower) * (target - below)) / n) * 1e6) / 1e3;
    }
    below += n;
  }
  return null;
}

const empty = (): SlotHistory => ({ rps: [], errors: [], p50: [], p95: [], p99: [], rss: [], cpu: [] });

/**
 * The dashboard's memory: every SAMPLE_MS, each worker slot's request rate, errors, latency
 * percentiles, memory and CPU, from the counts its heartbeats carry (differences between two
 * points), for the last five minutes. It lives in the master only while the health port is open,
 * and costs one pass over the workers per point: nothing is asked of them.
 */
export class Dashboard {
  readonly #source: DashboardSource;
  readonly #times: number[] = [];
  readonly #history = new Map<number, SlotHistory>();
  /** Each slot's counts at the last point, and whose they were: a new pid starts from zero. */
  readonly #last = new Map<number, { pid: number; http: HttpCounts | undefined; at: number }>();
  readonly #timer: NodeJS.Timeout;

  constructor(source: DashboardSource) {
    this.#source = source;
    this.sample();
    this.#timer = setInterval(() => this.sample(), SAMPLE_MS).unref();
  }

  /** Takes one point (the timer calls it; a test may too). */
  sample(now = Date.now()): void {
    this.#times.push(now);
    const seen = new Set<number>();
    for (const w of this.#source.workers()) {
      if (seen.has(w.slot)) continue; // Two in a slot for a moment (a replacement): the older is listed first and counts.
      seen.add(w.slot);
      let h = this.#history.get(w.slot);
      if (!h) this.#history.set(w.slot, (h = this.#pad(empty())));
      const prev = this.#last.get(w.slot);
      const base = prev && prev.pid === w.pid ? prev.http : undefined;
      const seconds = prev ? Math.max(0.001, (now - prev.at) / 1000) : 0;
      const buckets = (w.http?.buckets ?? []).map((n, i) => n - (base?.buckets[i] ?? 0));
      const served = buckets.reduce((a, b) => a + b, 0);
      const errors = (w.http?.classes[4] ?? 0) - (base?.classes[4] ?? 0);
      const known = prev !== undefined && w.http !== undefined;
      h.rps.push(known ? round(served / seconds) : null);
      h.errors.push(known ? round(errors / seconds) : null);
      h.p50.push(known ? quantileMs(buckets, 0.5) : null);
      h.p95.push(known ? quantileMs(buckets, 0.95) : null);
      h.p99.push(known ? quantileMs(buckets, 0.99) : null);
      h.rss.push(w.rss);
      h.cpu.push(w.cpu);
      this.#last.set(w.slot, { pid: w.pid, http: w.http, at: now });
    }
    for (const [slot, h] of this.#history) {
      if (!seen.has(slot)) {
        for (const series of Object.values(h)) series.push(null);
        this.#last.delete(slot);
      }
    }
    if (this.#times.length > POINTS) {
      this.#times.shift();
      for (const h of this.#history.values()) for (const series of Object.values(h)) series.shift();
    }
    // A slot scaled away drops out once it has no point left in the window.
    for (const [slot, h] of this.#history) if (h.rss.every((v) => v === null) && !seen.has(slot)) this.#history.delete(slot);
  }

  async data(): Promise<DashboardData> {
    const history: Record<string, SlotHistory> = {};
    for (const [slot, h] of [...this.#history].sort((a, b) => a[0] - b[0])) history[slot] = h;
    return {
      now: Date.now(),
      sampleMs: SAMPLE_MS,
      times: this.#times,
      history,
      status: await this.#source.status(),
      readiness: this.#source.readiness(),
      reloads: this.#source.reloads(),
    };
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** A new slot's series start with nulls for the points before it existed. */
  #pad(h: SlotHistory): SlotHistory {
    const missing = this.#times.length - 1;
    for (const series of Object.values(h)) for (let i = 0; i < missing; i++) series.push(null);
    return h;
  }
}

const round = (n: number) => Math.round(n * 10) / 10;
