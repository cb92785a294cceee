import { ClusterErrorCode, ClutchError } from './errors.js';

/** What the master needs to run a cluster. */
export interface ClusterOptions {
  /** Absolute path of the project directory. */
  baseDir: string;
  /** Module specifier (a file URL or an absolute path) of the framework the children start. */
  framework: string;
  /** How many app workers to run. */
  workers: number;
  /** The most workers `app scale` may ask for. Unset: four per CPU, and never fewer than `workers`. */
  maxWorkers?: number;
  /** The environment name passed to every process. */
  env: string;
  /** The cluster's title: shown in process titles and used to find the cluster. */
  title: string;
  /** The HTTP port; wins over the project's `config.cluster.listen.port`. 0 takes a free port. */
  port?: number;
  /** How long the whole start may take, agent included, in ms. */
  startTimeout: number;
  /** How long a process may take to stop before it gets SIGKILL, in ms. */
  stopTimeout: number;
  /** How many messages may wait in the master for one process that is not ready yet. */
  maxPending: number;
  /** The health port (`/livez`, `/readyz`, `/metrics`); 0 takes a free one. Unset: the project's config.cluster.health, else none. */
  healthPort?: number;
  healthHostname?: string;
  /** On a stop, how long /readyz answers 503 while the workers go on serving, ms. Unset: the project's config, else 0. */
  drainDelay?: number;
  /** A process without a heartbeat this long is replaced, ms; 0 turns the watchdog off. Unset: the project's config, else 30 s. */
  stallTimeout?: number;
  /** A worker whose RSS stays above this many bytes is recycled. Unset: the project's config, else no limit. */
  maxMemory?: number;
  /** How connections reach the workers: 'rr' (default) or 'os'. Unset: the project's config.cluster.scheduling. */
  scheduling?: 'rr' | 'os';
  /** One SO_REUSEPORT socket per worker slot (Linux, Node ≥ 22.12). Unset: the project's config.cluster.listen.reusePort. */
  reusePort?: boolean;
  /** Sticky sessions: a client's address picks its worker's slot (round-robin scheduling only). Unset: the project's config.cluster.sticky. */
  sticky?: boolean;
  /** Env files (absolute paths), read by the master at the start and at each reload; their values reach every child. */
  envFiles?: string[];
}

/** What each child reads from its environment (`CLUTCH_PROCESS`) at birth. */
export interface ChildOptions {
  baseDir: string;
  framework: string;
  env: string;
  title: string;
  stopTimeout: number;
  /** How often the child sends a heartbeat, ms. */
  heartbeatMs: number;
  /** A worker's memory limit (bytes), when one is set: the worker watches its RSS itself, every 100 ms, and reports crossing it at once. */
  maxMemory?: number;
  /** Forked during the start: the master reports a boot error (with its stack), so the child does not log it too. */
  bootErrorReported: boolean;
  masterPid: number;
  agentPid: number | null;
  /**
   * A worker of the start, forked while the agent boots: it loads the framework's modules, then
   * waits for the master's `release` (the agent is ready) before it boots: none of its boot hooks
   * runs before the agent's didReady.
   */
  gated?: boolean;
}

export const CHILD_OPTIONS_ENV = 'CLUTCH_PROCESS';

export const DEFAULTS = {
  startTimeout: 60_000,
  stopTimeout: 10_000,
  maxPending: 100_000,
  drainDelay: 0,
  stallTimeout: 30_000,
} as const;

function invalid(name: string, value: unknown, expected: string): ClutchError {
  return new ClutchError(ClusterErrorCode.INVALID_OPTION, `Invalid cluster option ${name}: ${JSON.stringify(value)} (expected ${expected})`);
}

/** Fills defaults and checks every option, throwing CLUTCH_ERR_CLUSTER_INVALID_OPTION on the first bad one. */
export function normalizeOptions(input: Partial<ClusterOptions> & Pick<ClusterOptions, 'baseDir' | 'framework'>): ClusterOptions {
  const options: ClusterOptions = {
    workers: 1,
    env: 'prod',
    title: 'clutch',
    startTimeout: DEFAULTS.startTimeout,
    stopTimeout: DEFAULTS.stopTimeout,
    maxPending: DEFAULTS.maxPending,
    ...input,
  };
  const positive = (name: keyof ClusterOptions) => {
    const value = options[name];
    if (!Number.isInteger(value) || (value as number) < 1) throw invalid(name, value, 'a positive integer');
  };
  positive('workers');
  if (options.maxWorkers !== undefined && (!Number.isSafeInteger(options.maxWorkers) || options.maxWorkers < options.workers))
    throw invalid('maxWorkers', options.maxWorkers, `an integer no smaller than workers (${options.workers})`);
  positive('startTimeout');
  positive('stopTimeout');
  positive('maxPending');
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)) {
    throw invalid('port', options.port, 'an integer from 0 to 65535');
  }
  if (!options.env) throw invalid('env', options.env, 'a non-empty name');
  if (options.healthPort !== undefined && (!Number.isInteger(options.healthPort) || options.healthPort < 0 || options.healthPort > 65535)) {
    throw invalid('healthPort', options.healthPort, 'an integer from 0 to 65535');
  }
  for (const name of ['drainDelay', 'stallTimeout'] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) throw invalid(name, value, 'an integer of milliseconds, 0 or more');
  }
  if (options.scheduling !== undefined && options.scheduling !== 'rr' && options.scheduling !== 'os')
    throw invalid('scheduling', options.scheduling, "'rr' or 'os'");
  if (options.sticky !== undefined && typeof options.sticky !== 'boolean') throw invalid('sticky', options.sticky, 'true or false');
  if (options.maxMemory !== undefined && (!Number.isSafeInteger(options.maxMemory) || options.maxMemory <= 0))
    throw invalid('maxMemory', options.maxMemory, 'a positive number of bytes');
  return options;
}
