import type { Context } from './context.js';
import { RequestScoped } from './request-scoped.js';

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

export type ServiceClass = new (ctx: Context) => object;
/** app/service/** as a tree of classes: a folder is a node, a file its class. */
export interface ServiceNode {
  [name: string]: ServiceNode | ServiceClass;
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
