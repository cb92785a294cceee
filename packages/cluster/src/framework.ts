/**
 * The contract between the process manager and the framework it starts. @clutch/cluster never
 * imports a framework: the master is given a module specifier, and each child imports it and calls
 * `startAgent` or `startWorker`. @clutch/core is the framework `app start` uses.
 */
import type { RequestListener } from 'node:http';
import type { Logger } from './logger.js';
import type { ChildMessage, MasterMessage } from './protocol.js';

/** The master's messages the framework handles; the process runtime keeps `cluster-ready`, `release` and `stop`. */
export type FrameworkMessage = Exclude<
  MasterMessage,
  {
    clutch:
      | 'cluster-ready'
      | 'release'
      | 'stop'
      | 'reopen-logs'
      | 'barrier'
      | 'listening'
      | 'listen-failed'
      | 'connection'
      | 'collect-metrics'
      | 'bind'
      | 'listen-on'
      | 'profile';
  }
>;

/** The child's end of the IPC channel to the master, as the framework sees it. */
export interface ChildTransport {
  /** This process's pid. */
  readonly pid: number;
  /** The master's pid. */
  readonly masterPid: number;
  /** Sends a protocol message to the master. Returns false if the master is gone. */
  send(message: ChildMessage): boolean;
  /** Sets the handler for messages from the master (deliveries, replies, pids, undeliverable). */
  onMessage(handler: (message: FrameworkMessage) => void): void;
}

/** The pids of the cluster, as the master last announced them. */
export interface ClusterPids {
  agent: number | null;
  workers: number[];
}

export interface FrameworkStartOptions {
  /** Absolute path of the project. */
  baseDir: string;
  /** The environment name (prod, local, test, …). */
  env: string;
  /** The cluster's title (from `--title`, else the project's package name). */
  title: string;
  logger: Logger;
  transport: ChildTransport;
  /** The pids known when this process was forked. */
  pids: ClusterPids;
}

/** Where a worker's HTTP server listens. `path` (a unix socket) wins over port and hostname. */
export interface ListenConfig {
  port?: number;
  hostname?: string;
  path?: string;
  /** HTTPS: the key and certificate files (PEM), relative to the project. Read by each new worker: a reload picks up renewed ones. */
  tls?: { key: string; cert: string };
  /** With `tls`: HTTP/2, with HTTP/1.1 for clients that do not offer it (ALPN). */
  http2?: boolean;
  /** Each worker slot has a socket of its own (SO_REUSEPORT; Linux, Node ≥ 22.12): the kernel spreads connections, the master is out of the accept path. */
  reusePort?: boolean;
}

/**
 * What a project's config says about running its cluster (`config.cluster.*`, `config.logger`).
 * The agent reads it and hands it to the master with its `ready`; the command line's flags win.
 */
export interface ClusterSettings {
  /** The health port: `/livez`, `/readyz`, `/metrics`. */
  health?: { port: number; hostname?: string };
  /** How many worker slots must be ready for /readyz to answer 200 (default: all). */
  minReady?: number;
  /** How long readiness answers 503 before a stop drains the workers, ms. */
  drainDelay?: number;
  /** How long a process may go without a heartbeat before it is replaced, ms; 0 turns the watchdog off. */
  stallTimeout?: number;
  /** A worker whose RSS stays above this many bytes is recycled. */
  maxMemory?: number;
  /** The format of every log line. */
  logFormat?: 'text' | 'json';
  /** How connections reach the workers: 'rr' (the master accepts and hands them round) or 'os' (one shared socket, the kernel picks). */
  scheduling?: 'rr' | 'os';
  /** Sticky sessions: the master hands each connection to the worker slot its remote address hashes to. */
  sticky?: boolean;
  /** `config.telemetry`: OpenTelemetry in the agent and every worker (docs/operations.md). */
  telemetry?: TelemetrySettings;
}

/** The project's `telemetry` config; the standard OTEL_* variables and CLUTCH_TELEMETRY win over it. */
export interface TelemetrySettings {
  enabled: boolean;
  /** The `service.name` of every span (default: the cluster's title). */
  serviceName?: string;
  /** Where spans go: 'otlp' (OTLP over HTTP, as OTEL_EXPORTER_OTLP_* say) or 'console'. */
  exporter?: 'otlp' | 'console';
}

/** A started agent or worker, as the process runtime drives it. */
export interface ProcessInstance {
  /** The agent's: the project's cluster settings, for the master. */
  settings?: ClusterSettings;
  /** Runs once the whole cluster is ready (and in a worker that replaced a dead one). */
  serverDidReady(): Promise<void>;
  /** Runs beforeClose and releases resources; the process exits after. `budgetMs`, when given, is what is left of the stop timeout. */
  close(budgetMs?: number): Promise<void>;
}

/**
 * Load shedding (docs/operations.md): a worker over any of these answers new requests 503 with
 * `Retry-After: retryAfter` (seconds) until it is back under. Absent limits are not checked.
 */
export interface OverloadLimits {
  /** ms */
  maxEventLoopDelay?: number;
  /** 0 to 1 */
  maxEventLoopUtilization?: number;
  maxHeapUsedBytes?: number;
  maxRssBytes?: number;
  /** seconds */
  retryAfter: number;
}

/** A worker's HTTP/1 server limits, as Node's `http.Server` takes them (ms, bytes). */
export interface ServerLimits {
  requestTimeout?: number;
  headersTimeout?: number;
  maxHeaderSize?: number;
}

export interface WorkerInstance extends ProcessInstance {
  /** The request handler the worker's HTTP server runs. */
  callback: RequestListener;
  /** Where to listen; the master's `port` option wins over `listen.port`. */
  listen: ListenConfig;
  /** The server's keep-alive timeout in ms (Node's default when absent). */
  keepAliveTimeout?: number;
  /** The server's request limits (Node's defaults for those absent). */
  limits?: ServerLimits;
  /** Load shedding, when the project turned it on. */
  overload?: OverloadLimits;
  /** The project's own metrics (prom-client's default registry, as JSON), or null when it has none. */
  metrics?(): Promise<unknown[] | null>;
  /** The worker's HTTP server is made, before it takes a connection (WebSocket servers attach here). */
  serverCreated?(server: import('node:http').Server | import('node:http2').Http2SecureServer): void;
  /** The worker stops taking requests (a stop or a reload): long-lived connections should close now. */
  draining?(): void;
}

/** What a framework module must export. */
export interface Framework {
  startAgent(options: FrameworkStartOptions): Promise<ProcessInstance>;
  startWorker(options: FrameworkStartOptions): Promise<WorkerInstance>;
  /**
   * Loads the modules startWorker will need, running no project code: a worker of the start calls it
   * while the agent boots, and boots (startWorker) once the agent is ready.
   */
  preloadWorker?(): Promise<void>;
  /** Runs in the master before it forks children (the start, each reload): work done once, not in every process. */
  prepare?(options: { baseDir: string; logger: Logger }): Promise<void>;
}
