import { format } from 'node:util';
import { DropCounter, FileSink, StreamSink, type LineSink, type LogHealth } from './log-sink.js';
import { tracing } from './tracing.js';

export { ERROR_LOG, type LogHealth } from './log-sink.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type ProcessRole = 'master' | 'agent' | 'worker';
/** `text`: one readable line per entry; `json`: one JSON object per line (for containers and log shippers). */
export type LogFormat = 'text' | 'json';

/**
 * The logger every process of the cluster writes with. Each process writes its own lines; none of it
 * ever throws. `message` is a format string (`%s`, `%d`, as util.format's); pass an error itself
 * (`logger.error('sync failed: %s', err)`, or egg's `logger.error(err)`), not its stack: a text line
 * then shows its whole stack and causes, a JSON line carries it as `err { name, message, code?, stack, cause? }`.
 */
export interface Logger {
  debug(message: string | Error, ...args: unknown[]): void;
  info(message: string | Error, ...args: unknown[]): void;
  warn(message: string | Error, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
}

/** Where a daemon's processes write their logs (set by `app start --daemon`). */
export const LOG_DIR_ENV = 'CLUTCH_LOG_DIR';
/** `json` makes every line of every process one JSON object (set by `--log-format json`). */
export const LOG_FORMAT_ENV = 'CLUTCH_LOG_FORMAT';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && value in LEVELS;
}

function timestamp(d: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** One process's output: where lines go, in which format, and what could not be written. */
interface Output {
  sink: LineSink;
  drops: DropCounter;
  format: LogFormat;
  toFiles: boolean;
}

let output: Output | null = null;

function processOutput(role: ProcessRole): Output {
  if (output) return output;
  const drops = new DropCounter();
  const dir = process.env[LOG_DIR_ENV];
  const format: LogFormat = process.env[LOG_FORMAT_ENV] === 'json' ? 'json' : 'text';
  output = { sink: dir ? new FileSink(dir, role, drops) : new StreamSink(drops), drops, format, toFiles: Boolean(dir) };
  return output;
}

/** An error's stack with its causes below it, as a reader of a text log wants it. */
function stackOf(err: Error): string {
  let text = err.stack ?? `${err.name}: ${err.message}`;
  let cause: unknown = err.cause;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++, cause = cause.cause) text += `\ncaused by: ${cause.stack ?? cause.message}`;
  return text;
}

/** The `err` of a JSON line: what an error carries that a log reader needs, its whole stack and its cause. */
function errorFields(err: Error, depth = 0): Record<string, unknown> {
  const code = (err as { code?: unknown }).code;
  const cause = err.cause instanceof Error && depth < 5 ? { cause: errorFields(err.cause, depth + 1) } : {};
  return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), stack: err.stack ?? `${err.name}: ${err.message}`, ...cause };
}

function jsonLine(level: LogLevel, role: ProcessRole, msg: string, err?: Error): string {
  // Inside a span (telemetry on), the line names it: a log shipper joins it to its trace.
  const record: Record<string, unknown> = { time: new Date().toISOString(), level, role, pid: process.pid, msg, ...tracing()?.logFields() };
  if (err) record.err = errorFields(err);
  return `${JSON.stringify(record)}\n`;
}

/**
 * One entry's text and error. An Error among the arguments (or as the message, as egg's
 * `logger.error(err)`) is its stack in a text line; in JSON the sentence carries its message and
 * `err` the rest.
 */
function render(message: unknown, args: unknown[], json: boolean): { text: string; err: Error | undefined } {
  const all = [message, ...args];
  const err = all.find((a): a is Error => a instanceof Error);
  const shown = err ? all.map((a) => (a instanceof Error ? (json ? a.message : stackOf(a)) : a)) : all;
  const [first, ...rest] = shown;
  return { text: typeof first === 'string' ? format(first, ...rest) : format('%s', ...shown), err };
}

/**
 * A line logger. In text, every line shows the time, the level, the role and the pid, so the
 * interleaved output of a foreground cluster can be read; in JSON (`CLUTCH_LOG_FORMAT=json`) each is
 * `{ time, level, role, pid, msg, err? }`. Level from `CLUTCH_LOG_LEVEL` (default info). In the
 * foreground, warnings and errors go to stderr and the rest to stdout; with `CLUTCH_LOG_DIR` set (a
 * daemon), lines go to that directory's files instead. A line that cannot be written is dropped
 * and counted (see logHealth), never thrown.
 */
export function createLogger(role: ProcessRole, level?: LogLevel): Logger {
  const envLevel = process.env.CLUTCH_LOG_LEVEL;
  const min = LEVELS[level ?? (isLogLevel(envLevel) ? envLevel : 'info')];
  const out = processOutput(role);
  const write = (lvl: LogLevel, message: unknown, args: unknown[]) => {
    if (LEVELS[lvl] < min) return;
    const isError = LEVELS[lvl] >= LEVELS.warn;
    let line: string;
    try {
      const json = out.format === 'json';
      const { text, err } = render(message, args, json);
      line = json ? jsonLine(lvl, role, text, err) : `${timestamp(new Date())} ${lvl.toUpperCase().padEnd(5)} [${role}:${process.pid}] ${text}\n`;
    } catch (err) {
      // A value whose inspection throws (a hostile getter) must not turn a log call into a crash.
      line = `${timestamp(new Date())} ${lvl.toUpperCase().padEnd(5)} [${role}:${process.pid}] ${String(message)} (could not format: ${(err as Error).message})\n`;
    }
    out.sink.write(line, isError);
  };
  return {
    debug: (m, ...a) => write('debug', m, a),
    info: (m, ...a) => write('info', m, a),
    warn: (m, ...a) => write('warn', m, a),
    error: (m, ...a) => write('error', m, a),
  };
}

/**
 * Called by each process entry (never on import). SIGUSR1 reopens the log files, and is taken from
 * Node in every case: by default it would open an inspector port, and no process of the cluster
 * listens on any port but the HTTP one. What the process's own code prints (console.log and
 * friends) goes to its role's log file too for a daemon, and becomes JSON lines in JSON format.
 */
export function setUpProcessLogs(role: ProcessRole): void {
  const out = processOutput(role);
  process.on('SIGUSR1', () => out.sink.reopen());
  if (!out.toFiles && out.format === 'text') return;
  for (const stream of [process.stdout, process.stderr]) {
    const isError = stream === process.stderr;
    let partial = '';
    stream.write = (chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8');
      if (out.format === 'json') {
        // Whole lines only: console.log writes one line per call, a raw write may not.
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) out.sink.write(jsonLine(isError ? 'error' : 'info', role, line), isError);
      } else {
        out.sink.write(text, isError);
      }
      const done = typeof encoding === 'function' ? encoding : cb;
      done?.();
      return true;
    };
  }
}

/** Switches this process's lines to `format` (the project's config says so, after the first lines were written). */
export function setLogFormat(format: LogFormat): void {
  if (output) output.format = format;
}

/** Reopens this process's log files, if it writes any (the master asked, after logrotate). */
export function reopenLogs(): void {
  output?.sink.reopen();
}

/** True when this process logs to files (a daemon). */
export function logsToFiles(): boolean {
  return output?.toFiles ?? false;
}

/** What this process could not write: lines dropped and the last write error. */
export function logHealth(): LogHealth {
  return output ? { ...output.drops.health } : { dropped: 0, lastError: null };
}

/** Runs `listener` whenever a streak of dropped lines begins or ends (the runtime tells the master). */
export function onLogHealthChange(listener: () => void): void {
  if (output) output.drops.onChange = listener;
}
