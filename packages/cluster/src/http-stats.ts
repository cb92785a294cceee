import type { IncomingMessage, ServerResponse } from 'node:http';

/** Upper bounds of the request-duration histogram, seconds (Prometheus' defaults, as prom-client's). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** What a worker has served since it started: cumulative, so a lost heartbeat loses nothing. */
export interface HttpCounts {
  /** Responses by status class: 1xx, 2xx, 3xx, 4xx, 5xx. */
  classes: [number, number, number, number, number];
  /** Per bucket of DURATION_BUCKETS, responses that took at most that long (not cumulative across buckets); the last slot is +Inf. */
  buckets: number[];
  /** Seconds spent, summed over every response. */
  sum: number;
}

const STARTED = Symbol('clutch.started');
type Timed = ServerResponse & { [STARTED]?: number };

/**
 * Counts a worker's responses by status class and duration. The cost per request is one clock read,
 * one listener and a few additions: it is on every request, and measured in `npm run bench`.
 */
export class HttpStats {
  readonly counts: HttpCounts = { classes: [0, 0, 0, 0, 0], buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), sum: 0 };
  readonly #onFinish: (this: Timed) => void;

  constructor() {
    const counts = this.counts;
    // One function for every response (`this` is the response): no closure per request.
    this.#onFinish = function (this: Timed) {
      const seconds = (performance.now() - (this[STARTED] ?? 0)) / 1000;
      const cls = Math.floor(this.statusCode / 100) - 1;
      if (cls >= 0 && cls < 5) counts.classes[cls as 0]++;
      let i = 0;
      while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
      counts.buckets[i]!++;
      counts.sum += seconds;
    };
  }

  /** Starts timing a response. */
  observe(_req: IncomingMessage, res: ServerResponse): void {
    (res as Timed)[STARTED] = performance.now();
    res.on('finish', this.#onFinish);
  }
}
