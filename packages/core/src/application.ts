import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { join } from 'node:path';
import Router from '@koa/router';
import type { FrameworkStartOptions, Logger } from '@clutch/cluster';
import Koa, { type Middleware } from 'koa';
import type { Context } from './context.js';
import { ProcessCore, type Bootable } from './boot.js';
import type { ClutchConfig } from './config.js';
import type { ControllerTree } from './controller.js';
import { errorPage } from './error-page.js';
import { ClutchError, CoreErrorCode } from './errors.js';
import { importDefault, resolveModuleFile } from './loader/import-module.js';
import type { Lifecycle } from './lifecycle.js';
import { loadControllers } from './loader/controllers.js';
import type { Messenger } from './messenger.js';
import { useMiddleware } from './loader/middleware.js';
import { RequestErrorLog } from './request-errors.js';
import { cacheRouteMatches } from './route-cache.js';
import type { LoadUnit } from './loader/plugins.js';
import { loadSchedules } from './loader/schedules.js';
import { SCHEDULE_ACTION, type ScheduleRun } from './scheduler.js';
import { loadServices } from './loader/services.js';
import { serviceAccessor, type ServiceTree } from './service.js';

const SERVICES = Symbol('clutch.services');

/** The methods @koa/bodyparser parses (its default); it passes every other request through untouched. */
const PARSED_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * @koa/bodyparser, imported on the first request it would parse: it costs ~90 ms and ~20 MB at
 * start-up, which a worker serving only GETs never needs to pay. Behaviour is the parser's own.
 */
function lazyBodyParser(options: Record<string, unknown>): Middleware {
  let parser: Promise<Middleware> | null = null;
  // Not async: a GET passes straight through without a promise of its own.
  return (ctx, next) => {
    if (!PARSED_METHODS.has(ctx.method)) return next();
    parser ??= import('@koa/bodyparser').then(({ bodyParser }) => bodyParser(options) as unknown as Middleware);
    return parser.then((parse) => parse(ctx, next));
  };
}

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
  readonly logger: Logger;
  readonly messenger: Messenger;
  readonly lifecycle: Lifecycle;
  readonly router = new Router();
  controller = {} as ControllerTree;
  readonly #core: ProcessCore;

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
    cacheRouteMatches(this.router);
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

  /** Resolves once the app is ready (after willReady). */
  ready(): Promise<void> {
    return this.#core.ready();
  }

  /** Boots the app: plugins, config, hooks, services, middleware, controllers, router, schedules. */
  async boot(): Promise<void> {
    await this.#core.boot(this, 'app', {
      loadFiles: () => this.#loadFiles(),
      // The router goes last, so middleware added in didLoad or willReady runs before it.
      finish: () => this.use(this.router.routes()).use(this.router.allowedMethods()),
    });
  }

  /** A context outside any request — for schedules and other background work. */
  createAnonymousContext(): Context {
    const req = new IncomingMessage(new Socket());
    req.method = 'GET';
    req.url = '/';
    req.headers = { host: '127.0.0.1' };
    return this.createContext(req, new ServerResponse(req)) as unknown as Context;
  }

  /** Runs beforeClose (in reverse load order) and rejects pending messenger requests. */
  close(): Promise<void> {
    return this.#core.close();
  }

  async #loadFiles(): Promise<void> {
    const Services = serviceAccessor(await loadServices(this.units));
    Object.defineProperty(this.context, 'service', {
      get(this: Context & { [SERVICES]?: ServiceTree }) {
        return (this[SERVICES] ??= new Services(this));
      },
    });
    const { enable, ...parserOptions } = this.config.bodyParser;
    if (enable !== false) this.use(lazyBodyParser(parserOptions));
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

    // The agent times the schedules; this worker runs a task when asked.
    const tasks = new Map((await loadSchedules(this.units)).map((s) => [s.key, s]));
    // The worker's own guard against overlap: an agent that replaced another (a reload) does not
    // know about runs the old one started; a task still running here answers false (skipped).
    const running = new Set<string>();
    this.messenger.handle(SCHEDULE_ACTION, async ({ key, tick, token }: ScheduleRun) => {
      const schedule = tasks.get(key);
      if (!schedule) throw new ClutchError(CoreErrorCode.SCHEDULE_INVALID, `No schedule ${key} in this worker`);
      if (running.has(key)) return false;
      running.add(key);
      try {
        const ctx = this.createAnonymousContext();
        ctx.schedule = { name: key, tick: tick ?? Date.now(), token: token ?? null };
        await schedule.task(ctx);
      } finally {
        running.delete(key);
      }
      return true;
    });
  }
}
