import { format } from 'node:util';
import { DropCounter, FileSink, StreamSink, type LineSink, type LogHealth } from './log-sink.js';

export { ERROR_LOG, type LogHealth } from './log-sink.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type ProcessRole = 'master' | 'agent' | 'worker';
/** `text`: one readable line per entry; `json`: one JSON object per line (for containers and log shippers). */
export type LogFormat = 'text' | 'json';

/** The logger every process of the cluster writes with. Each process writes its own lines; none of it ever throws. */
export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
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

/** The `err` of a JSON line: what an error carries that a log reader needs. */
function errorFields(err: Error): Record<string, unknown> {
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), ...(err.stack ? { stack: err.stack } : {}) };
}

function jsonLine(level: LogLevel, role: ProcessRole, msg: string, err?: Error): string {
  const record: Record<string, unknown> = { time: new Date().toISOString(), level, role, pid: process.pid, msg };
  if (err) record.err = errorFields(err);
  return `${JSON.stringify(record)}\n`;
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
  const write = (lvl: LogLevel, message: string, args: unknown[]) => {
    if (LEVELS[lvl] < min) return;
    const isError = LEVELS[lvl] >= LEVELS.warn;
    let line: string;
    try {
      if (out.format === 'json') {
        const err = args.find((a): a is Error => a instanceof Error);
        // The message reads as a sentence; the stack goes to `err`.
        const plain = err ? args.map((a) => (a instanceof Error ? a.message : a)) : args;
        line = jsonLine(lvl, role, format(message, ...plain), err);
      } else {
        line = `${timestamp(new Date())} ${lvl.toUpperCase().padEnd(5)} [${role}:${process.pid}] ${format(message, ...args)}\n`;
      }
    } catch (err) {
      // A value whose inspection throws (a hostile getter) must not turn a log call into a crash.
      line = `${timestamp(new Date())} ${lvl.toUpperCase().padEnd(5)} [${role}:${process.pid}] ${message} (could not format: ${(err as Error).message})\n`;
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
