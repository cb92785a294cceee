import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { Server } from 'node:http';
import Router from '@koa/router';
import type { FrameworkStartOptions, Logger } from '@clutch/cluster';
import Koa from 'koa';
import type { Context } from './context.js';
import { ProcessCore, type Bootable } from './boot.js';
import type { ClutchConfig, MiddlewareOptions } from './config.js';
import type { ControllerTree } from './controller.js';
import { errorPage } from './error-page.js';
import { ClutchError, CoreErrorCode } from './errors.js';
import { importDefault, resolveModuleFile } from './loader/import-module.js';
import type { Lifecycle } from './lifecycle.js';
import { loadControllers } from './loader/controllers.js';
import type { Messenger } from './messenger.js';
import { scoped, useMiddleware } from './loader/middleware.js';
import { lazyBodyParser, parserOptions } from './body-parser.js';
import { multipart } from './egg/plugins/multipart.js';
import { security } from './egg/plugins/security.js';
import { session } from './egg/plugins/session.js';
import { staticFiles } from './egg/plugins/static.js';
import { view, ViewManager, type ViewLocals } from './egg/plugins/view.js';
import { BackgroundJobs } from './background-jobs.js';
import { ANONYMOUS, STARTED, contextLogger } from './context-logger.js';
import { NOT_PROVIDED, contextExtras, notProvided, signCookiesByDefault } from './egg/context-extras.js';
import { Helper } from './egg/helper.js';
import { curl } from './egg/httpclient.js';
import { loadExtend } from './loader/extend.js';
import type { BuiltinPlugin } from './loader/plugins.js';
import { eggRoutes, type ClutchRouter } from './egg/router.js';
import { RequestErrorLog } from './request-errors.js';
import { cacheRouteMatches } from './route-cache.js';
import type { LoadUnit } from './loader/plugins.js';
import { serveSchedules } from './schedule-runner.js';
import { loadServices } from './loader/services.js';
import { Service, serviceAccessor, type ServiceTree } from './service.js';
import { Controller } from './controller.js';
import { Subscription } from './schedule.js';

const SERVICES = Symbol('clutch.services');
const HELPER = Symbol('clutch.helper');

/**
 * The app a worker runs: a Koa application with the project's config, plugins, services,
 * middleware, router, controllers and messenger, booted through the lifecycle hooks of app.ts.
 */
export class Application extends Koa implements Bootable {
  readonly type = 'application' as const;
  readonly baseDir: string;
  override env: string;
  name: string;
  config!: ClutchConfig;
  units: LoadUnit[] = [];
  builtins = new Set<BuiltinPlugin>();
  readonly logger: Logger;
  readonly messenger: Messenger;
  readonly lifecycle: Lifecycle;
  readonly router: ClutchRouter;
  controller = {} as ControllerTree;
  /** The worker's HTTP server, once it is made (the `'server'` event says when). */
  server: Server | null = null;
  /** egg's HTTP client (on Node's fetch): `app.httpclient.request(url, options)`, also `app.curl` and `ctx.curl`. */
  readonly httpclient = { request: curl, curl };
  readonly curl = curl;
  /** egg's base classes on the app: `class extends app.Controller`. */
  readonly Controller = Controller;
  readonly Service = Service;
  readonly Subscription = Subscription;
  /** What every template sees (built-in plugin view). */
  locals: ViewLocals = {};
  /** The template engines (built-in plugin view); null when the plugin is off. */
  view: ViewManager | null = null;
  readonly #core: ProcessCore;
  readonly #jobs = new BackgroundJobs();

