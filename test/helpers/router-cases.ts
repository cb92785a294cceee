/**
 * What the ported @koa/router cases (test/core/router-api-*.test.ts) share: the two routers each
 * case runs on — @koa/router as it ships, which shows a case asserts what @koa/router does, and
 * TreeRouter, which matches through the radix tree (docs/routing.md) — and small fixtures.
 */
import Router, { type RouterContext, type RouterOptions } from '@koa/router';
import Koa from 'koa';
import supertest from 'supertest';
import { TreeRouter } from '../../packages/core/src/app-router.ts';

export type Make = (options?: RouterOptions) => Router;
export const ROUTERS: Array<[string, Make]> = [
  ['@koa/router', (options) => new Router(options)],
  ['TreeRouter', (options) => new TreeRouter(options)],
];

/** An app with `router`'s routes and allowedMethods(options), and a client for it. */
export function serve(router: Router, allowed?: Parameters<Router['allowedMethods']>[0]) {
  const app = new Koa();
  app.use(router.routes()).use(router.allowedMethods(allowed));
  return supertest(app.callback());
}

/** What the cases read from a context: a handler taking only this fits every verb's context type. */
export type Ctx = Pick<RouterContext, 'params' | 'method' | '_matchedRoute' | '_matchedRouteName' | 'routerPath' | 'request' | 'state'> & { body: unknown };

/** A handler answering what `value` makes of the context. */
export const body =
  (value: (ctx: Ctx) => unknown) =>
  (ctx: Ctx): void => {
    ctx.body = value(ctx);
  };
