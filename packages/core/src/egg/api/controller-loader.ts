import { join } from 'node:path';
import { ClutchError, CoreErrorCode } from '../../errors.js';
import { FileLoader, type FileLoaderOptions } from './file-loader.js';

type Tree = Record<string | symbol, unknown>;
type Action = (this: object, ...args: unknown[]) => Promise<unknown>;

function isClass(value: unknown): value is new (ctx: object) => Record<string, unknown> {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

const isAsync = (value: unknown): boolean => Object.prototype.toString.call(value) === '[object AsyncFunction]';

/** A class's methods (its own and inherited, but Object's), each an action that makes the class with ctx and calls the method with ctx, as egg's. */
function wrapClass(Controller: new (ctx: object) => Record<string, unknown>): Tree {
  const actions: Tree = {};
  for (let proto: object | null = Controller.prototype as object; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const method = Object.getOwnPropertyDescriptor(proto, key)?.value as unknown;
      if (key === 'constructor' || typeof method !== 'function' || key in actions) continue;
      const action: Action = async function (this: object) {
        const controller = new Controller(this);
        return (controller[key] as (ctx: object) => unknown).call(controller, this);
      };
      actions[key] = action;
    }
  }
  return actions;
}

/** An object's functions (nested objects too), each an action called with ctx as `this` and argument. */
function wrapObject(object: Tree, file: string): Tree {
  const actions: Tree = {};
  for (const [key, value] of Object.entries(object)) {
    if (typeof value === 'function') {
      if (/^(async\s+)?(function\s*\w*\s*)?\(?\s*next\b/.test(Function.prototype.toString.call(value)))
        throw new ClutchError(CoreErrorCode.EGG_LOADER_FAILED, `loadController: ${file}#${key} takes next; a controller action does not`);
      const fn = value as (this: object, ctx: object) => unknown;
      const action: Action = async function (this: object) {
        return fn.call(this, this);
      };
      actions[key] = action;
    } else if (typeof value === 'object' && value !== null) actions[key] = wrapObject(value as Tree, file);
  }
  return actions;
}

/**
 * egg's `app.loader.loadController({ directory, target })`, which egg-socket.io calls for
 * `app/io/controller`: each file (a class, a function of the app returning one, or an object of
 * functions) becomes an object of actions — functions called with the context as `this` (egg-socket.io
 * calls `handler.call(ctx)`), each making the class per call with ctx. With no `target`, the tree is
 * `app.controller`'s, as egg's; with one, app.controller (Clutch's, loaded already) is left alone.
 */
export function loadController(host: object, baseDir: string, options: Partial<FileLoaderOptions> = {}): Tree {
  const target = options.target ?? ((host as Tree).controller = {});
  return new FileLoader({
    caseStyle: 'lower',
    directory: join(baseDir, 'app/controller'),
    inject: host,
    initializer: (exported, { path }) => {
      let value = exported;
      if (typeof value === 'function' && !isClass(value) && !isAsync(value)) value = (value as (app: object) => unknown)(host);
      if (isClass(value)) return wrapClass(value);
      if (isAsync(value)) return wrapObject({ action: value }, path).action;
      if (typeof value === 'object' && value !== null) return wrapObject(value as Tree, path);
      return value;
    },
    ...options,
    target,
  }).load();
}
