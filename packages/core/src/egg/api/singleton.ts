import { ClutchError, CoreErrorCode } from '../../errors.js';
import { isPlainObject, type PlainObject } from '../../loader/merge-config.js';

/** What egg's `addSingleton` is called on: a worker's Application or the agent. */
export interface SingletonHost {
  config: Record<string, unknown>;
  beforeStart(fn: () => unknown): void;
}

/** A plugin's factory: `(config, app, clientName) => client`, or an async one. */
export type CreateClient<C = unknown> = (config: PlainObject, host: SingletonHost, clientName: string) => C | Promise<C>;

function isAsyncFunction(fn: (...args: never[]) => unknown): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncFunction]';
}

/**
 * egg's Singleton: the clients one plugin makes from `config[name]` — `client` (one: `app[name]` is
 * it), `clients` (several: `app[name].get(id)`), none (`app[name].createInstance(config)` later) —
 * with `default` under each client's own config.
 */
export class Singleton<C = unknown> {
  readonly clients = new Map<string, C>();
  readonly #name: string;
  readonly #create: CreateClient<C>;
  readonly #host: SingletonHost;
  readonly #options: PlainObject;

  constructor(name: string, create: CreateClient<C>, host: SingletonHost) {
    if (typeof name !== 'string' || name === '' || typeof create !== 'function')
      throw new ClutchError(CoreErrorCode.EGG_SINGLETON_INVALID, 'addSingleton(name, create) takes a name and a function (config, app, clientName) => client');
    const options = host.config[name] ?? {};
    if (!isPlainObject(options)) throw new ClutchError(CoreErrorCode.EGG_SINGLETON_INVALID, `addSingleton('${name}'): config.${name} must be an object`);
    if (options.client !== undefined && options.clients !== undefined)
      throw new ClutchError(CoreErrorCode.EGG_SINGLETON_INVALID, `addSingleton('${name}'): config.${name} has both client and clients; keep one`);
    this.#name = name;
    this.#create = create;
    this.#host = host;
    this.#options = options;
  }

  /** Makes the configured clients and puts them on the host; a promise when `create` is async. */
  init(): void | Promise<void> {
    const { client, clients } = this.#options;
    const host = this.#host as unknown as Record<string, unknown>;
    if (isAsyncFunction(this.#create)) {
      return (async () => {
        if (client !== undefined) {
          host[this.#name] = this.#extend(await this.createInstanceAsync(this.#configOf(client, 'client'), this.#name));
          return;
        }
        for (const [id, config] of Object.entries(this.#clientsOf(clients))) this.clients.set(id, await this.createInstanceAsync(config, id));
        host[this.#name] = this;
      })();
    }
    if (client !== undefined) {
      host[this.#name] = this.#extend(this.createInstance(this.#configOf(client, 'client'), this.#name));
      return;
    }
    for (const [id, config] of Object.entries(this.#clientsOf(clients))) this.clients.set(id, this.createInstance(config, id));
    host[this.#name] = this;
  }

  /** The client of `config.<name>.clients[id]`. */
  get(id: string): C | undefined {
    return this.clients.get(id);
  }

  /** A new client from `config` over `default` (sync factories only). */
  createInstance(config: PlainObject, clientName = this.#name): C {
    if (isAsyncFunction(this.#create))
      throw new ClutchError(CoreErrorCode.EGG_SINGLETON_INVALID, `addSingleton('${this.#name}'): its create is async: use createInstanceAsync`);
    return this.#creating(() => this.#create({ ...this.#defaults(), ...config }, this.#host, clientName)) as C;
  }

  /** A new client from `config` over `default`, awaited. */
  async createInstanceAsync(config: PlainObject, clientName = this.#name): Promise<C> {
    return await this.#creating(() => this.#create({ ...this.#defaults(), ...config }, this.#host, clientName));
  }

  /**
   * Runs a create with egg's beforeStart: a function it registers starts at once (the start still
   * waits for it). egg-redis's and egg-mysql's wait for the client's first 'ready' or query there;
   * run after every file loaded, as Clutch's beforeStart runs, the event would be gone.
   */
  #creating<T>(create: () => T): T {
    const host = this.#host;
    const own = Object.getOwnPropertyDescriptor(host, 'beforeStart');
    const deferred = host.beforeStart.bind(host);
    const eager = (fn: () => unknown) => {
      const started = Promise.resolve().then(fn);
      started.catch(() => {});
      deferred(() => started);
    };
    Object.defineProperty(host, 'beforeStart', { configurable: true, writable: true, value: eager });
    try {
      return create();
    } finally {
      if (own) Object.defineProperty(host, 'beforeStart', own);
      else delete (host as { beforeStart?: unknown }).beforeStart;
    }
  }

  #defaults(): PlainObject {
    return isPlainObject(this.#options.default) ? this.#options.default : {};
  }

  #configOf(value: unknown, what: string): PlainObject {
    if (!isPlainObject(value))
      throw new ClutchError(CoreErrorCode.EGG_SINGLETON_INVALID, `addSingleton('${this.#name}'): config.${this.#name}.${what} must be an object`);
    return value;
  }

  #clientsOf(value: unknown): Record<string, PlainObject> {
    if (value === undefined) return {};
    const all = this.#configOf(value, 'clients');
    for (const id of Object.keys(all)) this.#configOf(all[id], `clients.${id}`);
    return all as Record<string, PlainObject>;
  }

  /** egg puts createInstance on the one client, so a plugin's code can make more of the same. */
  #extend(client: C): C {
    if ((typeof client === 'object' && client !== null) || typeof client === 'function') {
      const target = client as Record<string, unknown>;
      if (!('createInstance' in target)) Object.defineProperty(target, 'createInstance', { configurable: true, value: this.createInstance.bind(this) });
      if (!('createInstanceAsync' in target))
        Object.defineProperty(target, 'createInstanceAsync', { configurable: true, value: this.createInstanceAsync.bind(this) });
    }
    return client;
  }
}

/** egg's `app.addSingleton(name, create)`: makes the clients now, and the start waits for async ones (beforeStart). */
export function addSingleton(host: SingletonHost, name: string, create: CreateClient): void {
  const singleton = new Singleton(name, create, host);
  const init = singleton.init();
  if (init) {
    // Rejections are the start's: held here so the process sees no unhandled rejection meanwhile.
    const settled = init.then(
      () => null,
      (err: unknown) => err,
    );
    host.beforeStart(async () => {
      const err = await settled;
      if (err) throw err;
    });
  }
}
