/**
 * @koa/router's own test cases for the API app.router exposes, ported (what each asserts, on
 * fixtures of our own): dispatch, params and allowedMethods. Each runs on @koa/router and on
 * TreeRouter (test/helpers/router-cases.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Koa from 'koa';
import supertest from 'supertest';
import { body, ROUTERS, serve } from '../helpers/router-cases.ts';

for (const [label, make] of ROUTERS) {
  describe(`${label}: dispatch`, () => {
    it('runs a route’s middleware in order, and stops where one does not call next', async () => {
      const router = make();
      const seen: string[] = [];
      router.get(
        '/chain/:id',
        async (ctx, next) => {
          seen.push('a');
          await next();
        },
        async (ctx) => {
          seen.push('b');
          ctx.body = 'b';
        },
        () => seen.push('never'),
      );
      await serve(router).get('/chain/1').expect(200, 'b');
      assert.deepEqual(seen, ['a', 'b']);
    });

    it('runs every route that matches, first to last, and only the last with exclusive', async () => {
      for (const exclusive of [false, true]) {
        const router = make({ exclusive });
        const seen: string[] = [];
        router.get('/users/:id', async (ctx, next) => {
          seen.push('param');
          ctx.body = 'param';
          await next();
        });
        router.get('/users/new', (ctx) => {
          seen.push('static');
          ctx.body = 'static';
        });
        await serve(router).get('/users/new').expect(200, 'static');
        assert.deepEqual(seen, exclusive ? ['static'] : ['param', 'static']);
      }
    });

    it('tells the verbs apart on one path, with all() taking every method and del() as delete()', async () => {
      const router = make();
      for (const verb of ['get', 'post', 'put', 'patch', 'delete'] as const)
        router[verb](
          '/thing',
          body(() => verb),
        );
      router.del(
        '/gone',
        body(() => 'del'),
      );
      router.all(
        '/any',
        body((ctx) => ctx.method),
      );
      const client = serve(router);
      for (const verb of ['get', 'post', 'put', 'patch', 'delete'] as const) await client[verb]('/thing').expect(200, verb);
      await client.delete('/gone').expect(200, 'del');
      await client.patch('/any').expect(200, 'PATCH');
    });

    it('answers HEAD from a GET route, not from a POST route', async () => {
      const router = make();
      router
        .get(
          '/page/:id',
          body(() => 'page'),
        )
        .post(
          '/form',
          body(() => 'form'),
        );
      const client = serve(router);
      const head = await client.head('/page/3').expect(200);
      assert.equal(head.text, undefined);
      await client.head('/form').expect(405);
    });

    it('matches an optional parameter with and without it, and a RegExp route', async () => {
      const router = make();
      router.get(
        '/users{/:id}',
        body((ctx) => ctx.params.id ?? 'all'),
      );
      router.get(
        /^\/re\/(\d+)$/,
        body((ctx) => (ctx as unknown as { captures: string[] }).captures[0]),
      );
      const client = serve(router);
      await client.get('/users').expect(200, 'all');
      await client.get('/users/9').expect(200, '9');
      await client.get('/re/42').expect(200, '42');
      await client.get('/re/x').expect(404);
    });

    it('matches case-insensitively and with one trailing slash by default; sensitive and strict turn each off', async () => {
      const loose = make();
      loose.get(
        '/Users/:id',
        body((ctx) => ctx.params.id),
      );
      await serve(loose).get('/users/A/').expect(200, 'A');
      const strict = make({ sensitive: true, strict: true });
      strict.get(
        '/Users/:id',
        body((ctx) => ctx.params.id),
      );
      const client = serve(strict);
      await client.get('/Users/A').expect(200, 'A');
      await client.get('/users/A').expect(404);
      await client.get('/Users/A/').expect(404);
    });

    it('routes on ctx.newRouterPath when a middleware sets it', async () => {
      const router = make();
      router.get(
        '/inner/:id',
        body((ctx) => ctx.params.id),
      );
      const app = new Koa();
      app.use((ctx, next) => {
        (ctx as unknown as { newRouterPath: string }).newRouterPath = ctx.path.replace('/outer', '/inner');
        return next();
      });
      app.use(router.routes());
      await supertest(app.callback()).get('/outer/5').expect(200, '5');
    });

    it('serves only the host it is given (a string, a list, a RegExp)', async () => {
      for (const host of ['a.test', ['b.test', 'a.test'], /^a\./]) {
        const router = make({ host });
        router.get(
          '/h',
          body(() => 'h'),
        );
        const client = serve(router);
        await client.get('/h').set('Host', 'a.test').expect(200, 'h');
        await client.get('/h').set('Host', 'c.test').expect(404);
      }
    });

    it('puts the route’s pattern, name and path on ctx', async () => {
      const router = make();
      router.get(
        'user',
        '/users/:id',
        body((ctx) => [ctx._matchedRoute, ctx._matchedRouteName, ctx.routerPath]),
      );
      router.get(
        '/anon/:id',
        body((ctx) => [ctx._matchedRoute, ctx._matchedRouteName ?? null]),
      );
      const client = serve(router);
      assert.deepEqual((await client.get('/users/1')).body, ['/users/:id', 'user', '/users/:id']);
      assert.deepEqual((await client.get('/anon/1')).body, ['/anon/:id', null]);
    });
  });

  describe(`${label}: params`, () => {
    it('captures and decodes them: %-encoded UTF-8, %2B as +, %2F inside one, a malformed one left as sent', async () => {
      const router = make();
      router.get(
        '/:category/:title',
        body((ctx) => ({ ...ctx.params, same: ctx.request.params === ctx.params })),
      );
      const client = serve(router);
      assert.deepEqual((await client.get('/caf%C3%A9/john%2Bdoe')).body, { category: 'café', title: 'john+doe', same: true });
      assert.deepEqual((await client.get('/a%2Fb/c')).body, { category: 'a/b', title: 'c', same: true });
      assert.deepEqual((await client.get('/100%/101%')).body, { category: '100%', title: '101%', same: true });
    });

    it('gives a route without parameters an empty ctx.params', async () => {
      const router = make();
      router.get(
        '/plain',
        body((ctx) => ctx.params),
      );
      assert.deepEqual((await serve(router).get('/plain')).body, {});
    });

    it('runs param() handlers once each, in the order the URL has them, for nested routers too', async () => {
      const router = make();
      const seen: string[] = [];
      router.param('post', (id, ctx, next) => (seen.push(`post ${id}`), next()));
      router.param('user', (id, ctx, next) => (seen.push(`user ${id}`), next()));
      router.get(
        '/u/:user/p/:post',
        body(() => 'ok'),
      );
      router.get('/u/:user/p/:post', (ctx, next) => next());
      const nested = make();
      nested.get(
        '/x/:post',
        body(() => 'nested'),
      );
      router.use('/n/:user', nested.routes());
      const client = serve(router);
      await client.get('/u/1/p/2').expect(200, 'ok');
      assert.deepEqual(seen, ['user 1', 'post 2']);
      seen.length = 0;
      await client.get('/n/3/x/4').expect(200, 'nested');
      assert.deepEqual(seen, ['user 3', 'post 4']);
    });
  });

  describe(`${label}: allowedMethods`, () => {
    it('answers OPTIONS with Allow, 405 with Allow for a method the path lacks, 501 for one the router lacks', async () => {
      const router = make();
      router
        .get(
          '/users/:id',
          body(() => 'u'),
        )
        .put(
          '/users/:id',
          body(() => 'p'),
        );
      const client = serve(router);
      const options = await client.options('/users/1').expect(200);
      assert.equal(options.headers.allow, 'HEAD, GET, PUT');
      const refused = await client.post('/users/1').expect(405);
      assert.equal(refused.headers.allow, 'HEAD, GET, PUT');
      await client.search('/users/1').expect(501);
      await client.post('/nowhere').expect(404);
    });

    it('with throw: a 405 and a 501 error, or the ones given', async () => {
      for (const custom of [false, true]) {
        const router = make();
        router.get(
          '/only-get',
          body(() => 'g'),
        );
        const app = new Koa();
        const caught: Array<[number, string]> = [];
        app.use(async (ctx, next) => {
          try {
            await next();
          } catch (err) {
            const e = err as { status: number; name: string };
            caught.push([e.status, e.name]);
            ctx.status = e.status;
          }
        });
        const own = (status: number, name: string) => () => Object.assign(new Error(name), { status, name });
        const allowed = custom ? { throw: true, methodNotAllowed: own(418, 'Mine405'), notImplemented: own(419, 'Mine501') } : { throw: true };
        app.use(router.routes()).use(router.allowedMethods(allowed));
        const client = supertest(app.callback());
        await client.post('/only-get');
        await client.search('/only-get');
        assert.deepEqual(
          caught,
          custom
            ? [
                [418, 'Mine405'],
                [419, 'Mine501'],
              ]
            : [
                [405, 'MethodNotAllowedError'],
                [501, 'NotImplementedError'],
              ],
        );
      }
    });

    it('leaves a 404 a route set itself alone, and a router limited to some methods answers 501 for the rest', async () => {
      const router = make();
      router.get('/missing', (ctx) => {
        ctx.status = 404;
      });
      await serve(router).get('/missing').expect(404);
      const limited = make({ methods: ['GET'] });
      limited.get(
        '/r',
        body(() => 'r'),
      );
      await serve(limited).post('/r').expect(501);
    });
  });
}
