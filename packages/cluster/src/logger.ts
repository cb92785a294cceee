import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type ProcessRole = 'master' | 'agent' | 'worker';

/** The logger every process of the cluster writes with. Each process writes its own lines. */
export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

/** Where a daemon's processes write their logs (set by `app start --daemon`). */
export const LOG_DIR_ENV = 'CLUTCH_LOG_DIR';
/** Warnings and errors of every role also go here. */
export const ERROR_LOG = 'common-error.log';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && value in LEVELS;
}

function timestamp(): string {
  const d = new Date();
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/**
 * Log files of one process: `<role>.log` and the shared `common-error.log`, opened for append.
 * Every line is one write(2) on an O_APPEND descriptor, so workers sharing worker.log never
 * interleave within a line. `reopen()` (on SIGUSR1) lets logrotate move files without copytruncate.
 */
class FileSink {
  readonly #dir: string;
  readonly #role: ProcessRole;
  #main = -1;
  #errors = -1;

  constructor(dir: string, role: ProcessRole) {
    this.#dir = dir;
    this.#role = role;
    mkdirSync(dir, { recursive: true });
    this.reopen();
  }

  reopen(): void {
    const main = openSync(join(this.#dir, `${this.#role}.log`), 'a');
    const errors = openSync(join(this.#dir, ERROR_LOG), 'a');
    const old = [this.#main, this.#errors];
    this.#main = main;
    this.#errors = errors;
    for (const fd of old) if (fd >= 0) closeSync(fd);
  }

  write(line: string, isError: boolean): void {
    writeSync(this.#main, line);
    if (isError) writeSync(this.#errors, line);
  }
}

let sink: FileSink | null = null;

/**
 * A line logger that prefixes every line with the time, the level, the role and the pid, so the
 * interleaved output of a foreground cluster can be read. Level from `CLUTCH_LOG_LEVEL` (default
 * info). In the foreground, warnings and errors go to stderr and the rest to stdout; with
 * `CLUTCH_LOG_DIR` set (a daemon), lines go to that directory's files instead.
 */
export function createLogger(role: ProcessRole, level?: LogLevel): Logger {
  const envLevel = process.env.CLUTCH_LOG_LEVEL;
  const min = LEVELS[level ?? (isLogLevel(envLevel) ? envLevel : 'info')];
  const dir = process.env[LOG_DIR_ENV];
  if (dir && !sink) sink = new FileSink(dir, role);
  const write = (lvl: LogLevel, message: string, args: unknown[]) => {
    if (LEVELS[lvl] < min) return;
    const line = `${timestamp()} ${lvl.toUpperCase().padEnd(5)} [${role}:${process.pid}] ${format(message, ...args)}\n`;
    const isError = LEVELS[lvl] >= LEVELS.warn;
    if (sink) sink.write(line, isError);
    else (isError ? process.stderr : process.stdout).write(line);
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
 * listens on any port but the HTTP one. For a daemon, what the process's own code prints
 * (console.log and friends) goes to its role's log file too.
 */
export function setUpProcessLogs(): void {
  process.on('SIGUSR1', () => sink?.reopen());
  if (!sink) return;
  const current = sink;
  for (const stream of [process.stdout, process.stderr]) {
    const isError = stream === process.stderr;
    stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void) => {
      current.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8'), isError);
      const done = typeof encoding === 'function' ? encoding : cb;
      done?.();
      return true;
    }) as typeof stream.write;
  }
}

/** Reopens this process's log files, if it writes any (the master asked, after logrotate). */
export function reopenLogs(): void {
  sink?.reopen();
}

/** True when this process logs to files (a daemon). */
export function logsToFiles(): boolean {
  return sink !== null;
}
