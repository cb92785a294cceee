/**
 * How a worker spends its stop timeout (`--stop-timeout`, or `app stop --timeout`): requests in
 * flight — and responses still being written to slow clients — get all of it but a reserve, and the
 * reserve is for what comes after them: background jobs and `beforeClose`. A tenth of the timeout,
 * at least 1 s and at most 5 s: 10 s → 9 s for requests, 30 s → 27 s, 2 s → 1 s. Before this, they got half, and a
 * reload cut responses a deploy should have let finish.
 */
export function requestBudget(stopTimeout: number): number {
  const reserve = Math.min(5_000, Math.max(1_000, stopTimeout / 10));
  return Math.max(0, stopTimeout - reserve);
}
