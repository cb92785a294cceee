import { singularize } from 'inflection';
import type { Middleware } from 'koa';
import type { ClutchRouter } from '../app-router.js';
import type { ControllerTree } from '../controller.js';
import { ClutchError, CoreErrorCode } from '../errors.js';

/** A route's handler as egg writes it: a middleware, or a controller action by name (`'home.index'`, `'admin.user.show'`). */
export type RouteHandler = Middleware | string;
type RoutePath = string | RegExp | Array<string | RegExp>;

/** The router's verbs, each taking handlers by name as well as functions. */
export interface RouteVerb {
  (path: RoutePath, ...handlers: RouteHandler[]): ClutchRouter;
  (name: string, path: string | RegExp, ...handlers: RouteHandler[]): ClutchRouter;
}

const VERBS = ['get', 'post', 'put', 'patch', 'delete', 'del', 'head', 'options', 'all'] as const;

/** What egg's router adds to @koa/router's: its verbs take controller actions by name, and `resources`. */
type EggRoutes = {
  [V in (typeof VERBS)[number]]: RouteVerb;
} & {
  /**
   * egg's RESTful routes: `resources('posts', '/posts', 'posts')` maps GET /posts → posts.index,
   * GET /posts/new → new, GET /posts/:id → show, GET /posts/:id/edit → edit, POST /posts → create,
   * PATCH and PUT /posts/:id → update, DELETE /posts/:id → destroy — each only where the controller
   * has it — named as egg's (the singular by inflection, as egg's): `posts`, `new_post`, `post`, `edit_post`, `destroy_post`.
   */
  resources(name: string, path: string, ...handlers: RouteHandler[]): ClutchRouter;
  resources(path: string, ...handlers: RouteHandler[]): ClutchRouter;
};

declare module '../app-router.js' {
  interface RouterExtensions extends EggRoutes {}
}

/**
 * egg's resources: the action, its verbs, the path under the prefix, and how the route is named
 * from the resource's name — `posts` for the collection, the singular (`post`) for one, as egg's.
 */
const REST = [
  ['index', ['get'], '', (plural: string) => plural],
  ['new', ['get'], '/new', (_: string, one: string) => `new_${one}`],
  ['show', ['get'], '/:id', (_: string, one: string) => one],
  ['edit', ['get'], '/:id/edit', (_: string, one: string) => `edit_${one}`],
  ['create', ['post'], '', (plural: string) => plural],
  ['update', ['patch', 'put'], '/:id', (_: string, one: string) => one],
  ['destroy', ['delete'], '/:id', (_: string, one: string) => `destroy_${one}`],
] as const;

function lookup(tree: ControllerTree, ref: string): unknown {
  let node: unknown = tree;
  for (const key of ref.split('.')) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

function describe(tree: ControllerTree, ref: string): string {
  const parent = lookup(tree, ref.split('.').slice(0, -1).join('.'));
  if (ref.includes('.') && parent && typeof parent === 'object') return `it has: ${Object.keys(parent).join(', ') || 'nothing'}`;
  const top = Object.keys(tree);
  return `the controllers are: ${top.join(', ') || 'none (app/controller is empty)'}`;
}

/**
 * Makes `router`'s verbs take egg's arguments: `(path, …handlers)` or, with three or more,
 * `(name, path, …handlers)` — a string handler is a controller action, looked up when the route is
 * added, so a name that does not exist fails the start (@koa/router alone would read
 * `get('/', 'home.index')` as a route named '/' at the path 'home.index': a silent 404).
 */
export function eggRoutes(router: ClutchRouter, controllers: () => ControllerTree): void {
  const resolve = (verb: string, path: unknown, handler: RouteHandler): Middleware => {
    if (typeof handler === 'function') return handler;
    if (typeof handler !== 'string') {
      throw new ClutchError(
        CoreErrorCode.LOADER_INVALID_EXPORT,
        `router.${verb}(${String(path)}): a handler must be a function or a controller name, got ${typeof handler}`,
      );
    }
    const tree = controllers();
    const found = lookup(tree, handler);
    if (typeof found !== 'function') {
      throw new ClutchError(
        CoreErrorCode.ROUTER_UNKNOWN_ACTION,
        `router.${verb}(${JSON.stringify(String(path))}, '${handler}'): no controller action ${handler} in app/controller (${describe(tree, handler)})`,
      );
    }
    return found as Middleware;
  };
  const self = router as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const verb of VERBS) {
    const original = self[verb]!.bind(router);
    self[verb] = (...args: unknown[]) => {
      const named = args.length >= 3 && (typeof args[1] === 'string' || args[1] instanceof RegExp);
      const [head, rest] = named ? [args.slice(0, 2), args.slice(2)] : [args.slice(0, 1), args.slice(1)];
      const path = head[head.length - 1];
      original(...head, ...rest.map((h) => resolve(verb, path, h as RouteHandler)));
      return router;
    };
  }
  self.resources = (...args: unknown[]) => {
    const named = args.length >= 3 && typeof args[1] === 'string';
    const name = named ? (args[0] as string) : undefined;
    const prefix = (named ? args[1] : args[0]) as string;
    const handlers = (named ? args.slice(2) : args.slice(1)) as RouteHandler[];
    const target = handlers.pop();
    if (typeof target !== 'string') {
      throw new ClutchError(CoreErrorCode.LOADER_INVALID_EXPORT, `router.resources(${JSON.stringify(prefix)}): the last argument must be a controller name`);
    }
    const controller = lookup(controllers(), target);
    if (!controller || typeof controller !== 'object') {
      throw new ClutchError(
        CoreErrorCode.ROUTER_UNKNOWN_ACTION,
        `router.resources(${JSON.stringify(prefix)}, '${target}'): no controller ${target} in app/controller`,
      );
    }
    const base = prefix.replace(/\/$/, '');
    for (const [action, verbs, suffix, routeName] of REST) {
      if (typeof (controller as Record<string, unknown>)[action] !== 'function') continue;
      const route = [`${base}${suffix}` || '/', ...handlers, `${target}.${action}`];
      for (const verb of verbs) {
        if (name) self[verb]!(routeName(name, singularize(name)), ...route);
        else self[verb]!(...route);
      }
    }
    return router;
  };
}
