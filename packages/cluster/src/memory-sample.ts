import { getHeapStatistics } from 'node:v8';

export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  heapTotal: number;
}

/**
 * This process's memory, for heartbeats and status, without ever throwing. `process.memoryUsage()`
 * opens /proc/self/stat for the RSS and throws EMFILE (ENFILE, ENOMEM…) when the process is out of
 * descriptors; thrown inside a heartbeat's timer that killed the process, and a silent heartbeat
 * would have the watchdog replace it. Then the heap comes from V8 (no descriptor needed), the RSS is
 * the last one read, and `onError` hears of it once per streak (and `null` when reading works again).
 */
export class MemorySampler {
  #rss = 0;
  #failing: string | null = null;
  readonly #onError: (err: NodeJS.ErrnoException | null) => void;

  constructor(onError: (err: NodeJS.ErrnoException | null) => void) {
    this.#onError = onError;
  }

  sample(): MemoryFigures {
    try {
      const mem = process.memoryUsage();
      this.#rss = mem.rss;
      if (this.#failing !== null) {
        this.#failing = null;
        this.#onError(null);
      }
      return { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
      if (this.#failing !== code) {
        this.#failing = code;
        this.#onError(err as NodeJS.ErrnoException);
      }
      const heap = getHeapStatistics();
      return { rss: this.#rss, heapUsed: heap.used_heap_size, heapTotal: heap.total_heap_size };
    }
  }
}

/** The log line for a sampler's error (or its end), as every process says it. */
export function describeSampleError(logger: { error(m: string, ...a: unknown[]): void; info(m: string, ...a: unknown[]): void }, code: string) {
  return (err: NodeJS.ErrnoException | null): void => {
    if (err)
      logger.error(
        "[%s] could not read this process's memory (%s): it goes on, its heartbeats carry the last figures; out of file descriptors? (ulimit -n, or a leak): %s",
        code,
        err.code ?? err.message,
        err,
      );
    else logger.info("this process's memory reads again");
  };
}
