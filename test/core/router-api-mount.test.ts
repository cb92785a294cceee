/**
 * @koa/router's own test cases for the API app.router exposes, ported (what each asserts, on
 * fixtures of our own): use(), nested routers, prefixes, names and URLs. Each runs on @koa/router
 * and on TreeRouter (test/helpers/router-cases.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Router from '@koa/router';
import { body, ROUTERS, serve } from '../helpers/router-cases.ts';

for (const [label, make] of ROUTERS) {
  describe(`${label}: use() and nested routers`, () => {
    it('runs router.use() middleware only when a route matched, and at a path only under it', async () => {
      const router = make();
      const seen: string[] = [];
      router.use((ctx, next) => (seen.push(`all ${ctx.path}`), next()));
      router.use('/admin', (ctx, next) => (seen.push(`admin ${ctx.path}`), next()));
      router.use(['/a1', '/a2'], (ctx, next) => (seen.push(`list ${ctx.path}`), next()));
      router
        .get(
          '/admin/users/:id',
          body(() => 'admin'),
        )
        .get(
          '/public/:id',
          body(() => 'public'),
        );
      router.get(
        '/a2/x',
        body(() => 'a2'),
      );
      const client = serve(router);
      await client.get('/admin/users/1').expect(200, 'admin');
      await client.get('/public/1').expect(200, 'public');
      await client.get('/a2/x').expect(200, 'a2');
      await client.get('/nothing').expect(404);
      assert.deepEqual(seen, ['all /admin/users/1', 'admin /admin/users/1', 'all /public/1', 'all /a2/x', 'list /a2/x']);
    });

    it("a use() at '/' runs on the root only; one with a RegExp where it matches", async () => {
      const router = make();
      const seen: string[] = [];
      router.use('/', (ctx, next) => (seen.push(`root ${ctx.path}`), next()));
      router.use(/^\/v\d+/, (ctx, next) => (seen.push(`re ${ctx.path}`), next()));
      router
        .get(
          '/',
          body(() => 'home'),
        )
        .get(
          '/v2/items/:id',
          body(() => 'item'),
        );
      const client = serve(router);
      await client.get('/').expect(200, 'home');
      await client.get('/v2/items/1').expect(200, 'item');
      assert.deepEqual(seen, ['root /', 're /v2/items/1']);
    });

    it('nests routers at a path and at the root, parent middleware first, and mounts one router twice', async () => {
      const parent = make();
      const child = make();
      const seen: string[] = [];
      parent.use((ctx, next) => (seen.push('parent'), next()));
      child.use((ctx, next) => (seen.push('child'), next()));
      // (The child's use() under a parametric mount also captures the rest of the path: left out.)
      child.get(
        '/posts/:pid',
        body((ctx) => ({ uid: ctx.params.uid, pid: ctx.params.pid })),
      );
      parent.use('/users/:uid', child.routes());
      parent.use('/again', child.routes());
      parent.use(child.routes());
      const client = serve(parent);
      assert.deepEqual((await client.get('/users/7/posts/8')).body, { uid: '7', pid: '8' });
      assert.deepEqual(seen, ['parent', 'child']);
      assert.deepEqual((await client.get('/again/posts/9')).body, { pid: '9' });
      assert.deepEqual((await client.get('/posts/1')).body, { pid: '1' });
    });

    it('keeps a nested router’s middleware off the parent’s other routes', async () => {
      const parent = make();
      const child = make();
      child.use((ctx, next) => ((ctx.state.child = true), next()));
      child.get(
        '/c',
        body((ctx) => ctx.state),
      );
      parent.use('/child', child.routes());
      parent.get(
        '/other/:id',
        body((ctx) => ctx.state),
      );
      const client = serve(parent);
      assert.deepEqual((await client.get('/child/c')).body, { child: true });
      assert.deepEqual((await client.get('/other/1')).body, {});
    });
  });

  describe(`${label}: prefixes`, () => {
    it('takes a prefix option, and prefix() on the routes already there, with its params in ctx.params', async () => {
      const router = make({ prefix: '/api' });
      router.get(
        '/items/:id',
        body((ctx) => ctx.params),
      );
      const client = serve(router);
      assert.deepEqual((await client.get('/api/items/3')).body, { id: '3' });
      await client.get('/items/3').expect(404);
      const later = make();
      later
        .get(
          '/',
          body(() => 'root'),
        )
        .get(
          '/items/:id',
          body((ctx) => ctx.params),
        );
      later.use((ctx, next) => next());
      later.prefix('/org/:org');
      const again = serve(later);
      assert.deepEqual((await again.get('/org/x/items/4')).body, { org: 'x', id: '4' });
      await again.get('/org/x').expect(200, 'root');
      await again.get('/items/4').expect(404);
    });

    it('replaces a prefix set twice, and serves the prefixed root with and without a trailing slash', async () => {
      const router = make();
      router.get(
        '/',
        body(() => 'root'),
      );
      router.prefix('/one');
      router.prefix('/two');
      const client = serve(router);
      await client.get('/two').expect(200, 'root');
      await client.get('/two/').expect(200, 'root');
      await client.get('/one').expect(404);
      const strict = make({ prefix: '/admin', strict: true });
      strict.get(
        '/',
        body(() => 'admin'),
      );
      const s = serve(strict);
      await s.get('/admin/').expect(200, 'admin');
      await s.get('/admin').expect(404);
    });
  });

  describe(`${label}: names and URLs`, () => {
    it('builds URLs of named routes: params by name or position, a query, encodeURIComponent, nested names', () => {
      const router = make();
      router.get('post', '/posts/:year/:slug', () => undefined);
      router.get('books', '/books', () => undefined);
      const child = make();
      child.get('child', '/leaf/:id', () => undefined);
      router.use('/tree/:branch', child.routes());
      assert.equal(router.url('post', { year: 2026, slug: 'a b/c' }), '/posts/2026/a%20b%2Fc');
      assert.equal(router.url('post', 2026, 'x'), '/posts/2026/x');
      assert.equal(router.url('post', { year: 1, slug: 'y' }, { query: { page: 2 } }), '/posts/1/y?page=2');
      assert.equal(router.url('books', { query: 'sort=asc' }), '/books?sort=asc');
      assert.equal(router.url('child', { branch: 'b', id: 5 }), '/tree/b/leaf/5');
      assert.ok(router.url('nope') instanceof Error);
      assert.equal(Router.url('/users/:id', { id: 'é' }), '/users/%C3%A9');
      assert.throws(() => {
        const re = make();
        re.get('re', /^\/re$/, () => undefined);
        re.url('re');
      }, TypeError);
    });

    it('finds a route by name, from a nested router too, and false for none', () => {
      const router = make();
      const child = make();
      child.get('inner', '/inner', () => undefined);
      router.use('/c', child.routes());
      const route = router.route('inner');
      assert.ok(route && route.path === '/c/inner');
      assert.equal(router.route('none'), false);
    });

    it('redirects, to a path or a named route, 301 unless told', async () => {
      const router = make();
      router.get(
        'home',
        '/home',
        body(() => 'home'),
      );
      router.redirect('/old', '/new');
      router.redirect('/start', 'home', 302);
      const client = serve(router);
      const moved = await client.get('/old').expect(301);
      assert.equal(moved.headers.location, '/new');
      const found = await client.get('/start').expect(302);
      assert.equal(found.headers.location, '/home');
    });
  });
}
