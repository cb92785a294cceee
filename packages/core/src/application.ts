import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { FrameworkStartOptions, Logger } from '@clutch/cluster';
import { http } from '@clutch/cluster/node-http';
import Koa from 'koa';
import { createRouter, type ClutchRouter } from './app-router.js';
import { BackgroundJobs } from './background-jobs.js';
import { bodyParser } from './body-parser.js';
import { ProcessCore, type Bootable } from './boot.js';
import type { ClutchConfig } from './config.js';
import { ANONYMOUS, STARTED, contextLogger } from './context-logger.js';
import type { Context } from './context.js';
import type { ControllerTree } from './controller.js';
import { watchEarlyMiddleware } from './early-middleware.js';
import { errorPage } from './error-page.js';
import { ClutchError, CoreErrorCode } from './errors.js';
import type { Lifecycle } from './lifecycle.js';
import { loadControllers } from './loader/controllers.js';
import { loadExtend } from './loader/extend.js';
import type { FrameworkMiddleware, FrameworkPlugin, PluginCatalog } from './loader/framework-plugin.js';
import { importDefault, resolveModuleFile } from './loader/import-module.js';
import { frameworkMiddleware, useMiddleware } from './loader/middleware.js';
import type { LoadUnit } from './loader/plugins.js';
import { loadServices } from './loader/services.js';
import type { HealthChecks } from './health-checks.js';
import type { Messenger } from './messenger.js';
import { RequestErrorLog } from './request-errors.js';
import { serveSchedules } from './schedule-runner.js';
import { serviceAccessor, type ServiceTree } from './service.js';

const SERVICES = Symbol('clutch.services');

/**
 * The app a worker runs: a Koa application with the project's config, plugins, services,
 * middleware, router, controllers and messenger, booted through the lifecycle hooks of app.ts.
 * What egg compatibility adds (the built-in plugins, string routes, egg's names) comes as framework
 * plugins through `catalog` (installEgg), not from here.
 */
export class Application extends Koa implements Bootable {
  readonly type = 'application' as const;
  readonly baseDir: string;
  override env: string;
  name: string;
  config!: ClutchConfig;
  units: LoadUnit[] = [];
  catalog: PluginCatalog = { plugins: [] };
  builtins: readonly FrameworkPlugin[] = [];
  readonly logger: Logger;
  readonly messenger: Messenger;
  /** Readiness checks: `/readyz` answers from them (docs/operations.md). */
  readonly health: HealthChecks;
  readonly lifecycle: Lifecycle;
  readonly router: ClutchRouter;
  controller = {} as ControllerTree;
  /** The worker's HTTP server, once it is made (the `'server'` event says when). */
  server: Server | null = null;
  readonly #core: ProcessCore;
  readonly #jobs = new BackgroundJobs();
  /** The framework's middleware in their order; their names open config.coreMiddleware. */
  #framework: FrameworkMiddleware[] = [];

  constructor(options: FrameworkStartOptions) {
    super();
    this.baseDir = options.baseDir;
    this.env = options.env;
    this.name = options.title;
    this.logger = options.logger;
    this.#core = new ProcessCore(options);
    this.lifecycle = this.#core.lifecycle;
    this.messenger = this.#core.messenger;
    this.health = this.#core.health;
    this.router = createRouter();
    contextLogger(this, this.logger);
    this.#jobs.attach(this);
    const requestErrors = new RequestErrorLog(this.logger);
    // First of all middleware, so errors of anything added later — even in the earliest hooks — get a
    // proper page. What it cannot handle (a response stream failing mid-body) reaches Koa's 'error'.
    this.use(
      errorPage({
        showDetails: () => this.config?.onerror?.showDetails ?? (this.env === 'local' || this.env === 'unittest'),
        log: requestErrors,
      }),
    );
    this.on('error', (err: Error & { status?: number; expose?: boolean }) => {
      if (err.status === 404 || err.expose) return;
      requestErrors.error(err, 'request failed: %s', err);
    });
  }

  /** Resolves once the app is ready (after willReady); with a callback, as egg's `app.ready(fn)`. */
  ready(callback?: (err?: Error) => void): Promise<void> {
    const ready = this.#core.ready();
    if (callback) ready.then(() => callback(), callback);
    return ready;
  }

  /** egg's `app.beforeStart(fn)`: `fn` runs after every file has loaded, and the app serves once it is done. */
  beforeStart(fn: () => unknown): void {
    this.#core.beforeStart(fn, this.logger);
  }

