import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { ChildTransport, Logger } from '@clutch/cluster';
import { ClutchError, CoreErrorCode } from '../errors.js';
import { LeaderElector } from './elector.js';
import type { LeaseStore, LeaderOptions } from './lease-store.js';
import { LocalStore } from './local-store.js';

/** What a leader's job is given: the term's token (to fence its writes) and a signal that aborts when the term ends. */
export interface LeaderTerm {
  token: number;
  signal: AbortSignal;
}

export type LeaderJob = (term: LeaderTerm) => unknown;

async function openStore(options: LeaderOptions): Promise<LeaseStore> {
  // Each store's client is loaded only by the projects that use it.
  const timeout = Math.max(500, Math.min(options.retryPeriod, options.renewDeadline / 2));
  if (options.store === 'postgres') return (await import('./postgres-store.js')).PostgresStore.connect(options.url!, timeout);
  if (options.store === 'redis') return (await import('./redis-store.js')).RedisStore.connect(options.url!, timeout);
  return new LocalStore();
}

/**
 * `agent.leader`: whether this agent leads every cluster of the project (`config.cluster.leader`).
 * With the default `local` store it always leads (one host). With `postgres` or `redis`, the agents
 * of every cluster sharing the lease's name elect one.
 *
 * @example
 * agent.leader.run(async ({ token, signal }) => {
 *   const feed = await connectUpstream({ signal });     // one connection for the whole fleet
 *   signal.addEventListener('abort', () => feed.close()); // no longer sure to lead: let go at once
 * });
 */
export class Leader extends EventEmitter<{ elected: [token: number]; lost: [] }> {
  readonly store: string;
  readonly #elector: LeaderElector;
  readonly #jobs: LeaderJob[] = [];
  #term: AbortController | null = null;
  #transitions = 0;
  readonly #logger: Logger;
  readonly #close: () => Promise<void>;

  private constructor(store: LeaseStore, options: LeaderOptions, logger: Logger, transport: ChildTransport) {
    super();
    this.store = store.kind;
    this.#logger = logger;
    this.#elector = new LeaderElector(store, options, `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`);
    const report = () => transport.send({ clutch: 'leader', leading: this.isLeader, token: this.token, store: store.kind, transitions: this.#transitions });
    this.#elector.on('elected', (token) => {
      this.#transitions++;
      if (store.kind !== 'local') logger.info('leader: elected for "%s" (token %d, %s store)', options.name, token, store.kind);
      this.#term = new AbortController();
      report();
      this.emit('elected', token);
      for (const job of this.#jobs) this.#runJob(job);
    });
    this.#elector.on('lost', () => {
      this.#transitions++;
      if (store.kind !== 'local') logger.warn('leader: no longer leading "%s"', options.name);
      this.#term?.abort(new ClutchError(CoreErrorCode.LEADER_LOST, 'This agent is no longer the leader'));
      this.#term = null;
      report();
      this.emit('lost');
    });
    this.#elector.on('storeError', (err) =>
      logger.error(
        '[%s] the %s store at %s: %s; this cluster serves on, does not lead, and keeps trying',
        CoreErrorCode.LEADER_STORE_UNREACHABLE,
        store.kind,
        redact(options.url),
        err.message,
      ),
    );
    this.#elector.on('storeBack', () => logger.info('leader: the %s store answers again', store.kind));
    this.#close = () => store.close();
    report();
  }

  static async create(options: LeaderOptions, logger: Logger, transport: ChildTransport): Promise<Leader> {
    return new Leader(await openStore(options), options, logger, transport);
  }

  get isLeader(): boolean {
    return this.#elector.isLeader;
  }

  /** The current term's token: it grows with every change of holder and is never reused; null when not leading. */
  get token(): number | null {
    return this.#elector.token;
  }

  /** Calls `job({ token, signal })` each time this agent becomes leader (now, if it leads); `signal` aborts when the term ends. */
  run(job: LeaderJob): void {
    this.#jobs.push(job);
    if (this.#term) this.#runJob(job);
  }

  /** Claims tick `tick` of a `type: 'cluster'` schedule in the store, under the current token. */
  claimTick(schedule: string, tick: number): Promise<boolean> {
    return this.#elector.claimTick(schedule, tick);
  }

  start(): void {
    this.#elector.start();
  }

  /** Steps down (releasing the lease) and closes the store's connection. */
  async stop(): Promise<void> {
    await this.#elector.stop();
    await this.#close().catch(() => {});
  }

  #runJob(job: LeaderJob): void {
    const term = this.#term!;
    const token = this.token!;
    Promise.resolve()
      .then(() => job({ token, signal: term.signal }))
      .catch((err: unknown) => {
        if (!term.signal.aborted) this.#logger.error('leader job failed: %s', err);
      });
  }
}

/** A store URL as it may be logged: without its password. */
function redact(url: string | undefined): string {
  if (!url) return '(no url)';
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(a url)';
  }
}
