/**
 * Where the agents of every cluster of a project share one lease. Every call is a compare-and-swap
 * that the store decides on its own clock, so no two hosts need agree on the time; and the lease
 * carries a fencing token that grows with every change of holder and is never reused.
 *
 * Other stores (etcd, the Kubernetes Lease API) fit behind the same four calls; see docs/scaling.md.
 */
export interface LeaseStore {
  readonly kind: string;
  /**
   * Takes the lease `name` for `holder` for `ttlMs` — if it is free, expired, or `holder`'s already
   * (a renewal). `token` is the lease's token after the call: new when the holder changed.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<{ acquired: boolean; token: number }>;
  /** Gives the lease up, if `holder` has it: another agent may take it at once. */
  release(name: string, holder: string): Promise<void>;
  /**
   * Claims tick `tick` (its scheduled time, ms) of `schedule`, under `token` — only while `holder`
   * still holds `name` with that very token, and only if no one claimed that tick before. True: run it.
   */
  claimTick(name: string, holder: string, token: number, schedule: string, tick: number): Promise<boolean>;
  close(): Promise<void>;
}

/** What `config.cluster.leader` says, checked and with its durations in ms. */
export interface LeaderOptions {
  store: 'local' | 'postgres' | 'redis';
  url?: string;
  /** The lease's name: every cluster of the project with the same name shares it (default: the project's name). */
  name: string;
  /** How long a lease lasts unless renewed, ms (default 15 s). */
  ttl: number;
  /** How long a leader may go without a successful renewal before it steps down, ms (default 10 s; under ttl). */
  renewDeadline: number;
  /** How often to try to take or renew the lease, ms (default 2 s). */
  retryPeriod: number;
}
