/**
 * `work`, or a rejection with `timeoutError()` after `ms` — whichever comes first; the timer never
 * outlives the race. The one way Clutch bounds a wait.
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timeoutError()), Math.max(1, ms));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A wait that can end early: every `race` rejects once the deadline passes (with `timeoutError()`)
 * or once `abort(err)` is called, whichever is first; `end()` clears the timer.
 */
export class Deadline {
  readonly #ended: Promise<never>;
  #reject!: (err: Error) => void;
  #over = false;
  readonly #timer: NodeJS.Timeout;

  constructor(ms: number, timeoutError: () => Error) {
    this.#ended = new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
    this.#ended.catch(() => {});
    this.#timer = setTimeout(() => this.abort(timeoutError()), Math.max(1, ms));
  }

  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.#ended]);
  }

  /** Ends every race with `err`; a no-op once ended. */
  abort(err: Error): void {
    if (this.#over) return;
    this.end();
    this.#reject(err);
  }

  end(): void {
    this.#over = true;
    clearTimeout(this.#timer);
  }
}
