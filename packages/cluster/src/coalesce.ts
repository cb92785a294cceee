/**
 * Several messages written to an IPC channel as one: `{ clutch: 'batch', messages }`. Node writes
 * each `send()` as its own JSON line, and each costs a write, a read and an event on the far side;
 * a relay that forwards a burst (a broadcast of thousands of messages) pays that per message, twice.
 * The receiver unwraps a batch and handles its messages in order, as if each had come alone.
 */
export interface Batch<M> {
  clutch: 'batch';
  messages: M[];
}

/** A batch holds at most this many messages … */
export const BATCH_MAX_MESSAGES = 1024;
/** … and this many payload bytes (JSON text): a burst of large messages goes out as it comes. */
export const BATCH_MAX_BYTES = 256 * 1024;

/** Whether `raw` is a batch envelope (its messages are checked one by one by the receiver). */
export function isBatch(raw: unknown): raw is Batch<unknown> {
  return typeof raw === 'object' && raw !== null && (raw as { clutch?: unknown }).clutch === 'batch' && Array.isArray((raw as Batch<unknown>).messages);
}

type Written = (err: Error | null) => void;

/**
 * Coalesces what one process sends to one channel within a turn of the event loop into one write.
 * The first message of a turn schedules a flush as a microtask, so nothing waits for a timer: a
 * lone message (a request, its reply) is written in the same turn, unwrapped; the messages sent in
 * a loop, or routed from one read of the channel (Node emits a read's messages as ticks, and
 * microtasks run after them), go out together. The order of the messages is kept, and a message
 * that must go alone (with a socket) flushes what is waiting first. `written` callbacks run once
 * the write that carried their message is done.
 */
export class Coalescer<M extends object> {
  readonly #write: (message: M | Batch<M>, written: Written | undefined) => void;
  #pending: M[] = [];
  #written: Written[] = [];
  #bytes = 0;
  #scheduled = false;

  constructor(write: (message: M | Batch<M>, written: Written | undefined) => void) {
    this.#write = write;
  }

  push(message: M, written?: Written): void {
    this.#pending.push(message);
    if (written) this.#written.push(written);
    const { payload } = message as { payload?: unknown };
    if (typeof payload === 'string') this.#bytes += payload.length;
    if (this.#pending.length >= BATCH_MAX_MESSAGES || this.#bytes >= BATCH_MAX_BYTES) {
      this.flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.flush();
      });
    }
  }

  /** Writes what is waiting now (nothing when nothing is). */
  flush(): void {
    const messages = this.#pending;
    if (messages.length === 0) return;
    const written = this.#written;
    this.#pending = [];
    this.#written = [];
    this.#bytes = 0;
    const done =
      written.length === 0
        ? undefined
        : written.length === 1
          ? written[0]
          : (err: Error | null) => {
              for (const w of written) w(err);
            };
    this.#write(messages.length === 1 ? messages[0]! : { clutch: 'batch', messages }, done);
  }
}