  /** egg's `app.beforeClose(fn)`: `fn` runs at the stop, with the beforeClose hooks (the latest first). */
  beforeClose(fn: () => unknown): void {
    this.#core.beforeClose(fn);
  }

  /** Boots the app: plugins, config, hooks, services, middleware, controllers, router, schedules. */
  async boot(): Promise<void> {
    await this.#core.boot(this, 'app', {
      extend: () => this.#loadExtends(),
      loadFiles: () => this.#loadFiles(),
      // The router goes last, so middleware added in didLoad or willReady runs before it.
      finish: () => this.use(this.router.routes()).use(this.router.allowedMethods()),
    });
  }

  override createContext<StateT = Koa.DefaultState>(req: IncomingMessage, res: ServerResponse): Koa.ParameterizedContext<StateT> {
    const ctx = super.createContext<StateT>(req, res);
    (ctx as { [STARTED]?: number })[STARTED] = performance.now();
    return ctx;
  }

  /** A context outside any request — for schedules and other background work. */
  createAnonymousContext(): Context {
    const req = new http.IncomingMessage(new Socket());
    req.method = 'GET';
    req.url = '/';
    req.headers = { host: '127.0.0.1' };
    const ctx = this.createContext(req, new http.ServerResponse(req)) as unknown as Context & { [ANONYMOUS]?: boolean };
    ctx[ANONYMOUS] = true;
    return ctx;
  }

  /**
   * Lets background jobs finish — within hookTimeout and half of `budgetMs` (what is left of the stop
   * timeout), so beforeClose always gets its turn — then runs beforeClose (in reverse load order) and
   * rejects pending messenger requests.
   */
  async close(budgetMs?: number): Promise<void> {
    const hookTimeout = this.config?.hookTimeout ?? 10_000;
    const left = await this.#jobs.settle(budgetMs === undefined ? hookTimeout : Math.min(hookTimeout, budgetMs / 2));
    if (left > 0) this.logger.warn('%d background jobs still running at the stop', left);
    await this.#core.close();
  }

  /** The worker's HTTP server is made: `app.server`, and the `'server'` event (a WebSocket server attaches here). */
  serverCreated(server: Server): void {
    this.server = server;
    this.emit('server', server);
  }

  /** The worker stops taking requests (a stop or a reload): `'draining'` — close WebSockets and event streams now. */
  draining(): void {
    this.emit('draining');
  }

  /**
   * app/extend, before app.ts runs (app.ts may use it, as egg's app.js does): the framework plugins'
   * first, then every unit's files onto the app and Koa's prototypes, a later unit winning a name.
   */
  async #loadExtends(): Promise<void> {
    // Before any plugin's app.ts runs, so it can place its middleware among the framework's.
    this.#framework = frameworkMiddleware([bodyParser], this.builtins);
    this.config.coreMiddleware = [...this.#framework.map((m) => m.name), ...this.config.coreMiddleware];
    for (const plugin of this.builtins) await plugin.extendApp?.(this);
    await loadExtend(this.units, 'application', this);
    await loadExtend(this.units, 'context', this.context);
    await loadExtend(this.units, 'request', this.request);
    await loadExtend(this.units, 'response', this.response);
  }

  async #loadFiles(): Promise<void> {
    const Services = serviceAccessor(await loadServices(this.units));
    Object.defineProperty(this.context, 'service', {
      get(this: Context & { [SERVICES]?: ServiceTree }) {
        return (this[SERVICES] ??= new Services(this));
      },
    });
    // The error page and what app.js app.use()d come before the built-ins.
    const early = this.middleware.length;
    await useMiddleware(this, this.units, this.#framework);
    watchEarlyMiddleware(this, early, this.logger);

    const project = this.units.find((u) => u.type === 'app')!;
    this.controller = await loadControllers(join(project.path, 'app', 'controller'));
    await this.loadRouter();
    await serveSchedules(this);
  }

  /**
   * Runs the project's app/router (after the middleware and the controllers are loaded). A seam: a
   * wing or a plugin may replace it on the instance to load more routes around it.
   */
  loadRouter = async (): Promise<void> => {
    const project = this.units.find((u) => u.type === 'app')!;
    const routerFile = await resolveModuleFile(join(project.path, 'app', 'router'));
    if (!routerFile) return;
    const define = await importDefault(routerFile);
    if (typeof define !== 'function') {
      throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${routerFile} must export default a function (app) => { … }`);
    }
    await (define as (app: Application) => unknown)(this);
  };
}
