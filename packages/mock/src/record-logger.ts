import { AssertionError } from 'node:assert';
import { format } from 'node:util';
import type { Logger } from '@clutch/cluster';

/** How many lines a test's logger keeps (the oldest go first). */
const KEPT = 10_000;

/**
 * A logger that also remembers what it was asked to log — every level, whatever the level printed
 * — so `app.expectLog()` reads what the app logged without a log file or a wait.
 */
export class RecordLogger implements Logger {
  readonly #base: Logger;
  readonly #lines: string[] = [];
  /** Lines before this index were logged before the last `mockLog()`. */
  mark = 0;

  constructor(base: Logger) {
    this.#base = base;
  }

  debug(message: string | Error, ...args: unknown[]): void {
    this.#keep('DEBUG', message, args);
    this.#base.debug(message, ...args);
  }
  info(message: string | Error, ...args: unknown[]): void {
    this.#keep('INFO', message, args);
    this.#base.info(message, ...args);
  }
  warn(message: string | Error, ...args: unknown[]): void {
    this.#keep('WARN', message, args);
    this.#base.warn(message, ...args);
  }
  error(message: string | Error, ...args: unknown[]): void {
    this.#keep('ERROR', message, args);
    this.#base.error(message, ...args);
  }

  /** The lines logged since the last `mockLog()` (or the start). */
  lines(): string[] {
    return this.#lines.slice(this.mark);
  }

  /** Starts a new record: `expectLog` sees only what is logged from here. */
  reset(): number {
    return this.#lines.length;
  }

  /** egg-mock's `expectLog(str | regex)`: some line since `mockLog()` matches; else an AssertionError. */
  expect(pattern: string | RegExp, want: boolean): void {
    const lines = this.lines();
    const found = lines.some((line) => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line)));
    if (found === want) return;
    throw new AssertionError({
      message: `${want ? "can't find" : 'found'} ${String(pattern)} in the ${lines.length} lines the app logged${lines.length ? `:\n${lines.slice(-20).join('\n')}` : ''}`,
      actual: lines,
      expected: pattern,
      operator: want ? 'expectLog' : 'notExpectLog',
    });
  }

  #keep(level: string, message: unknown, args: unknown[]): void {
    let text: string;
    try {
      text = format(message, ...args);
    } catch {
      text = String(message);
    }
    this.#lines.push(`${level} ${text}`);
    if (this.#lines.length > KEPT) {
      const dropped = this.#lines.length - KEPT;
      this.#lines.splice(0, dropped);
      this.mark = Math.max(0, this.mark - dropped);
    }
  }
}
