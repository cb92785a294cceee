import supertest from 'supertest';
import { ClutchError, MockErrorCode } from './errors.js';
import { notProvided } from './not-provided.js';
import { startCluster, type RunningCluster } from './start-cluster.js';

export interface MockClusterOptions {
  baseDir?: string;
  workers?: number;
  env?: string;
  /** More `app start` flags. */
  args?: string[];
}

/**
 * egg-mock's `mm.cluster()`: the project as a real cluster (`app start --port 0`, see startCluster),
 * handed out at once and started by `ready()`, as egg-mock's is.
 */
export class MockCluster {
  readonly #starting: Promise<RunningCluster>;
  #running: RunningCluster | null = null;

  constructor(dir: string, options: MockClusterOptions & { env: string }) {
    this.#starting = startCluster(dir, { workers: options.workers ?? 1, env: options.env, args: options.args ?? [] }).then((c) => (this.#running = c));
    this.#starting.catch(() => {});
  }

  /** Resolves once every worker listens; rejects with what the cluster printed if it could not start. */
  ready(): Promise<void> {
    return this.#starting.then(() => undefined);
  }

  #cluster(): RunningCluster {
    if (this.#running) return this.#running;
    throw new ClutchError(MockErrorCode.NOT_READY, 'the cluster is not ready yet: await app.ready() first (in a before hook)');
  }

  /** The cluster's URL, and its port. */
  get url(): string {
    return this.#cluster().url;
  }
  get port(): number | null {
    return this.#cluster().info.port;
  }
  /** The master's pid. */
  get pid(): number {
    return this.#cluster().info.pid;
  }

  /** Everything the cluster printed so far. */
  output(): string {
    return this.#cluster().output();
  }

  /** A supertest client for the cluster's URL. */
  httpRequest(): ReturnType<typeof supertest> {
    return supertest(this.#cluster().url);
  }

  /** Stops it gracefully and resolves once every process is gone (with the master's exit code). */
  async close(): Promise<number | null> {
    const cluster = await this.#starting.catch(() => null);
    return cluster ? cluster.stop() : null;
  }
}

notProvided(MockCluster.prototype, 'cluster', {
  expect: 'the exit code close() resolves with, and output() for what was printed (assert on them)',
  debug: 'output() (everything the cluster printed)',
  process: 'pid (the master) and output()',
  mockHttpclient: 'mm.app() (a cluster runs in other processes, where the test cannot mock)',
  mockService: 'mm.app() (a cluster runs in other processes, where the test cannot mock)',
});
