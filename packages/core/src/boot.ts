import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { FrameworkStartOptions, Logger } from '@clutch/cluster';
import { LOG_FORMAT_ENV, setLogFormat } from '@clutch/cluster/logger';
import { tracing } from '@clutch/cluster/tracing';
import type { ClutchConfig } from './config.js';
import { loadConfig, projectName } from './loader/config.js';
import { ClutchError, CoreErrorCode } from './errors.js';
import { configureTypeScript, importDefault, resolveModuleFile } from './loader/import-module.js';
import { Ready } from 'get-ready';
import { Lifecycle, type BootHooks } from './lifecycle.js';
import { HealthChecks } from './health-checks.js';
import { Messenger } from './messenger.js';
import type { FrameworkPlugin, PluginCatalog } from './loader/framework-plugin.js';
import { resolveUnits, type LoadUnit } from './loader/plugins.js';

/** What the Application and the Agent share for booting. */
export interface Bootable {
  readonly baseDir: string;
  readonly env: string;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  readonly messenger: Messenger;
  config: ClutchConfig;
  name: string;
  /** The plugins in load order, then the project. */
  units: LoadUnit[];
  /** The framework's own plugins, and how config/plugin names them: set before the boot by a wing (installEgg). */
  catalog: PluginCatalog;
  /** The framework's plugins config/plugin left on, in load order (before `units`). */
  builtins: readonly FrameworkPlugin[];
  /** Runs `fn` before the process is ready (after its files load), as egg's; the start waits for it. */
  beforeStart(fn: () => unknown): void;
  /** Runs `fn` at the stop, with the beforeClose hooks, as egg's. */
  beforeClose(fn: () => unknown): void;
}

function isClass(fn: (...args: never[]) => unknown): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/**
 * app.ts / agent.ts: a boot class (`export default class { constructor(app) {} async didLoad() {} }`),
 * or, as egg's, a function `(app) => { app.beforeStart(…) }` called once the config is loaded.
 */
