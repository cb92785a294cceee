import { basename, extname, join } from 'node:path';
import type { Context, Middleware } from 'koa';
import type { Application } from '../application.js';
import type { MiddlewareOptions } from '../config.js';
import { ClutchError, CoreErrorCode } from '../errors.js';
import { ruleTest } from '../path-rules.js';
import { importDefault } from './import-module.js';
import { camelCase, listModules } from './list-modules.js';
import { isPlainObject } from './merge-config.js';
import type { FrameworkMiddleware, FrameworkPlugin } from './framework-plugin.js';
import type { LoadUnit } from './plugins.js';

/** app/middleware/<name>.ts: `export default (options, app) => koaMiddleware`. */
export type MiddlewareFactory<O = Record<string, unknown>> = (options: O & MiddlewareOptions, app: Application) => Middleware;

/** Wraps a middleware so it runs only where `match`/`ignore` say (`label` names it in errors). */
export function scoped(mw: Middleware, options: MiddlewareOptions, label = 'middleware'): Middleware {
  const match = options.match === undefined ? undefined : ruleTest(options.match, `config.${label}.match`);
  const ignore = options.ignore === undefined ? undefined : ruleTest(options.ignore, `config.${label}.ignore`);
  if (match === undefined && ignore === undefined) return mw;
  return (ctx: Context, next) => {
    if (match !== undefined && !match(ctx)) return next();
    if (ignore !== undefined && ignore(ctx)) return next();
    return mw(ctx, next);
  };
}

/**
 * The framework's middleware in egg's order, as egg builds its coreMiddleware list: the kernel's
 * own (`first`: the body parser), then each framework plugin's in load order — placed just before
 * the one it names in `before` (as egg-static splices itself in before bodyParser), else after the
 * rest (as egg-session and egg-security push theirs). Built-ins on: static, bodyParser, session, security.
 */
export function frameworkMiddleware(first: readonly FrameworkMiddleware[], plugins: readonly FrameworkPlugin[]): FrameworkMiddleware[] {
  const chain = [...first];
  for (const mw of plugins.flatMap((p) => p.middleware ?? [])) {
    const at = mw.before === undefined ? -1 : chain.findIndex((m) => m.name === mw.before);
    if (at < 0) chain.push(mw);
    else chain.splice(at, 0, mw);
  }
  return chain;
}

function optionsOf(raw: unknown): MiddlewareOptions & Record<string, unknown> {
  return isPlainObject(raw) ? raw : {};
}

/**
 * Mounts, in the order of `config.coreMiddleware` — the framework's middleware (`framework`, see
 * frameworkMiddleware, listed there by name at the start, so a plugin's app.js may place its own
 * among them, as egg's do) and the plugins' — then the project's `middleware`; each with its options
 * from `config[name]`. A name that is neither the framework's nor a file in app/middleware of some
 * unit (a later unit's file wins a name) is a start error naming it.
 */
export async function useMiddleware(app: Application, units: LoadUnit[], framework: readonly FrameworkMiddleware[] = []): Promise<string[]> {
  const mounted: string[] = [];
  const own = new Map(framework.map((m) => [m.name, m]));
  const factories = new Map<string, { factory: MiddlewareFactory; file: string }>();
  for (const unit of units) {
    for (const file of await listModules(join(unit.path, 'app', 'middleware'))) {
      const factory = await importDefault(file);
      if (typeof factory !== 'function') throw new ClutchError(CoreErrorCode.MIDDLEWARE_INVALID, `${file} must export default (options, app) => middleware`);
      factories.set(camelCase(basename(file, extname(file))), { factory: factory as MiddlewareFactory, file });
    }
  }
  const { coreMiddleware, middleware } = app.config;
  for (const [key, list] of [
    ['coreMiddleware', coreMiddleware],
    ['middleware', middleware],
  ] as const) {
    if (!Array.isArray(list) || !list.every((m) => typeof m === 'string'))
      throw new ClutchError(CoreErrorCode.MIDDLEWARE_INVALID, `config.${key} must be an array of middleware names`);
  }
  for (const name of [...coreMiddleware, ...middleware]) {
    const options = optionsOf(app.config[name]);
    const builtin = own.get(name);
    if (builtin) {
      if (options.enable === false) continue;
      const mw = await builtin.create(options, app);
      if (mw === null) continue;
      app.use(scoped(mw, options, name));
      mounted.push(name);
      continue;
    }
    const found = factories.get(name);
    if (!found) {
      const known = [...factories.keys()].join(', ') || 'none';
      throw new ClutchError(
        CoreErrorCode.MIDDLEWARE_INVALID,
        `Middleware "${name}" is enabled in config but no app/middleware/${name} file exists (found: ${known})`,
      );
    }
    if (options.enable === false) continue;
    const mw = found.factory(options, app);
    if (typeof mw !== 'function') throw new ClutchError(CoreErrorCode.MIDDLEWARE_INVALID, `${found.file} returned ${typeof mw}, not a middleware function`);
    app.use(scoped(mw, options, name));
    mounted.push(name);
  }
  return mounted;
}
