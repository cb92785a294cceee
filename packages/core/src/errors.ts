import { ClutchError as AnyClutchError, codedError as anyCodedError, type ClutchErrorClass, type SerializedError } from '@clutch/cluster/errors';

/** The error codes raised by @clutch/core. Each is listed with its fix in docs/errors.md. */
export const CoreErrorCode = {
  /** A config file failed to import (syntax error, a throw at the top level, …). */
  CONFIG_LOAD_FAILED: 'CLUTCH_ERR_CONFIG_LOAD_FAILED',
  /** A config file's default export is neither an object nor a function returning one. */
  CONFIG_INVALID: 'CLUTCH_ERR_CONFIG_INVALID',
  /** config/plugin names a plugin that cannot be found, or whose package.json has no clutchPlugin. */
  PLUGIN_INVALID: 'CLUTCH_ERR_PLUGIN_INVALID',
  /** Two enabled plugins have the same name. */
  PLUGIN_DUPLICATE: 'CLUTCH_ERR_PLUGIN_DUPLICATE',
  /** An enabled plugin depends on a plugin that is not enabled. */
  PLUGIN_MISSING_DEPENDENCY: 'CLUTCH_ERR_PLUGIN_MISSING_DEPENDENCY',
  /** Plugins depend on each other in a cycle. */
  PLUGIN_CYCLE: 'CLUTCH_ERR_PLUGIN_CYCLE',
  /** app/middleware or config.middleware is wrong (unknown name, not a factory). */
  MIDDLEWARE_INVALID: 'CLUTCH_ERR_MIDDLEWARE_INVALID',
  /** A file under app/schedule is wrong (bad interval, bad cron, no task). */
  SCHEDULE_INVALID: 'CLUTCH_ERR_SCHEDULE_INVALID',
  /** A project file (app.ts, agent.ts, router, controller) failed to import. */
  LOADER_IMPORT_FAILED: 'CLUTCH_ERR_LOADER_IMPORT_FAILED',
  /** A project file's default export has the wrong shape. */
  LOADER_INVALID_EXPORT: 'CLUTCH_ERR_LOADER_INVALID_EXPORT',
  /** `app.health.check(name, fn, options)` was given a bad name, function or duration, or a name used already. */
  HEALTH_CHECK_INVALID: 'CLUTCH_ERR_HEALTH_CHECK_INVALID',
  /** A lifecycle hook threw or rejected. */
  HOOK_FAILED: 'CLUTCH_ERR_LIFECYCLE_HOOK_FAILED',
  /** A lifecycle hook did not settle within its timeout. */
  HOOK_TIMEOUT: 'CLUTCH_ERR_LIFECYCLE_HOOK_TIMEOUT',
  /** An action name is not a non-empty string. */
  MESSENGER_INVALID_ACTION: 'CLUTCH_ERR_MESSENGER_INVALID_ACTION',
  /** A target is not 'agent', 'random' or a pid (or 'app'/'all' where allowed). */
  MESSENGER_INVALID_TARGET: 'CLUTCH_ERR_MESSENGER_INVALID_TARGET',
  /** The data of a message cannot travel as JSON. */
  MESSENGER_UNSERIALIZABLE: 'CLUTCH_ERR_MESSENGER_UNSERIALIZABLE',
  /** No reply came within the request's timeout. */
  MESSENGER_TIMEOUT: 'CLUTCH_ERR_MESSENGER_TIMEOUT',
  /** The receiving process has no handler for the requested action. */
  MESSENGER_NO_HANDLER: 'CLUTCH_ERR_MESSENGER_NO_HANDLER',
  /** A handler for this action is already registered in this process. */
  MESSENGER_HANDLER_EXISTS: 'CLUTCH_ERR_MESSENGER_HANDLER_EXISTS',
  /** A request handler failed; the message is the handler's own. */
  MESSENGER_HANDLER_FAILED: 'CLUTCH_ERR_MESSENGER_HANDLER_FAILED',
  /** The channel to the master is closed. */
  MESSENGER_DISCONNECTED: 'CLUTCH_ERR_MESSENGER_DISCONNECTED',
  /** The process is closing: pending requests are rejected. */
  MESSENGER_CLOSED: 'CLUTCH_ERR_MESSENGER_CLOSED',
  /** (a log line) the lease store (PostgreSQL, Redis) cannot be reached: the cluster serves, does not lead, and keeps trying. */
  LEADER_STORE_UNREACHABLE: 'CLUTCH_ERR_LEADER_STORE_UNREACHABLE',
  /** The reason a leader job's signal aborts: this agent is no longer sure it leads. */
  LEADER_LOST: 'CLUTCH_ERR_LEADER_LOST',
  /** One message (or reply) is larger than `messenger.maxMessageBytes`. */
  MESSENGER_TOO_LARGE: 'CLUTCH_ERR_MESSENGER_TOO_LARGE',
  /** This process already has `messenger.maxPendingBytes` on their way to that target. */
  MESSENGER_QUEUE_FULL: 'CLUTCH_ERR_MESSENGER_QUEUE_FULL',
  /** An egg idiom Clutch does not have (an egg plugin, app.httpclient, …); the message says what to use instead. */
  NOT_PROVIDED: 'CLUTCH_ERR_NOT_PROVIDED',
  /** `app.addSingleton(name, create)` got no name or no function, or `config[name]` is not `{ client } | { clients } | { default }` of objects. */
  EGG_SINGLETON_INVALID: 'CLUTCH_ERR_EGG_SINGLETON_INVALID',
  /** `app.loader.loadToApp` / `loadToContext` / `FileLoader`: a directory's file cannot load, or two files claim one property. */
  EGG_LOADER_FAILED: 'CLUTCH_ERR_EGG_LOADER_FAILED',
  /** A string route names a controller action that does not exist (`router.get('/', 'home.nope')`). */
  ROUTER_UNKNOWN_ACTION: 'CLUTCH_ERR_ROUTER_UNKNOWN_ACTION',
  /** Signed cookies or the session were used with no `config.keys`. */
  KEYS_MISSING: 'CLUTCH_ERR_KEYS_MISSING',
  /** (a log line) a cookie read with `{ encrypt: true }` (the session's among them) did not decrypt with any of config.keys: it reads as absent. */
  COOKIE_UNREADABLE: 'CLUTCH_ERR_COOKIE_UNREADABLE',
  /** (a 403) an unsafe request without a valid CSRF token. */
  CSRF_INVALID: 'CLUTCH_ERR_CSRF_INVALID',
  /** (a 400 or 413) a multipart request that is not one, has a file type not accepted, or is past a limit. */
  MULTIPART_INVALID: 'CLUTCH_ERR_MULTIPART_INVALID',
  /** `ctx.render` found no template of that name, or no engine for its extension. */
  VIEW_NOT_FOUND: 'CLUTCH_ERR_VIEW_NOT_FOUND',
  /** ctx.curl / app.httpclient: no whole answer within `timeout` (the error's name is egg's HttpClientRequestTimeoutError). */
  HTTPCLIENT_TIMEOUT: 'CLUTCH_ERR_HTTPCLIENT_TIMEOUT',
  /** ctx.curl / app.httpclient: the connection failed (RequestError), or a `dataType: 'json'` body did not parse (JSONResponseFormatError). */
  HTTPCLIENT_FAILED: 'CLUTCH_ERR_HTTPCLIENT_FAILED',
  /** ctx.curl / app.httpclient: an option it does not take (urllib's agent, digestAuth, …), or a value it cannot read (a timeout like '3 parsecs'). */
  HTTPCLIENT_OPTION_INVALID: 'CLUTCH_ERR_HTTPCLIENT_OPTION_INVALID',
  /** (a log line) run/ts-cache cannot be written (a full disk, a folder owned by another user): each process compiles the project's TypeScript in memory. */
  TYPESCRIPT_CACHE_UNWRITABLE: 'CLUTCH_ERR_TYPESCRIPT_CACHE_UNWRITABLE',
} as const;

export type CoreErrorCode = (typeof CoreErrorCode)[keyof typeof CoreErrorCode];

/** The codes @clutch/core raises: what its errors are made with. */
export type ClutchErrorCode = CoreErrorCode;

/**
 * The cluster's ClutchError (one class: `instanceof` holds for every package's errors), made here
 * with core's codes only: a code that is not in CoreErrorCode does not compile.
 */
export const ClutchError: ClutchErrorClass<ClutchErrorCode> = AnyClutchError;
export type ClutchError = AnyClutchError<ClutchErrorCode>;

/** A coded error that crosses a process boundary (a reply), with one of core's codes. */
export function codedError(code: ClutchErrorCode, message: string): SerializedError {
  return anyCodedError<ClutchErrorCode>(code, message);
}
