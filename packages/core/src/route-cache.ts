import type Router from '@koa/router';

/** Distinct (method, path) pairs remembered; past it the cache starts over (paths with params vary without bound). */
const MAX_ENTRIES = 2_000;

type MatchResult = ReturnType<Router['match']>;

/**
 * A fast path for @koa/router with its API and semantics untouched: `router.match(path, method)` —
 * which tests every route's RegExp on every request, so its cost grows with the route count — is
 * remembered per (method, path). What it returns depends on nothing else while the routes stay as
 * they are (a route added later starts the cache over). Each call gets fresh arrays: the router
 * stores them on `ctx.matched`, where a nested router pushes its own.
 */
export function cacheRouteMatches(router: Router): void {
  const match = router.match.bind(router);
  let cache = new Map<string, MatchResult>();
  let routes = router.stack.length;
  router.match = (path: string, method: string): MatchResult => {
    if (router.stack.length !== routes) {
      cache = new Map();
      routes = router.stack.length;
    }
    const key = `${method} ${path}`;
    let result = cache.get(key);
    if (!result) {
      result = match(path, method);
      if (cache.size >= MAX_ENTRIES) cache = new Map();
      cache.set(key, result);
    }
    return { path: [...result.path], pathAndMethod: [...result.pathAndMethod], route: result.route };
  };
}
