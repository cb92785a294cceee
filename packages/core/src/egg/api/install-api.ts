import type { Logger } from '@clutch/cluster';
import type { Agent } from '../../agent.js';
import type { Application } from '../../application.js';
import { ClutchError, CoreErrorCode } from '../../errors.js';
import { EggLoader } from './egg-loader.js';
import { addSingleton, type CreateClient } from './singleton.js';
import { drainEggSocketIo } from './socket-io-drain.js';

/** egg's router shorthands on the app: `app.get(path, …)` is `app.router.get(path, …)`. */
const ROUTER_VERBS = ['head', 'options', 'get', 'put', 'patch', 'post', 'delete', 'del', 'all', 'resources', 'redirect', 'register'] as const;

/** egg's `toAsyncFunction`: a function as it is; a generator function (egg 1's co style) is not run. */
function toAsyncFunction<F extends (...args: never[]) => unknown>(fn: F): F {
  if (Object.prototype.toString.call(fn) === '[object GeneratorFunction]')
    throw new ClutchError(
      CoreErrorCode.NOT_PROVIDED,
      `toAsyncFunction(${fn.name || 'fn'}): a generator function is egg 1's co style; Clutch runs async functions: rewrite it as one`,
    );
  return fn;
}

/** The names both processes get: addSingleton, loader, getLogger, toAsyncFunction, deprecate. */
function common(host: Application | Agent, loader: EggLoader): void {
  const warned = new Set<string>();
  Object.defineProperties(host, {
    addSingleton: { configurable: true, value: (name: string, create: CreateClient) => addSingleton(host, name, create) },
    loader: { configurable: true, enumerable: false, writable: true, value: loader },
    // egg's custom loggers (config.customLogger) are files of their own; Clutch has one logger per process.
    getLogger: { configurable: true, value: (_name?: string): Logger => host.logger },
    toAsyncFunction: { configurable: true, value: toAsyncFunction },
    deprecate: {
      configurable: true,
      value: (message: string) => {
        if (warned.has(message)) return;
        warned.add(message);
        host.logger.warn('deprecated: %s', message);
      },
    },
  });
}

/**
 * The egg APIs the common egg plugins call, on a worker's app (before any plugin's app.js runs):
 * `app.addSingleton`, `app.loader` (`FileLoader`, `loadToApp`, `loadToContext`, `loadRouter`),
 * `app.getLogger`, `app.toAsyncFunction`, `app.deprecate`, the router shorthands (`app.get`…),
 * and egg's other names of the middleware lists (`coreMiddlewares`, `appMiddleware`); and, on
 * `'draining'`, the close of egg-socket.io's connections.
 */
export function installAppApi(app: Application): void {
  drainEggSocketIo(app);
  const frameworkRouterLoad = app.loadRouter;
  const loader = new EggLoader(app, frameworkRouterLoad);
  common(app, loader);
  // The worker loads its routes through app.loader.loadRouter, which a plugin may have wrapped; the
  // framework's load it started is awaited too (a wrapper calls it without waiting).
  app.loadRouter = async () => {
    await loader.loadRouter();
    await loader.routerLoad;
  };
  for (const verb of ROUTER_VERBS) {
    Object.defineProperty(app, verb, {
      configurable: true,
      writable: true,
      value: (...args: unknown[]) => {
        const router = app.router as unknown as Record<string, (...a: unknown[]) => unknown>;
        router[verb === 'del' ? 'delete' : verb]!.apply(app.router, args);
        return app;
      },
    });
  }
  const config = app.config;
  const alias = (name: string, of: 'coreMiddleware' | 'middleware') =>
    Object.defineProperty(config, name, {
      configurable: true,
      enumerable: false,
      get: () => config[of],
      set: (value: string[]) => (config[of] = value),
    });
  alias('coreMiddlewares', 'coreMiddleware');
  alias('appMiddleware', 'middleware');
  alias('appMiddlewares', 'middleware');
}

/** The same APIs in the agent (no router), and egg's `agent.context`, a plain object plugins extend. */
export function installAgentApi(agent: Agent): void {
  if (!('context' in agent)) Object.defineProperty(agent, 'context', { configurable: true, writable: true, value: {} });
  common(agent, new EggLoader(agent));
  Object.defineProperty(agent, 'coreLogger', { configurable: true, get: () => agent.logger });
}

/** The egg APIs the wing adds to the application and to the agent alike. */
export interface EggApi {
  /**
   * egg's `app.addSingleton(name, create)`: makes the clients of `config[name]` (`client`, or
   * `clients` read by `app[name].get(id)`, each over `default`) with `create(config, app, name)`.
   */
  addSingleton(name: string, create: CreateClient): void;
  /** egg's loader, the parts plugins call (FileLoader, loadToApp, loadToContext, loadController, loadRouter). */
  loader: EggLoader;
  /** egg's `app.getLogger(name)`: Clutch has one logger per process, so every name is it. */
  getLogger(name?: string): Logger;
  toAsyncFunction<F extends (...args: never[]) => unknown>(fn: F): F;
  /** Logs a deprecation once per message. */
  deprecate(message: string): void;
}

declare module '../../application.js' {
  interface Application extends EggApi {}
}

declare module '../../agent.js' {
  interface Agent extends EggApi {
    /** egg's `agent.context`: a plain object (the agent serves no request) that plugins may put names on. */
    context: Record<string, unknown>;
    readonly coreLogger: Logger;
  }
}
