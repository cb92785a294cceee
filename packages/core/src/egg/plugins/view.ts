import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join, resolve, sep } from 'node:path';
import type Koa from 'koa';
import type { Context } from 'koa';
import type { Environment } from 'nunjucks';
import { ClutchError, CoreErrorCode } from '../../errors.js';
import { importDefault, resolveModuleFile } from '../../loader/import-module.js';
import type { LoadUnit } from '../../loader/plugins.js';

export type ViewLocals = Record<string, unknown>;

/** A template engine: given the file found, its HTML. */
export interface ViewEngine {
  render(file: string, locals: ViewLocals, options: { name: string; root: string }): Promise<string> | string;
  renderString?(template: string, locals: ViewLocals): Promise<string> | string;
}

/** An engine as egg's view plugins write one: a class made per request with its context. */
export type ViewEngineClass = new (ctx: Context) => ViewEngine;

/**
 * nunjucks's Environment over the view folders (egg-view-nunjucks's `app.nunjucks`). nunjucks is
 * CommonJS: it loads synchronously, the first time the environment is wanted — by a render, by
 * app.js reading `app.nunjucks`, or by app/extend/filter — so an app that renders nothing never loads it.
 */
function nunjucksEnvironment(roots: string[], options: NunjucksConfig): Environment {
  const nunjucks = createRequire(import.meta.url)('nunjucks') as typeof import('nunjucks');
  const { cache, ...envOptions } = options;
  return new nunjucks.Environment(new nunjucks.FileSystemLoader(roots, { noCache: cache === false }), envOptions);
}

/** nunjucks (the engine egg-view-nunjucks wraps): renders through the one Environment. */
function nunjucksEngine(env: Environment): ViewEngine {
  const done =
    (resolveHtml: (html: string) => void, reject: (err: Error) => void) =>
    (err: Error | null, html: string | null): void => {
      if (err) reject(err);
      else resolveHtml(html ?? '');
    };
  return {
    render: (_file, locals, { name }) => new Promise((ok, fail) => env.render(name, locals, done(ok, fail))),
    renderString: (template, locals) => new Promise((ok, fail) => env.renderString(template, locals, done(ok, fail))),
  };
}

/**
 * `app.view`: the engines by name, and how a name becomes a file — `<root>/<name>` plus
 * `defaultExtension` when the name has none, in the first root that has it; the engine is the one
 * `mapping` gives its extension, else `defaultViewEngine`. nunjucks is there by name, loaded when
 * first used.
 */
export class ViewManager {
  readonly roots: string[];
  readonly #config: ViewConfig;
  readonly #engines = new Map<string, ViewEngine | ViewEngineClass | (() => Promise<ViewEngine>)>();
  /** Engines loaded on first use (nunjucks), as opposed to classes made per request. */
  readonly #lazy = new Set<string>();

  constructor(config: ViewConfig, nunjucks: NunjucksConfig, baseDir: string) {
    this.#config = config;
    this.roots = (Array.isArray(config.root) ? config.root : config.root.split(',')).map((r) => resolve(baseDir, r.trim()));
    this.#nunjucksConfig = nunjucks;
    let made: ViewEngine | null = null;
    this.#engines.set('nunjucks', async () => (made ??= nunjucksEngine(this.nunjucks)));
    this.#lazy.add('nunjucks');
  }

  readonly #nunjucksConfig: NunjucksConfig;
  #nunjucks: Environment | null = null;

  /** The nunjucks Environment (egg's `app.nunjucks`): add filters, globals, extensions to it. */
  get nunjucks(): Environment {
    return (this.#nunjucks ??= nunjucksEnvironment(this.roots, this.#nunjucksConfig));
  }

  /**
   * Adds (or replaces) an engine: an object `{ render(file, locals, options) }`, or — as egg's view
   * plugins are — a class made per request with its context. `config.view.mapping` says which
   * extensions it renders (`{ '.ejs': 'ejs' }`), unless it is the `defaultViewEngine`.
   */
  use(name: string, engine: ViewEngine | ViewEngineClass): void {
    const ok =
      typeof engine === 'function' ? typeof (engine.prototype as Partial<ViewEngine> | undefined)?.render === 'function' : typeof engine?.render === 'function';
    if (!ok)
      throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `view engine ${name} must have render(file, locals), or be a class whose instances have it`);
    this.#engines.set(name, engine);
    this.#lazy.delete(name);
  }

  async #engine(name: string, forWhat: string, ctx: Context | undefined): Promise<ViewEngine> {
    const found = this.#engines.get(name);
    if (!found) throw new ClutchError(CoreErrorCode.VIEW_NOT_FOUND, `No view engine "${name}" for ${forWhat} (add one with app.view.use('${name}', engine))`);
    if (typeof found !== 'function') return found;
    if (this.#lazy.has(name)) return (found as () => Promise<ViewEngine>)();
    if (!ctx) throw new ClutchError(CoreErrorCode.VIEW_NOT_FOUND, `The view engine ${name} is made per request: render through ctx.render`);
    return new (found as ViewEngineClass)(ctx);
  }

