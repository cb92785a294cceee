import { createRequire } from 'node:module';
import type KoaRouter from '@koa/router';
import type { Layer, MatchResult, RouterOptions } from '@koa/router';
import { RouteIndex } from './route-index.js';

/**
 * What a wing adds to `app.router`, declared by merging (the egg wing: controller actions by name
 * in the verbs, and `resources`). Listed before @koa/router's own in ClutchRouter, so its overloads
 * are the ones tried first.
 */
export interface RouterExtensions {}

/** `app.router`: @koa/router, with what the wings add. */
export type ClutchRouter = RouterExtensions & Router;

// Keyed by the stack array, not the router: @koa/router clones a nested router with
// Object.assign (own fields copied, so an index held on the router would follow the clone) and
// gives the clone a stack of its own.
const indexes = new WeakMap<readonly Layer[], RouteIndex>();

// @koa/router's CommonJS build (the same code as its ESM build): the ESM build imports node:http,
// whose ESM facade costs every worker ~30 ms of start on Node ≥ 22 (@clutch/cluster's node-http.ts).
const Router = createRequire(import.meta.url)('@koa/router') as typeof KoaRouter;
type Router = KoaRouter;

// @koa/router's constructor type has overloads with different results; one is enough to extend.
const BaseRouter = Router as unknown as new (options?: RouterOptions) => Router;

/**
 * @koa/router with its matching done through a radix tree (route-index.ts): the same stack, layers,
 * dispatch, params, `url()`, `allowedMethods()` and nested routers; only `match()` — which tests
 * every layer's RegExp on every request — asks the tree which layers to test. See docs/routing.md.
 */
export class TreeRouter extends BaseRouter {
  override match(path: string, method: string): MatchResult {
    const result: MatchResult = { path: [], pathAndMethod: [], route: false };
    const verb = method.toUpperCase();
    for (const layer of this.index().candidates(path)) {
      if (!layer.match(path)) continue;
      result.path.push(layer);
      // A layer without methods is middleware (router.use): it runs for every method.
      if (layer.methods.length === 0) result.pathAndMethod.push(layer);
      else if (layer.methods.includes(verb)) {
        result.pathAndMethod.push(layer);
        result.route = true;
      }
    }
    return result;
  }

  /** prefix() rewrites the paths of the layers already there: the index is built again. */
  override prefix(prefix: string): this {
    super.prefix(prefix);
    indexes.delete(this.stack);
    return this;
  }

  /** The index of the stack as it is now: built on the first match after a route was added. */
  private index(): RouteIndex {
    let index = indexes.get(this.stack);
    if (!index || index.size !== this.stack.length) {
      index = new RouteIndex(this.stack);
      indexes.set(this.stack, index);
    }
    return index;
  }
}

/** A worker's router: @koa/router matched through a radix tree (TreeRouter). */
export function createRouter(): ClutchRouter {
  return new TreeRouter() as unknown as ClutchRouter;
}