async function loadBoot(host: Bootable, file: string): Promise<BootHooks> {
  const Boot = await importDefault(file);
  if (typeof Boot !== 'function') {
    throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${file} must export default a class with lifecycle hooks, or a function (app) => { … }`);
  }
  if (!isClass(Boot as () => unknown)) return { configDidLoad: () => (Boot as (host: Bootable) => unknown)(host) };
  try {
    return new (Boot as new (host: Bootable) => BootHooks)(host);
  } catch (err) {
    throw new ClutchError(CoreErrorCode.HOOK_FAILED, `constructor in ${file} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Writes run/config-sources.json: for each config key, the file that set it. Written atomically
 * (temp file, then rename); a read-only project only loses the record, never the start.
 */
async function writeSources(host: Bootable, sources: Record<string, string>): Promise<void> {
  const dir = join(host.baseDir, 'run');
  const rel = Object.fromEntries(Object.entries(sources).map(([k, f]) => [k, f === 'framework' ? f : relative(host.baseDir, f)]));
  try {
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.config-sources.${process.pid}.json`);
    await writeFile(
      tmp,
      `${JSON.stringify({ env: host.env, units: host.units.map((u) => ({ name: u.name, type: u.type, path: u.path })), sources: rel }, null, 2)}\n`,
    );
    await rename(tmp, join(dir, 'config-sources.json'));
  } catch (err) {
    host.logger.warn('could not write run/config-sources.json: %s', (err as Error).message);
  }
}

/** What a role adds to the boot: app/extend (the framework plugins', then the units'; before app.ts runs), its files, the last step before ready. */
export interface BootSteps {
  extend?: () => Promise<void>;
  loadFiles: () => Promise<void>;
  finish?: () => void;
}

/**
 * The boot sequence of a worker or the agent: plugins → config → boot classes (plugins first) →
 * configWillLoad → configDidLoad → project files → didLoad → willReady → (finish) → ready → didReady.
 */
export async function bootProcess(host: Bootable, bootFile: 'app' | 'agent', steps: BootSteps & { markReady: () => void }): Promise<void> {
  configureTypeScript(host.baseDir, host.logger);
  const plugins = await resolveUnits(host.baseDir, host.env, await projectName(host.baseDir), host.catalog);
  host.units = plugins.units;
  host.builtins = plugins.builtins;
  // Every framework plugin's defaults, on or off: its keys are part of the config's type.
  const { config, sources } = await loadConfig(host.baseDir, host.env, host.units, host.catalog.plugins);
  host.config = config;
  host.name = config.name;
  host.lifecycle.timeout = config.hookTimeout;
  host.messenger.requestTimeout = config.messenger.requestTimeout;
  // The project's log format, unless the command line or the environment chose one for every process.
  if (config.logger.format && process.env[LOG_FORMAT_ENV] === undefined) setLogFormat(config.logger.format);
  // With telemetry on (the master gave this process the hook), the SDK starts with the project's settings.
  tracing()?.configure(config.telemetry);
  host.messenger.limits = { maxMessageBytes: config.messenger.maxMessageBytes, maxPendingBytes: config.messenger.maxPendingBytes };
  // One process records where the config came from; every process loads the same files.
  if (bootFile === 'agent') await writeSources(host, sources);
  await steps.extend?.();
  for (const unit of host.units) {
    const file = await resolveModuleFile(join(unit.path, bootFile));
    if (file) host.lifecycle.add({ name: unit.type === 'plugin' ? `${file} (plugin ${unit.name})` : file, hooks: await loadBoot(host, file) });
  }
  await host.lifecycle.run('configWillLoad');
  await host.lifecycle.run('configDidLoad');
  await steps.loadFiles();
  await host.lifecycle.run('didLoad');
  await host.lifecycle.run('willReady');
  steps.finish?.();
  steps.markReady();
  await host.lifecycle.run('didReady');
}

/**
 * The process core the Application and the Agent share by composition (one extends Koa, the other
 * EventEmitter): the lifecycle, the messenger, the ready state, and the boot and close around them.
 */
export class ProcessCore {
  readonly lifecycle: Lifecycle;
  readonly messenger: Messenger;
  /** Readiness checks (`app.health`, `agent.health`). */
  readonly health: HealthChecks;
  readonly #ready = new Ready();
  #isReady = false;
  #starts = 0;

  constructor(options: FrameworkStartOptions) {
    // Both timeouts are the framework's defaults until the config is loaded (bootProcess sets them).
    this.lifecycle = new Lifecycle({ logger: options.logger, timeout: 10_000 });
    this.messenger = new Messenger(options.transport, { logger: options.logger, pids: options.pids, requestTimeout: 5_000 });
    this.health = new HealthChecks(options.transport, options.logger);
  }

  /** Resolves once the process is ready (after willReady); rejects with its boot error. */
  ready(): Promise<void> {
    return this.#ready.ready();
  }

  /** Boots `host` (see bootProcess); a failure also rejects `ready()`. */
  async boot(host: Bootable, bootFile: 'app' | 'agent', steps: BootSteps): Promise<void> {
    try {
      await bootProcess(host, bootFile, {
        ...steps,
        markReady: () => {
          this.#isReady = true;
          this.#ready.ready(true);
        },
      });
    } catch (err) {
      this.#ready.ready(err as Error);
      throw err;
    }
  }

  /**
   * egg's `beforeStart(fn)`: runs in willReady, after every file has loaded, and the start waits for
   * it (within hookTimeout). Once the process is ready, it runs at once and a failure is logged.
   */
  beforeStart(fn: () => unknown, logger: Logger): void {
    if (typeof fn !== 'function') throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, 'beforeStart(fn) takes a function');
    if (this.#isReady) {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => logger.error('beforeStart after the start failed: %s', err));
      return;
    }
    this.lifecycle.add({ name: `beforeStart #${++this.#starts}${fn.name ? ` (${fn.name})` : ''}`, hooks: { willReady: fn } });
  }

  /** egg's `beforeClose(fn)`: `fn` runs at the stop with the boot classes' beforeClose hooks, the latest first. */
  beforeClose(fn: () => unknown): void {
    if (typeof fn !== 'function') throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, 'beforeClose(fn) takes a function');
    this.lifecycle.add({ name: `beforeClose${fn.name ? ` (${fn.name})` : ''}`, hooks: { beforeClose: fn } });
  }

  /** Runs beforeClose (in reverse load order) and rejects pending messenger requests. */
  async close(): Promise<void> {
    this.health.close();
    await this.lifecycle.run('beforeClose');
    this.messenger.close();
  }
}
