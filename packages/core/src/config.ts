import type { ListenConfig, TelemetrySettings } from '@clutch/cluster';
import type { LeaderOptions } from './leader/lease-store.js';
import type { PlainObject } from './loader/merge-config.js';

/** What a function-form config file receives. */
export interface AppInfo {
  /** The project's package name (or its folder name). */
  name: string;
  baseDir: string;
  env: string;
  HOME: string;
  /** The project's package.json. */
  pkg: PlainObject;
}

/**
 * A project's own config keys, declared so `app.config` is typed:
 *
 * @example
 * declare module '@clutch/core' {
 *   interface AppConfig { greeting: string }
 * }
 */
export interface AppConfig {}

/** A `match`/`ignore` rule: a path (and what is under it), a RegExp tested on the path, or a function of the context. */
export type PathRule = string | RegExp | ((ctx: import('./context.js').Context) => boolean);

/** Options every middleware accepts besides its own (`config[name]`). */
export interface MiddlewareOptions {
  /** false turns the middleware off. */
  enable?: boolean;
  /** Run only for requests under this path, matching this RegExp, or for which this function is true (or any of a list). */
  match?: PathRule | PathRule[];
  /** Skip requests under this path, matching this RegExp, or for which this function is true (or any of a list). */
  ignore?: PathRule | PathRule[];
}

/**
 * The framework's own config keys. The framework's plugins (the egg wing's built-ins) add theirs
 * by declaration merging, next to the code that reads them.
 */
export interface FrameworkConfig {
  cluster: {
    /** Where workers listen. The CLI's `--port` wins over `listen.port`. */
    listen: ListenConfig;
    /** How long an idle keep-alive connection stays open, in ms. */
    keepAliveTimeout: number;
    /**
     * How connections reach the workers: `'rr'` (default: the master accepts and hands them round,
     * as node:cluster does) or `'os'` (one socket every worker accepts on; the kernel picks).
     * `listen.reusePort` gives each worker slot a socket of its own instead.
     */
    scheduling?: 'rr' | 'os';
    /**
     * Sticky sessions (egg-cluster's `sticky`): the master hands every connection from one client
     * address to the same worker slot, so a session held in a worker's memory (socket.io's polling
     * transport) finds it again; `--sticky` turns it on too. Round-robin scheduling on a port only.
     */
    sticky?: boolean;
    /** The master's health port (`/livez`, `/readyz`, `/metrics`); `--health-port` wins. Off when absent. */
    health?: {
      port?: number;
      hostname?: string;
      /** How many worker slots must be ready for /readyz to answer 200 (default: all of them). */
      minReady?: number;
    };
    /** On a stop, how long /readyz answers 503 while the workers keep serving, ms (default 0); `--drain-delay` wins. */
    drainDelay?: number;
    /** A process silent this long is replaced, ms (default 30000; 0 turns the watchdog off); `--stall-timeout` wins. */
    stallTimeout?: number;
    /** A worker whose RSS stays above this is recycled: bytes or a size like `'512MB'`; `--max-memory` wins. */
    maxMemory?: number;
    /** How long a request may take to arrive whole, headers and body, ms (Node's `server.requestTimeout`: 300000; 0: no limit); longer gets 408. */
    requestTimeout?: number;
    /** How long a request's headers may take to arrive, ms (Node's `server.headersTimeout`: 60000, at most `requestTimeout`); longer gets 408. */
    headersTimeout?: number;
    /** The largest request head, bytes or a size like `'32kb'` (Node's default: 16 KB); larger gets 431. */
    maxHeaderSize?: number;
    /**
     * Load shedding, off unless set (docs/operations.md): a worker over any limit answers new requests
     * 503 with `Retry-After` before any middleware runs, until it is back under. Durations in ms or
     * like `'200ms'`, sizes in bytes or like `'1.5gb'`; after the load, ms and bytes.
     */
    overload?: {
      maxEventLoopDelay?: number | string;
      maxEventLoopUtilization?: number;
      maxHeapUsedBytes?: number | string;
      maxRssBytes?: number | string;
      /** What Retry-After says (rounded up to whole seconds; default 10 s). */
      retryAfter?: number | string;
    };
    /**
     * One leader among every cluster of the project, on every host (see docs/scaling.md). `store`:
     * `'local'` (default: this cluster always leads), `'postgres'` or `'redis'` at `url`. Durations
     * in ms or like `'15s'`; after the load, ms.
     */
    leader: LeaderOptions;
  };
  /** How every process logs. `format: 'json'` makes each line one JSON object; `--log-format` and CLUTCH_LOG_FORMAT win. */
  logger: { format?: 'text' | 'json' };
  /**
   * OpenTelemetry in the agent and every worker (`@clutch/telemetry`, installed by the project; see
   * docs/operations.md). CLUTCH_TELEMETRY and the standard OTEL_* variables win over these keys.
   */
  telemetry: TelemetrySettings;
  /** How long one lifecycle hook may take, in ms. */
  hookTimeout: number;
  messenger: {
    /** Default timeout of `messenger.request`, in ms. */
    requestTimeout: number;
    /** The largest message or reply, as JSON text (default 8 MB; a number of bytes or `'8MB'`). A larger send throws CLUTCH_ERR_MESSENGER_TOO_LARGE. */
    maxMessageBytes: number;
    /**
     * What one process may have on its way to one target — sent, and not yet out of the master
     * (default 32 MB). A send past it throws CLUTCH_ERR_MESSENGER_QUEUE_FULL.
     */
    maxPendingBytes: number;
  };
  /** The project's middleware, by name (app/middleware/<name>), in order. */
  middleware: string[];
  /**
   * The framework's middleware (siteFile, static, bodyParser, session, security: those on), then
   * what the plugins declared in their own config, in plugin order; runs before `middleware`. A
   * plugin's app.ts may insert a name among them before the middleware load, as egg's do.
   */
  coreMiddleware: string[];
  /** @koa/bodyparser: JSON and form bodies, on by default. Other keys go to the parser. */
  bodyParser: { enable: boolean } & Record<string, unknown>;
  /** Error pages: whether 5xx responses show the message and stack (default: env local or unittest). */
  onerror: { showDetails?: boolean };
}

/** The configuration every process of the cluster reads: the framework's keys, the project's declared keys (AppConfig), anything else as unknown. */
export interface ClutchConfig extends FrameworkConfig, AppConfig {
  env: string;
  name: string;
  baseDir: string;
  [key: string]: unknown;
}

/** A config file's default export: an object, or a function of the AppInfo returning one. */
export type ConfigExport = PlainObject | ((appInfo: AppInfo) => PlainObject | Promise<PlainObject>);
