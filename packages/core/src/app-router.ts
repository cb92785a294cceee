import Router from '@koa/router';
import { cacheRouteMatches } from './route-cache.js';

/**
 * What a wing adds to `app.router`, declared by merging (the egg wing: controller actions by name
 * in the verbs, and `resources`). Listed before @koa/router's own in ClutchRouter, so its overloads
 * are the ones tried first.
 */
export interface RouterExtensions {}

/** `app.router`: @koa/router, with what the wings add. */
export type ClutchRouter = RouterExtensions & Router;

/** A worker's router: @koa/router with its route matches remembered (route-cache.ts). */
export function createRouter(): ClutchRouter {
  const router = new Router();
  cacheRouteMatches(router);
  return router as unknown as ClutchRouter;
}
