import type { CheckState, ChildTransport, Logger } from '@clutch/cluster';
import { withTimeout } from '@clutch/cluster/with-timeout';
import { ClutchError, CoreErrorCode } from './errors.js';
import { parseInterval } from './schedule.js';

export interface HealthCheckOptions {
  /** How long one run may take before it counts as failed: ms or like `'2s'` (default 2 s). */
  timeout?: number | string;
  /** How often it runs: ms or like `'5s'` (default 5 s). */
  interval?: number | string;
}

/** A readiness check: resolves (anything but `false`) when the thing it checks works; throws or returns false when not. */
export type HealthCheck = () => unknown;

interface Entry {
  fn: HealthCheck;
  timeout: number;
  interval: number;
  state: CheckState;
  timer: NodeJS.Timeout | null;
  running: boolean;
}

/**
 * `app.health` and `agent.health`: readiness checks (docs/operations.md). Each check runs at once and
 * then every `interval`; whenever a result changes (pass ↔ fail, or another error), the process
 * tells the master, which answers /readyz from every process's checks. A check never affects
 * /livez, and a failing one never stops the process from serving.
 *
 * @example
 * // agent.ts or app.ts, in a boot hook, or in a plugin
 * app.health.check('db', () => pool.query('select 1'), { timeout: '1s', interval: '5s' });
 */
export class HealthChecks {
  readonly #transport: ChildTransport;
  readonly #logger: Logger;
  readonly #checks = new Map<string, Entry>();
  #closed = false;

  constructor(transport: ChildTransport, logger: Logger) {
    this.#transport = transport;
    this.#logger = logger;
  }

  /** Adds a readiness check named `name` (unique in this process). */
  check(name: string, fn: HealthCheck, options: HealthCheckOptions = {}): void {
    if (typeof name !== 'string' || name === '')
      throw new ClutchError(CoreErrorCode.HEALTH_CHECK_INVALID, 'health.check(name, fn): name must be a non-empty string');
    if (typeof fn !== 'function') throw new ClutchError(CoreErrorCode.HEALTH_CHECK_INVALID, `health.check(${JSON.stringify(name)}, fn): fn must be a function`);
    if (this.#checks.has(name)) throw new ClutchError(CoreErrorCode.HEALTH_CHECK_INVALID, `health.check: a check named ${JSON.stringify(name)} exists already`);
    const duration = (key: 'timeout' | 'interval', fallback: number): number => {
      const value = options[key] === undefined ? fallback : parseInterval(options[key]);
      if (value === null)
        throw new ClutchError(
          CoreErrorCode.HEALTH_CHECK_INVALID,
          `health.check(${JSON.stringify(name)}): ${key} must be a positive duration, got ${JSON.stringify(options[key])}`,
        );
      return value;
    };
    const entry: Entry = {
      fn,
      timeout: duration('timeout', 2_000),
      interval: duration('interval', 5_000),
      state: { name, ok: null, error: null, ms: 0, at: 0 },
      timer: null,
      running: false,
    };
    this.#checks.set(name, entry);
    this.#send();
    void this.#run(entry);
  }

  /** Each check's last result. */
  states(): CheckState[] {
    return [...this.#checks.values()].map((e) => ({ ...e.state }));
  }

  /** The process stops: no more runs. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#checks.values()) if (entry.timer) clearTimeout(entry.timer);
  }

  async #run(entry: Entry): Promise<void> {
    if (this.#closed || entry.running) return;
    entry.running = true;
    const began = performance.now();
    let error: string | null = null;
    try {
      const result = await withTimeout(Promise.resolve().then(entry.fn), entry.timeout, () => new Error(`timed out after ${entry.timeout}ms`));
      if (result === false) error = 'returned false';
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    } finally {
      entry.running = false;
    }
    const before = entry.state;
    entry.state = { name: before.name, ok: error === null, error, ms: Math.round(performance.now() - began), at: Date.now() };
    if (before.ok !== entry.state.ok || before.error !== error) {
      if (error !== null) this.#logger.warn('readiness check "%s" fails: %s', before.name, error);
      else if (before.ok === false) this.#logger.info('readiness check "%s" passes again', before.name);
      this.#send();
    }
    if (!this.#closed) {
      entry.timer = setTimeout(() => void this.#run(entry), entry.interval);
      entry.timer.unref();
    }
  }

  #send(): void {
    if (this.#closed) return;
    try {
      this.#transport.send({ clutch: 'checks', checks: this.states() });
    } catch {
      // The master is gone: the process follows.
    }
  }
}
