import { join } from 'node:path';
import Router from '@koa/router';
import type { FrameworkStartOptions, Logger } from '@clutch/cluster';
import { Ready } from 'get-ready';
import Koa from 'koa';
import { bootProcess, type Bootable } from './boot.js';
import type { ClutchConfig } from './config.js';
import type { ControllerTree } from './controller.js';
import { ClutchError, CoreErrorCode } from './errors.js';
import { importDefault, resolveModuleFile } from './import-module.js';
import { Lifecycle } from './lifecycle.js';
import { loadControllers } from './load-controllers.js';
import { Messenger } from './messenger.js';

/**
 * The app a worker runs: a Koa application with the project's config, router, controllers and
 * messenger, booted through the lifecycle hooks of app.ts.
 */
export class Application extends Koa implements Bootable {
  readonly type = 'application' as const;
  readonly baseDir: string;
  override env: string;
  name: string;
  config!: ClutchConfig;
  readonly logger: Logger;
  readonly messenger: Messenger;
  readonly lifecycle: Lifecycle;
  readonly router = new Router();
  controller: ControllerTree = {};
  readonly #ready = new Ready();

  constructor(options: FrameworkStartOptions) {
    super();
    this.baseDir = options.baseDir;
    this.env = options.env;
    this.name = options.title;
    this.logger = options.logger;
    this.lifecycle = new Lifecycle({ logger: this.logger, timeout: 10_000 });
    this.messenger = new Messenger(options.transport, { logger: this.logger, pids: options.pids, requestTimeout: 5_000 });
    this.on('error', (err: Error & { status?: number; expose?: boolean }) => {
      if (err.status === 404 || err.expose) return;
      this.logger.error('request failed: %s', err.stack ?? err.message);
    });
  }

  /** Resolves once the app is ready (after willReady). */
  ready(): Promise<void> {
    return this.#ready.ready();
  }

  /** Boots the app: config, app.ts hooks, controllers, router. Rejects with a coded error naming the file and hook. */
  async boot(): Promise<void> {
    try {
      await bootProcess(this, 'app', {
        loadFiles: () => this.#loadFiles(),
        // The router goes last, so middleware added in didLoad or willReady runs before it.
        finish: () => this.use(this.router.routes()).use(this.router.allowedMethods()),
        markReady: () => this.#ready.ready(true),
      });
    } catch (err) {
      this.#ready.ready(err as Error);
      throw err;
    }
  }

  /** Runs beforeClose (in reverse load order) and rejects pending messenger requests. */
  async close(): Promise<void> {
    await this.lifecycle.run('beforeClose');
    this.messenger.close();
  }

  async #loadFiles(): Promise<void> {
    this.controller = await loadControllers(join(this.baseDir, 'app', 'controller'));
    const routerFile = await resolveModuleFile(join(this.baseDir, 'app', 'router'));
    if (routerFile) {
      const define = await importDefault(routerFile);
      if (typeof define !== 'function') {
        throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${routerFile} must export default a function (app) => { … }`);
      }
      await (define as (app: Application) => unknown)(this);
    }
  }
}