  constructor(options: FrameworkStartOptions) {
    super();
    this.baseDir = options.baseDir;
    this.env = options.env;
    this.name = options.title;
    this.logger = options.logger;
    this.#core = new ProcessCore(options);
    this.lifecycle = this.#core.lifecycle;
    this.messenger = this.#core.messenger;
    const requestErrors = new RequestErrorLog(this.logger);
    const router = new Router();
    cacheRouteMatches(router);
    this.router = eggRoutes(router, () => this.controller);
    contextLogger(this, this.logger);
    this.#jobs.attach(this);
    contextExtras(this);
    notProvided([
      [this, 'app', NOT_PROVIDED.app],
      [this.context, 'ctx', { ...NOT_PROVIDED.app, ...NOT_PROVIDED.context }],
      [this.request, 'ctx.request', NOT_PROVIDED.request],
    ]);
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
      requestErrors.error(err, 'request failed: %s', err.stack ?? err.message);
    });
  }

  /** Resolves once the app is ready (after willReady); with a callback, as egg's `app.ready(fn)`. */
  ready(callback?: (err?: Error) => void): Promise<void> {
    const ready = this.#core.ready();
    if (callback) ready.then(() => callback(), callback);
    return ready;
  }

  /** egg's `app.url(name, params)`: the path of a named route. */
  url(name: string, params?: Record<string, unknown>): string {
    const url = this.router.url(name, params ?? {});
    if (url instanceof Error) throw new ClutchError(CoreErrorCode.ROUTER_UNKNOWN_ACTION, `app.url('${name}'): ${url.message}`);
    return url;
  }

  /** egg's `app.coreLogger`: Clutch has one logger per process. */
  get coreLogger(): Logger {
    return this.logger;
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
      extend: () => {
        this.#prepareBuiltins();
        return this.#loadExtends();
      },
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
    const req = new IncomingMessage(new Socket());
    req.method = 'GET';
    req.url = '/';
    req.headers = { host: '127.0.0.1' };
    const ctx = this.createContext(req, new ServerResponse(req)) as unknown as Context & { [ANONYMOUS]?: boolean };
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

  /** app/extend of every unit, onto the app, Koa's prototypes and the helper; before app.ts runs, as egg's. */
  async #loadExtends(): Promise<void> {
    const units = this.units;
    await loadExtend(units, 'application', this);
    await loadExtend(units, 'context', this.context);
    await loadExtend(units, 'request', this.request);
    await loadExtend(units, 'response', this.response);
    const AppHelper = class extends Helper {};
    notProvided([[AppHelper.prototype, 'ctx.helper', NOT_PROVIDED.helper]]);
    await loadExtend(units, 'helper', AppHelper.prototype);
    Object.defineProperty(this.context, 'helper', {
      configurable: true,
      get(this: Context & { [HELPER]?: Helper }) {
        return (this[HELPER] ??= new AppHelper(this));
      },
    });
  }

  /** The built-in plugins config/plugin left on, in egg's order: static, body parser, session, security. */
  /**
   * What the built-ins give the app before its own files run (app.ts may use them, as egg's
   * app.js does): `app.keys`, signed cookies, `app.view`, the multipart and view context methods.
   */
  #prepareBuiltins(): void {
    const { config, builtins } = this;
    const keys = config.keys
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    // No keys: Koa's cookies stay unsigned (an empty list would make every ctx.cookies throw).
    if (keys.length > 0) {
      this.keys = keys;
      signCookiesByDefault(this);
    }
    if (builtins.has('multipart')) multipart(config.multipart, this);
    if (builtins.has('view')) {
      this.view = new ViewManager(config.view, config.nunjucks, this.baseDir);
      view(this.view, this);
    }
  }

  /** The built-in middleware config/plugin left on, in egg's order: static, body parser, session, security. */
  #useBuiltins(): void {
    const { config, builtins } = this;
    if (builtins.has('static')) this.use(staticFiles(config.static, this.baseDir));
    const { enable, match, ignore } = config.bodyParser as { enable: boolean } & MiddlewareOptions;
    if (enable !== false)
      this.use(
        scoped(
          lazyBodyParser(parserOptions(config.bodyParser), this.router as unknown as Router),
          { ...(match ? { match } : {}), ...(ignore ? { ignore } : {}) },
          'bodyParser',
        ),
      );
    if (builtins.has('session')) {
      const mw = session(config.session, this, this.logger);
      if (mw) this.use(mw);
    }
    if (builtins.has('security')) this.use(security(config.security, this));
  }

  async #loadFiles(): Promise<void> {
    const Services = serviceAccessor(await loadServices(this.units));
    Object.defineProperty(this.context, 'service', {
      get(this: Context & { [SERVICES]?: ServiceTree }) {
        return (this[SERVICES] ??= new Services(this));
      },
    });
    this.#useBuiltins();
    await useMiddleware(this, this.units);

    const project = this.units.find((u) => u.type === 'app')!;
    this.controller = await loadControllers(join(project.path, 'app', 'controller'));
    const routerFile = await resolveModuleFile(join(project.path, 'app', 'router'));
    if (routerFile) {
      const define = await importDefault(routerFile);
      if (typeof define !== 'function') {
        throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${routerFile} must export default a function (app) => { … }`);
      }
      await (define as (app: Application) => unknown)(this);
    }

    await serveSchedules(this);
  }
}
