/**
 * SIGSTOP for tests, undone whatever happens: every pid a test freezes is remembered, and
 * `release()` (call it in `after`, before killing the clusters) sends SIGCONT to each one still
 * frozen, so a failing test never leaves a stopped process behind.
 */
export class Freezer {
  readonly #frozen = new Set<number>();

  freeze(pids: number[]): void {
    for (const pid of pids) {
      process.kill(pid, 'SIGSTOP');
      this.#frozen.add(pid);
    }
  }

  thaw(pids: number[]): void {
    for (const pid of pids) {
      process.kill(pid, 'SIGCONT');
      this.#frozen.delete(pid);
    }
  }

  release(): void {
    for (const pid of this.#frozen) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Gone.
      }
    }
    this.#frozen.clear();
  }
}

/** Polls `check` every 50 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
