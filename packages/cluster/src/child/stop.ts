import type { Logger } from '../logger.js';
import { tracing } from '../tracing.js';
import { withTimeout } from '../with-timeout.js';

/** How long a stopping process waits for its last spans to be exported (telemetry on). */
const FLUSH_MS = 1_000;

/** Exports what spans are left before the exit; never fails, never waits past FLUSH_MS. */
async function flushSpans(logger: Logger): Promise<void> {
  const traced = tracing();
  if (!traced) return;
  await withTimeout(traced.flush(), FLUSH_MS, () => new Error(`spans not exported within ${FLUSH_MS}ms`)).catch((err: unknown) =>
    logger.warn('telemetry: %s', err instanceof Error ? err.message : err),
  );
}

/** What asked a child to stop, and how. */
export interface StopRequest {
  /** `master`: its stop order (with its reason and timeout); `SIGTERM`: a signal from anyone; `orphaned`: the master is gone. */
  from: 'master' | 'SIGTERM' | 'orphaned';
  /** A reload drains gently (see http-server.ts); a stop closes idle connections at once. */
  reason: 'stop' | 'reload';
  /** How long the stop may take, ms (the master's order carries `app stop --timeout`). */
  timeout: number;
}

/**
 * The one way a child process stops, in the agent and in every worker: the master's stop order, a
 * SIGTERM and the loss of the master all call `request`, which runs the role's `body` once — later
 * requests are only noted — and exits with the code it returns. No synthetic signal: the order is
 * not turned into a SIGTERM, and a second SIGTERM (the group's, then the master's) never falls back
 * to Node's default and kills the process mid-drain.
 */
export class ChildStop {
  readonly #logger: Logger;
  readonly #body: (request: StopRequest) => Promise<number>;
  #began: StopRequest | null = null;

  constructor(logger: Logger, body: (request: StopRequest) => Promise<number>) {
    this.#logger = logger;
    this.#body = body;
    process.once('exit', (code) => (code === 0 ? logger.info('exit with code %d', code) : logger.error('exit with code %d', code)));
  }

  /** True once a stop has begun. */
  get stopping(): boolean {
    return this.#began !== null;
  }

  request(request: StopRequest): void {
    if (this.#began) {
      this.#logger.info('%s: already stopping (%s)', describe(request), describe(this.#began));
      return;
    }
    this.#began = request;
    this.#logger.info('stopping: %s', describe(request));
    this.#body(request).then(
      (code) => flushSpans(this.#logger).then(() => process.exit(code)),
      (err: unknown) => {
        this.#logger.error('the stop failed: %s', err);
        process.exit(1);
      },
    );
  }
}

function describe(request: StopRequest): string {
  if (request.from === 'master') return `ordered by the master (${request.reason}, within ${request.timeout}ms)`;
  return request.from === 'SIGTERM' ? 'SIGTERM' : 'the master is gone (IPC channel closed)';
}
