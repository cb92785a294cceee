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
 * A line logger that prefixes every line with the time, the level, the role and the pid, so the
 * interleaved output of a foreground cluster can be read. Level from `CLUTCH_LOG_LEVEL` (default info).
 * Warnings and errors go to stderr, the rest to stdout.
 */
export function createLogger(role: ProcessRole, level?: LogLevel): Logger {
  const envLevel = process.env.CLUTCH_LOG_LEVEL;
  const min = LEVELS[level ?? (isLogLevel(envLevel) ? envLevel : 'info')];
  const write = (lvl: LogLevel, message: string, args: unknown[]) => {
    if (LEVELS[lvl] < min) return;
    const line = `${timestamp()} ${lvl.toUpperCase().padEnd(5)} [${role}:${process.pid}] ${format(message, ...args)}\n`;
    (LEVELS[lvl] >= LEVELS.warn ? process.stderr : process.stdout).write(line);
  };
  return {
    debug: (m, ...a) => write('debug', m, a),
    info: (m, ...a) => write('info', m, a),
    warn: (m, ...a) => write('warn', m, a),
    error: (m, ...a) => write('error', m, a),
  };
}
