import type { IncomingMessage, ServerResponse as Response } from 'node:http';
import { http } from './node-http.js';

const { ServerResponse } = http;

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

/**
 * Counts a worker's responses by status class and duration. On every request, so it must cost next
 * to nothing: the response class records its own start and end (no listener, no closure per
 * request), measured in `npm run bench` against CLUTCH_HTTP_METRICS=0.
 */
export class HttpStats {
  readonly counts: HttpCounts = { classes: [0, 0, 0, 0, 0], buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), sum: 0 };

  /** Records one response that took `seconds`. */
  record(status: number, seconds: number): void {
    const counts = this.counts;
    const cls = Math.floor(status / 100) - 1;
    if (cls >= 0 && cls < 5) counts.classes[cls as 0]++;
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    counts.buckets[i]!++;
    counts.sum += seconds;
  }

  /**
   * The ServerResponse class for an http.Server whose responses this counts. It notes the time
   * it was made (as the request arrives) and records itself when Node finishes it (`_finish`, the
   * step that ends every response — a private method, checked to exist, else a 'finish' listener).
   */
  responseClass(): typeof ServerResponse {
    const record = (status: number, seconds: number) => this.record(status, seconds);
    if (typeof (ServerResponse.prototype as { _finish?: unknown })._finish === 'function') {
      return class TimedResponse extends ServerResponse {
        readonly [STARTED] = performance.now();
        _finish(): void {
          record(this.statusCode, (performance.now() - this[STARTED]) / 1000);
          (ServerResponse.prototype as unknown as { _finish(this: Response): void })._finish.call(this);
        }
      } as typeof ServerResponse;
    }
    return class ListenedResponse extends ServerResponse {
      readonly [STARTED] = performance.now();
      constructor(...args: ConstructorParameters<typeof ServerResponse<IncomingMessage>>) {
        super(...args);
        this.on('finish', () => record(this.statusCode, (performance.now() - this[STARTED]) / 1000));
      }
    } as typeof ServerResponse;
  }
}
