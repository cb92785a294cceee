import type { LoadUnit } from '../../loader/plugins.js';
import { loadController } from './controller-loader.js';
import { FileLoader, type FileLoaderOptions } from './file-loader.js';

/** What the loader works on: a worker's Application or the agent (whose `context` is a plain object). */
export interface LoaderHost {
  readonly baseDir: string;
  readonly units: LoadUnit[];
  readonly context: object;
}

type LoadOptions = Omit<FileLoaderOptions, 'directory' | 'target'>;
type Tree = Record<string | symbol, unknown>;

function isClass(value: unknown): value is new (ctx: object) => object {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

/** A per-request view of a loaded tree: each class is made once per context, with it. */
function perContext(tree: Tree, ctx: object): Tree {
  const cache = new Map<string | symbol, unknown>();
  const view: Tree = {};
  for (const key of Reflect.ownKeys(tree)) {
    Object.defineProperty(view, key, {
      enumerable: true,
      get() {
        if (cache.has(key)) return cache.get(key);
        const value = tree[key];
        const made = isClass(value) ? new value(ctx) : typeof value === 'object' && value !== null ? perContext(value as Tree, ctx) : value;
        cache.set(key, made);
        return made;
      },
    });
  }
  return view;
}

/**
 * egg's `app.loader` (and `agent.loader`), the parts plugins call: `FileLoader`, `loadToApp`,
 * `loadToContext`, `getLoadUnits`, and (in a worker) `loadRouter`, which a plugin may wrap to
 * load more routes (egg-router-plus does).
 */
export class EggLoader {
  readonly FileLoader = FileLoader;
  readonly #host: LoaderHost;
  /** The router's load the framework started through this loader, awaited by the worker. */
  routerLoad: Promise<void> = Promise.resolve();

  constructor(host: LoaderHost, loadRouter?: () => Promise<void>) {
    this.#host = host;
    if (loadRouter) {
      this.loadRouter = () => {
        this.routerLoad = loadRouter();
        return this.routerLoad;
      };
    }
  }

  /** A worker's router load; a plugin may replace it, calling the one it found. */
  loadRouter: () => unknown = () => undefined;

  get appInfo(): { baseDir: string } {
    return { baseDir: this.#host.baseDir };
  }

  /** The plugins' folders, then the project's: `{ path, type }`. */
  getLoadUnits(): Array<{ name: string; path: string; type: 'plugin' | 'app' }> {
    return this.#host.units.map((u) => ({ name: u.name, path: u.path, type: u.type }));
  }

  /** Loads `directory`'s files (JavaScript) onto `app[property]`, calling function exports with the app. */
  loadToApp(directory: string | string[], property: string | symbol, options: LoadOptions = {}): Tree {
    const target: Tree = {};
    (this.#host as unknown as Tree)[property] = target;
    return new FileLoader({ inject: this.#host, ...options, directory, target }).load();
  }

  /** egg's `loadController({ directory, target })`: files of actions called with ctx as `this` (egg-socket.io's io controllers). */
  loadController(options: Partial<FileLoaderOptions> = {}): Tree {
    return loadController(this.#host, this.#host.baseDir, options);
  }

  /** Loads `directory`'s files once, and gives each context `ctx[property]`: a class export made per request with ctx. */
  loadToContext(directory: string | string[], property: string | symbol, options: LoadOptions = {}): void {
    const tree = new FileLoader({ inject: this.#host, ...options, directory, target: {} }).load();
    const cache = Symbol(`context#${String(property)}`);
    Object.defineProperty(this.#host.context, property, {
      configurable: true,
      get(this: Tree) {
        return (this[cache] ??= perContext(tree, this));
      },
    });
  }
}
