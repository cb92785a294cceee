import { closeSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterErrorCode } from './errors.js';

/** Warnings and errors of every role also go here (a daemon's logs). */
export const ERROR_LOG = 'common-error.log';

/** Log files are readable by the owner and the owner's group only. */
const FILE_MODE = 0o640;
const DIR_MODE = 0o750;

/** How a process's log output fares: lines that could not be written are dropped and counted here. */
export interface LogHealth {
  /** Lines dropped since the process started because writing them failed. */
  dropped: number;
  /** The error of the last failed write (`ENOSPC: no space left on device`), or null. */
  lastError: string | null;
}

/** Where a process's formatted lines go. `write` never throws: a line that cannot be written is dropped. */
export interface LineSink {
  write(line: string, isError: boolean): void;
  /** Reopens files after logrotate moved them; a no-op for streams. */
  reopen(): void;
}

/**
 * Counts what could not be written and says so once per failure streak: a full disk must cost
 * dropped lines, never a process (a logger that throws takes down whatever called it — a request,
 * an exit handler, the uncaught-exception handler itself). When writing works again, the first
 * line written says how many were lost.
 */
export class DropCounter {
  readonly health: LogHealth = { dropped: 0, lastError: null };
  #streak = 0;
  #since = 0;
  /** Called on every drop and when writing works again (the runtime tells the master, throttled). */
  onChange: (() => void) | null = null;

  failed(err: unknown): void {
    this.health.dropped++;
    if (this.#streak++ > 0) {
      this.onChange?.();
      return;
    }
    this.#since = Date.now();
    const e = err as NodeJS.ErrnoException;
    this.health.lastError = e?.code ? `${e.code}: ${e.message}` : String(err);
    // Said once, on the raw stderr descriptor (it may fail too: nothing more can be done then).
    try {
      writeSync(2, `[${ClusterErrorCode.LOG_WRITE_FAILED}] pid ${process.pid}: log lines are being dropped (${this.health.lastError})\n`);
    } catch {
      // Nowhere left to say it; `app status` shows the count.
    }
    this.onChange?.();
  }

  /** A write succeeded: returns the line reporting a finished streak of drops, if one just ended. */
  recovered(): string | null {
    if (this.#streak === 0) return null;
    const lost = this.#streak;
    this.#streak = 0;
    this.onChange?.();
    return `[${ClusterErrorCode.LOG_WRITE_FAILED}] ${lost} log lines were dropped from ${new Date(this.#since).toISOString()} (${this.health.lastError})\n`;
  }
}

/**
 * A daemon's log files: `<role>.log` and the shared `common-error.log`, opened for append. Every
 * line is one write(2) on an O_APPEND descriptor, so workers sharing worker.log never interleave
 * within a line. `reopen()` (on SIGUSR1) lets logrotate move files without copytruncate.
 */
export class FileSink implements LineSink {
  readonly #dir: string;
  readonly #name: string;
  readonly #drops: DropCounter;
  #main = -1;
  #errors = -1;

  constructor(dir: string, name: string, drops: DropCounter) {
    this.#dir = dir;
    this.#name = name;
    this.#drops = drops;
    this.reopen();
  }

  reopen(): void {
    try {
      mkdirSync(this.#dir, { recursive: true, mode: DIR_MODE });
      const main = openSync(join(this.#dir, `${this.#name}.log`), 'a', FILE_MODE);
      const errors = openSync(join(this.#dir, ERROR_LOG), 'a', FILE_MODE);
      const old = [this.#main, this.#errors];
      this.#main = main;
      this.#errors = errors;
      for (const fd of old) if (fd >= 0) closeSync(fd);
    } catch (err) {
      // Keep the old descriptors (if any): a failed reopen must not lose the files being written.
      this.#drops.failed(err);
    }
  }

  write(line: string, isError: boolean): void {
    if (!this.#put(this.#main, line)) return;
    if (isError) this.#put(this.#errors, line);
  }

  #put(fd: number, line: string): boolean {
    try {
      if (fd < 0) throw Object.assign(new Error('log file is not open'), { code: 'EBADF' });
      writeSync(fd, line);
      const report = this.#drops.recovered();
      if (report) writeSync(fd, report);
      return true;
    } catch (err) {
      this.#drops.failed(err);
      return false;
    }
  }
}

/**
 * The foreground: lines go to stdout (warnings and errors to stderr). Redirected to a file, the
 * descriptor is written directly, each line retried on its own (a disk that was full may have room
 * again). A pipe or terminal fails asynchronously (EPIPE once its reader is gone): an 'error'
 * listener keeps that from being an uncaught exception, and a stream that is gone is not written to
 * again.
 */
export class StreamSink implements LineSink {
  readonly #drops: DropCounter;
  readonly #isFile: [boolean, boolean];
  /** The streams' own write methods, kept before anything replaces them (JSON format wraps console output). */
  readonly #writers = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)] as const;

  constructor(drops: DropCounter) {
    this.#drops = drops;
    this.#isFile = [isFile(1), isFile(2)];
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', (err) => this.#drops.failed(err));
    }
  }

  reopen(): void {}

  write(line: string, isError: boolean): void {
    if (this.#isFile[isError ? 1 : 0]) {
      try {
        writeSync(isError ? 2 : 1, line);
        const report = this.#drops.recovered();
        if (report) writeSync(isError ? 2 : 1, report);
      } catch (err) {
        this.#drops.failed(err);
      }
      return;
    }
    const stream = isError ? process.stderr : process.stdout;
    if (stream.destroyed || !stream.writable) {
      this.#drops.failed(Object.assign(new Error(`${isError ? 'stderr' : 'stdout'} is closed`), { code: 'EPIPE' }));
      return;
    }
    try {
      this.#writers[isError ? 1 : 0](line);
    } catch (err) {
      this.#drops.failed(err);
    }
  }
}

function isFile(fd: number): boolean {
  try {
    // bigint: Node 20's plain fstat leaves a pipe's mode in the buffer that realpathSync's cache
    // path reads back, and every module under a symlinked node_modules then resolves unresolved —
    // a CommonJS package imported from ESM loads twice and its default export comes back empty.
    return fstatSync(fd, { bigint: true }).isFile();
  } catch {
    return false;
  }
}
