import { extname, join, relative, sep } from 'node:path';
import type { Context } from './context.js';
import { RequestScoped } from './request-scoped.js';
import { ClutchError, CoreErrorCode } from './errors.js';
import { importDefault } from './import-module.js';
import { camelCase, listModules } from './load-controllers.js';
import type { LoadUnit } from './plugins.js';

/**
 * `ctx.service`: app/service/user.ts is `ctx.service.user`, app/service/admin/log.ts is
 * `ctx.service.admin.log`. A TypeScript project declares its services so the tree is typed:
 *
 * @example
 * declare module '@clutch/core' {
 *   interface ServiceTree { user: UserService }
 * }
 */
export interface ServiceTree {}

/**
 * Base class for services: business logic with the request's context at hand. One instance per
 * request, created the first time the request uses it.
 *
 * @example
 * export default class UserService extends Service {
 *   async find(id: string) { return this.app.messenger.request('agent', 'user:get', id); }
 * }
 */
export class Service extends RequestScoped {}

type ServiceClass = new (ctx: Context) => object;
interface ServiceNode {
  [name: string]: ServiceNode | ServiceClass;
}

/** Loads app/service/** of every unit into a tree of classes; a later unit's file wins a name. */
export async function loadServices(units: LoadUnit[]): Promise<ServiceNode> {
  const tree: ServiceNode = {};
  for (const unit of units) {
    const dir = join(unit.path, 'app', 'service');
    for (const file of await listModules(dir)) {
      const path = relative(dir, file).slice(0, -extname(file).length).split(sep).map(camelCase);
      const Cls = await importDefault(file);
      if (typeof Cls !== 'function') throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${file} must export default a service class`);
      let node = tree;
      for (const key of path.slice(0, -1)) {
        const next = node[key];
        if (typeof next === 'function') throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `${file}: "${key}" is both a service and a folder`);
        node = next ?? (node[key] = {});
      }
      node[path[path.length - 1]!] = Cls as ServiceClass;
    }
  }
  return tree;
}

/**
 * Builds, once, a class per folder of the tree whose getters create each service the first time
 * a request reads it and keep it for the rest of that request. `new Root(ctx)` is what a request's
 * `ctx.service` is: cheap, with nothing created until used.
 */
export function serviceAccessor(tree: ServiceNode): new (ctx: Context) => ServiceTree {
  const build = (node: ServiceNode): new (ctx: Context) => object => {
    class Folder {
      readonly #ctx: Context;
      readonly #made = new Map<string, object>();
      constructor(ctx: Context) {
        this.#ctx = ctx;
      }
      static make(self: Folder, name: string, create: (ctx: Context) => object): object {
        let made = self.#made.get(name);
        if (!made) {
          made = create(self.#ctx);
          self.#made.set(name, made);
        }
        return made;
      }
    }
    for (const [name, value] of Object.entries(node)) {
      const create =
        typeof value === 'function'
          ? (ctx: Context) => new value(ctx)
          : (
              (Sub) => (ctx: Context) =>
                new Sub(ctx)
            )(build(value));
      Object.defineProperty(Folder.prototype, name, {
        get(this: Folder) {
          return Folder.make(this, name, create);
        },
        enumerable: true,
      });
    }
    return Folder;
  };
  return build(tree);
}

declare module 'koa' {
  interface DefaultContext {
    /** The request's services (see ServiceTree). */
    service: ServiceTree;
  }
}
