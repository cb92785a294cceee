/** The route-match cache in front of @koa/router: the same answers as without it, request after request. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import Router from '@koa/router';
import Koa from 'koa';
import supertest from 'supertest';
import { cacheRouteMatches } from '../../packages/core/src/route-cache.ts';

function build(cached: boolean) {
  const app = new Koa();
  const router = new Router();
  if (cached) cacheRouteMatches(router);
  const nested = new Router();
  const seen = (ctx: Koa.Context) => ({
    matched: (ctx as unknown as { matched: Array<{ path: string }> }).matched.map((l) => l.path),
    route: (ctx as unknown as { _matchedRoute?: string })._matchedRoute,
  });
  nested.get('/inner/:id', (ctx) => {
    ctx.body = { id: ctx.params.id, ...seen(ctx) };
  });
  router.get('/users/:id', (ctx) => {
    ctx.body = { id: ctx.params.id, ...seen(ctx) };
  });
  router.get('/static', (ctx) => {
    ctx.body = seen(ctx);
  });
  router.use('/nest', nested.routes());
  // A middleware layer matches every path; a second router on the same app pushes onto ctx.matched.
  router.use((ctx, next) => next());
  const second = new Router();
  second.get('/second', (ctx) => {
    ctx.body = seen(ctx);
  });
  app.use(router.routes()).use(router.allowedMethods()).use(second.routes());
  return { router, request: supertest(app.callback()) };
}

it('answers as @koa/router does without it: params, matched layers, nested routers, 404/405, routes added later', async () => {
  const plain = build(false);
  const cached = build(true);
  const probes: Array<[string, string]> = [
    ['get', '/users/7'],
    ['get', '/users/8'],
    ['get', '/static'],
    ['post', '/static'],
    ['get', '/nowhere'],
    ['get', '/nest/inner/3'],
    ['get', '/second'],
    ['get', '/later'],
  ];
  const answers = async (r: ReturnType<typeof build>) => {
    const out = [];
    for (const [method, path] of probes) {
      const res = await (r.request as unknown as Record<string, (p: string) => Promise<{ status: number; text: string }>>)[method]!(path);
      out.push([res.status, res.text]);
    }
    return out;
  };
  for (let round = 0; round < 3; round++) {
    if (round === 2) for (const r of [plain, cached]) r.router.get('/later', (ctx) => (ctx.body = 'later'));
    assert.deepEqual(await answers(cached), await answers(plain), `round ${round}`);
  }
  assert.equal((await cached.request.get('/later')).text, 'later');
});
