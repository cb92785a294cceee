import type { Logger } from '@clutch/cluster';
import { RepeatFilter } from '@clutch/cluster/repeat-filter';

/** Per window: lines for one kind of error, and for every kind together. */
const WINDOW_MS = 10_000;
const PER_KIND = 5;
const TOTAL = 20;

/**
 * Logs errors that requests cause, with the rate bounded: a client that sends the same broken
 * request in a loop (a truncated body, then a disconnect) must not be able to fill the disk with
 * stacks. Each kind of error — its code and message, numbers masked — gets a few full lines per
 * window, every kind together a few more, and one line at the end of the window counts the rest.
 */
export class RequestErrorLog {
  readonly #logger: Logger;
  readonly #filter: RepeatFilter;

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#filter = new RepeatFilter({
      windowMs: WINDOW_MS,
      perKey: PER_KIND,
      total: TOTAL,
      maxSummaries: 5,
      overflow: (kinds, n, ms) => logger.error('%d more request errors of %d other kinds in the last %ds (not logged one by one)', n, kinds, ms / 1000),
    });
  }

  error(err: Error & { code?: unknown }, message: string, ...args: unknown[]): void {
    const first = err.message.split('\n', 1)[0]!.slice(0, 200);
    const kind = `${typeof err.code === 'string' ? err.code : err.name}: ${first.replace(/\d+/g, '#')}`;
    const summary = (n: number, ms: number) =>
      this.#logger.error('%d more request errors like "%s" in the last %ds (not logged one by one)', n, kind, ms / 1000);
    if (this.#filter.admit(kind, summary)) this.#logger.error(message, ...args);
  }
}
