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