  /** The HTML of the template `name` with `locals` (`ctx`: the request, for engines made per request). */
  async render(name: string, locals: ViewLocals, ctx?: Context): Promise<string> {
    const file = extname(name) ? name : `${name}${this.#config.defaultExtension}`;
    for (const root of this.roots) {
      const full = resolve(root, file);
      if (!full.startsWith(`${root}${sep}`)) break;
      const info = await stat(full).catch(() => null);
      if (!info?.isFile()) continue;
      const engine = await this.#engine(this.#config.mapping[extname(file)] ?? this.#config.defaultViewEngine, file, ctx);
      return engine.render(full, locals, { name: file, root });
    }
    throw new ClutchError(CoreErrorCode.VIEW_NOT_FOUND, `No template ${file} in ${this.roots.join(', ')}`);
  }

  /** The HTML of a template given as text, by the default engine. */
  async renderString(template: string, locals: ViewLocals, ctx?: Context): Promise<string> {
    const engine = await this.#engine(this.#config.defaultViewEngine, 'renderString', ctx);
    if (!engine.renderString) throw new ClutchError(CoreErrorCode.VIEW_NOT_FOUND, `The view engine ${this.#config.defaultViewEngine} cannot render a string`);
    return engine.renderString(template, locals);
  }
}

/**
 * Built-in plugin **view**: `ctx.render(name, locals)` sets the response to the page; `renderView`
 * returns it. Templates see `ctx`, `request`, `helper`, `ctx.locals` (over `app.locals`) and the locals given.
 */
export function view(manager: ViewManager, app: Koa & { locals: ViewLocals }): void {
  const LOCALS = Symbol('clutch.locals');
  const localsOf = (ctx: Context, extra: ViewLocals | undefined): ViewLocals => ({
    ctx,
    request: ctx.request,
    helper: ctx.helper,
    // ctx.locals inherits app.locals; a spread copies own keys only, so both are spread.
    ...app.locals,
    ...(ctx as { locals: ViewLocals }).locals,
    ...extra,
  });
  Object.defineProperties(app.context, {
    locals: {
      configurable: true,
      get(this: Context & { [LOCALS]?: ViewLocals }) {
        return (this[LOCALS] ??= Object.create(app.locals) as ViewLocals);
      },
      set(this: Context & { [LOCALS]?: ViewLocals }, value: ViewLocals) {
        Object.assign(this.locals, value);
      },
    },
    renderView: {
      configurable: true,
      writable: true,
      value(this: Context, name: string, locals?: ViewLocals) {
        return manager.render(name, localsOf(this, locals), this);
      },
    },
    renderString: {
      configurable: true,
      writable: true,
      value(this: Context, template: string, locals?: ViewLocals) {
        return manager.renderString(template, localsOf(this, locals), this);
      },
    },
    // Writable, so a third-party view middleware (koa-views sets ctx.render on each request it
    // handles) takes over those requests instead of being refused (strict mode) or ignored.
    render: {
      configurable: true,
      writable: true,
      async value(this: Context, name: string, locals?: ViewLocals) {
        const html = await manager.render(name, localsOf(this, locals), this);
        this.type = 'html';
        this.body = html;
      },
    },
  });
}

/**
 * egg-view-nunjucks's extension points: `app.nunjucks` (the Environment, for app.js to add filters,
 * globals or extensions to) and app/extend/filter.{ts,js} of every unit — each export a filter of
 * that name, a later unit winning a name, as egg's. The filters are registered at the start, before
 * app.js runs.
 */
export async function nunjucksFilters(manager: ViewManager, app: Koa & { units: LoadUnit[] }): Promise<void> {
  Object.defineProperty(app, 'nunjucks', { configurable: true, enumerable: false, get: () => manager.nunjucks });
  for (const unit of app.units) {
    const file = await resolveModuleFile(join(unit.path, 'app', 'extend', 'filter'));
    if (!file) continue;
    const filters = await importDefault(file);
    if (typeof filters !== 'object' || filters === null)
      throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${file} must export default an object of filters`);
    for (const [name, filter] of Object.entries(filters)) {
      if (typeof filter !== 'function') throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${file}: the filter ${name} must be a function`);
      manager.nunjucks.addFilter(name, filter as (...args: unknown[]) => unknown);
    }
  }
}

declare module 'koa' {
  interface DefaultContext {
    /** Renders the template `name` into the response (built-in plugin view). */
    render(name: string, locals?: ViewLocals): Promise<void>;
    /** The HTML of the template `name`. */
    renderView(name: string, locals?: ViewLocals): Promise<string>;
    /** The HTML of a template given as text. */
    renderString(template: string, locals?: ViewLocals): Promise<string>;
    /** What every template of this request sees (over `app.locals`). */
    locals: ViewLocals;
  }
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

/** The nunjucks engine's options (its Environment's, and `cache`). */
export interface NunjucksConfig {
  autoescape?: boolean;
  throwOnUndefined?: boolean;
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
  cache?: boolean;
}

declare module '../../config.js' {
  interface FrameworkConfig {
    /** Built-in plugin **view**: `ctx.render()`; the engine by file extension, nunjucks provided. */
    view: ViewConfig;
    /** The nunjucks engine's options (its Environment's, and `cache`). */
    nunjucks: NunjucksConfig;
  }
}

declare module '../../application.js' {
  interface Application {
    /** What every template sees (built-in plugin view). */
    locals: ViewLocals;
    /** The template engines (built-in plugin view); null when the plugin is off. */
    view: ViewManager | null;
    /** egg-view-nunjucks's: the nunjucks Environment (built-in plugin view; absent when it is off). */
    readonly nunjucks: Environment;
  }
}
