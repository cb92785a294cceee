import type { Middleware } from 'koa';
import type { Agent } from '../agent.js';
import type { Application } from '../application.js';
import type { AppInfo, MiddlewareOptions } from '../config.js';
import type { PlainObject } from './merge-config.js';
import type { PluginEntry } from './plugins.js';

/** How a config check says what is wrong: the key's path, what it must be, and what it is (the file that set it is added). */
export type ConfigFail = (path: string, expected: string, value: unknown) => never;

/**
 * A middleware a framework plugin brings — its app/middleware file, held in code — mounted as a
 * file's is (options from `config[name]`, which also takes `enable: false`, `match` and `ignore`),
 * before the plugins' `coreMiddleware`, in the framework's order.
 */
export interface FrameworkMiddleware {
  readonly name: string;
  /** It goes just before this one (as egg-static puts itself before egg's bodyParser); otherwise after those placed so far. */
  readonly before?: string;
  /** Made once, at the start, with `config[name]`; null mounts nothing. */
  create(options: PlainObject & MiddlewareOptions, app: Application): Middleware | null | Promise<Middleware | null>;
}

/**
 * A plugin unit that is one of ours: what a plugin folder's files give — config defaults, a check of
 * them, app/extend, app/middleware — held in code, so nothing is looked for on disk and what a
 * process does not need is never loaded there (the agent never imports a middleware). The plugin
 * loader resolves it with the project's plugins: on unless config/plugin turns its name (or a name
 * the catalog gives it) off, loaded before them in catalog order, as egg's built-in plugins are.
 */
export interface FrameworkPlugin {
  readonly name: string;
  /** The framework's own unit (egg's framework folder is one): always on, and no config/plugin key names it. */
  readonly alwaysOn?: boolean;
  /**
   * Its config/config.default, merged first of the plugins' defaults. Its keys belong to the
   * framework's config type, so they are merged (and checked) whether the plugin is on or off.
   */
  config?(appInfo: AppInfo): PlainObject;
  /** Checks and normalizes its keys after the merge, so a wrong value fails the start naming the file that set it. */
  checkConfig?(config: PlainObject, fail: ConfigFail): void;
  /** Its app/extend in a worker: run before the units' app/extend files and app.ts. */
  extendApp?(app: Application): void | Promise<void>;
  /** Its app/extend/agent: run before the units' and agent.ts. */
  extendAgent?(agent: Agent): void | Promise<void>;
  /** Its app/middleware, mounted in workers. */
  readonly middleware?: readonly FrameworkMiddleware[];
}

/** What a plugin's package.json says of it (`clutchPlugin`), or what a catalog reads in its place. */
export interface PluginMeta {
  name: string;
  dependencies?: string[];
  optionalDependencies?: string[];
  /** The envs the plugin is on in when its config/plugin entry names none (default: all). */
  env?: string[];
}

/**
 * What a framework adds to the plugin loader: its own plugins, and how config/plugin may name
 * them. Set on the Application and the Agent before they boot (the egg wing's by installEgg).
 */
export interface PluginCatalog {
  /** In load order. */
  readonly plugins: readonly FrameworkPlugin[];
  /**
   * What a config/plugin entry means when it is not one of `plugins` by its key alone: another name
   * of one of them (egg's `nunjucks` for view), null for a part of the framework that is always there
   * (egg's schedule), undefined for none (a plugin to read). It may throw: a plugin the framework
   * knows it does not have.
   */
  alias?(key: string, entry: PluginEntry, at: { on: boolean; file: string }): string | null | undefined;
  /** A package config/plugin names is not installed: it may throw an error of its own that says why. */
  missing?(key: string, pkg: string): void;
  /**
   * A plugin whose package.json has no `clutchPlugin`: its meta read another way, or undefined for
   * the loader's own error. It may throw an error of its own that says why.
   */
  foreign?(key: string, path: string, pkg: PlainObject): PluginMeta | undefined;
}
