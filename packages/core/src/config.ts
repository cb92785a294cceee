import type { ListenConfig } from '@clutch/cluster';
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

/** The framework's own config keys. */
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
    /** The master's health port (`/livez`, `/readyz`, `/metrics`); `--health-port` wins. Off when absent. */
    health?: { port: number; hostname?: string };
    /** On a stop, how long /readyz answers 503 while the workers keep serving, ms (default 0); `--drain-delay` wins. */
    drainDelay?: number;
    /** A process silent this long is replaced, ms (default 30000; 0 turns the watchdog off); `--stall-timeout` wins. */
    stallTimeout?: number;
    /** A worker whose RSS stays above this is recycled: bytes or a size like `'512MB'`; `--max-memory` wins. */
    maxMemory?: number;
    /**
     * One leader among every cluster of the project, on every host (see docs/scaling.md). `store`:
     * `'local'` (default: this cluster always leads), `'postgres'` or `'redis'` at `url`. Durations
     * in ms or like `'15s'`; after the load, ms.
     */
    leader: LeaderOptions;
  };
  /** How every process logs. `format: 'json'` makes each line one JSON object; `--log-format` and CLUTCH_LOG_FORMAT win. */
  logger: { format?: 'text' | 'json' };
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
  /** Middleware the plugins declared in their own config, in plugin order; runs before `middleware`. */
  coreMiddleware: string[];
  /** @koa/bodyparser: JSON and form bodies, on by default. Other keys go to the parser. */
  bodyParser: { enable: boolean } & Record<string, unknown>;
  /** Error pages: whether 5xx responses show the message and stack (default: env local or unittest). */
  onerror: { showDetails?: boolean };
  /** The keys cookies are signed with, comma-separated as egg's (the first signs, every one verifies); `app.keys`. */
  keys: string;
  /** Built-in plugin **static**: files of `dir` served under `prefix`. */
  static: StaticConfig;
  /** Built-in plugin **session**: koa-session's options (signed cookie sessions). */
  session: SessionConfig;
  /** Built-in plugin **security**: CSRF on unsafe methods, and safe default headers. */
  security: SecurityConfig;
  /** Built-in plugin **multipart**: `ctx.getFileStream()` and `ctx.multipart()` (busboy). */
  multipart: MultipartConfig;
  /** Built-in plugin **view**: `ctx.render()`; the engine by file extension, nunjucks provided. */
  view: ViewConfig;
  /** The nunjucks engine's options (its Environment's, and `cache`). */
  nunjucks: { autoescape?: boolean; throwOnUndefined?: boolean; trimBlocks?: boolean; lstripBlocks?: boolean; cache?: boolean };
}

export interface StaticConfig {
  /** The URL prefix (default `/public/`). */
  prefix: string;
  /** Where the files are: a folder, or several searched in order (default `app/public`). */
  dir: string | string[];
  /** Cache-Control max-age in seconds (default: a year in env prod, else 0). */
  maxAge: number;
  /** Serve `<file>.gz` / `.br` when the client accepts them (default true). */
  gzip?: boolean;
  brotli?: boolean;
}

export interface SessionConfig {
  /** The cookie's name (default `CLUTCH_SESS`). */
  key: string;
  /** ms, or `'session'` for a browser-session cookie (default one day). */
  maxAge: number | 'session';
  httpOnly: boolean;
  signed: boolean;
  /** Renew the cookie on every response / when half of maxAge has passed. */
  rolling?: boolean;
  renew?: boolean;
  sameSite?: 'strict' | 'lax' | 'none' | boolean | null;
  secure?: boolean;
  [option: string]: unknown;
}

export interface SecurityConfig {
  csrf: {
    enable: boolean;
    /** Where the token may come from: a header, a query parameter, a body field. */
    headerName: string;
    queryName: string;
    bodyName: string;
    /** The cookie holding the secret the tokens are made from. */
    cookieName: string;
    /** Paths not checked (a prefix string or a RegExp, or a list of them), e.g. a webhook. */
    ignore?: PathRule | PathRule[];
  };
  /** X-Frame-Options (default SAMEORIGIN). */
  xframe: { enable: boolean; value: string };
  /** X-Content-Type-Options: nosniff. */
  nosniff: { enable: boolean };
  /** X-Download-Options: noopen. */
  noopen: { enable: boolean };
  /** X-XSS-Protection (default `0`: the filter browsers had is itself a risk; CSP replaces it). */
  xssProtection: { enable: boolean; value: string };
  /** Strict-Transport-Security; off by default (turn it on behind TLS). */
  hsts: { enable: boolean; maxAge: number; includeSubdomains: boolean };
}

export interface MultipartConfig {
  /** The largest file, bytes or a size like `'10mb'` (default 10 MB). */
  fileSize: number | string;
  /** At most this many files and fields per request, and this many bytes per field. */
  files: number;
  fields: number;
  fieldSize: number | string;
  /** File extensions accepted besides the default list (egg's), e.g. `['.apk']`. */
  fileExtensions: string[];
  /** When set, exactly these extensions are accepted (replaces the default list). */
  whitelist?: string[];
}

export interface ViewConfig {
  /** Where templates are: a folder or several (default `app/view`). */
  root: string | string[];
  /** The engine for an extension `mapping` does not name (default `nunjucks`). */
  defaultViewEngine: string;
  /** Added to a name without one (default `.html`). */
  defaultExtension: string;
  /** Extension → engine name, e.g. `{ '.nj': 'nunjucks' }`. */
  mapping: Record<string, string>;
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
