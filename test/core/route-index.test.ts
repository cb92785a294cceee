/**
 * The radix-tree matcher (docs/routing.md) against @koa/router's own: the same layers for every path,
 * and a number of RegExp tests per request that does not grow with the route count.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import Router, { type Layer } from '@koa/router';
import { TreeRouter } from '../../packages/core/src/app-router.ts';

/** A small seeded generator (mulberry32): a failure names its seed and can be replayed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return { next, pick };
}

const noop = () => undefined;
const WORDS = ['users', 'Users', 'posts', 'new', 'edit', 'a', 'b.json', 'x-y', 'api', 'v1'];
// Paths the tree cannot hold, mixed in: they must still be tested, in stack order.
const ODD = ['/files/*rest', '/opt{/:tail}', '/:name.json', '/users/', '/ver/:v/', '/caf\u00e9', '/%7e'];
const VERBS = ['get', 'post', 'put', 'delete', 'all'] as const;

/** The same routes on both routers: verbs, router.use() prefixes and middleware, RegExps, a nested router. */
function define(seed: number, count: number): Array<Router> {
  const routers = [new Router(), new TreeRouter() as unknown as Router];
  const rnd = random(seed);
  const steps: Array<(r: Router) => void> = [];
  for (let i = 0; i < count; i++) {
    const roll = rnd.next();
    if (roll < 0.06) {
      const path = rnd.pick(ODD);
      steps.push((r) => r.get(path, noop));
    } else if (roll < 0.09) {
      const at = `/${rnd.pick(WORDS)}`;
      steps.push((r) => r.use(at, noop));
    } else if (roll < 0.1) {
      steps.push((r) => r.use(noop));
    } else if (roll < 0.11) {
      steps.push((r) => r.get(/^\/re\/\d+$/, noop));
    } else {
      const depth = 1 + Math.floor(rnd.next() * 3);
      // Rarely a parameter first: a table full of /:a/:b would hand every path to a shape that
      // overlaps everything, and hide a tree that misses the static ones.
      const segments = Array.from({ length: depth }, (_, i) => (rnd.next() < (i === 0 ? 0.03 : 0.4) ? `:p${Math.floor(rnd.next() * 3)}` : rnd.pick(WORDS)));
      const path = '/' + segments.join('/');
      const verb = rnd.pick(VERBS);
      steps.push((r) => r[verb](path, noop));
    }
  }
  const nestedAt = `/${rnd.pick(WORDS)}`;
  for (const r of routers) {
    for (const step of steps) step(r);
    const nested = new Router();
    nested.get('/in/:id', noop).post('/in', noop);
    r.use(nestedAt, nested.routes());
  }
  return routers;
}

/**
 * Paths to try: most made from a route of the table (params filled in, case changed, a slash
 * added or doubled, odd encodings), so that they match; the rest from pieces, so that most do not.
 */
function probes(router: Router, seed: number, n: number): string[] {
  const rnd = random(seed);
  const VALUES = ['7', 'new', 'caf%C3%A9', '%C4%B0', '100%', 'a%2Fb', 'x'.repeat(150), 'A', 'file.txt', 'in', '42', 'q?x', 'h#x', '\u0130'];
  const piece = () => rnd.pick([...WORDS, ...VALUES, 'USERS', 'V1', 're', 'opt', 'tail', 'ver']);
  const paths = router.stack.map((l) => l.path).filter((p): p is string => typeof p === 'string' && p.startsWith('/'));
  const out = ['/', '', '//', '/files', '/files/a/b', '/opt', '/opt/t', '/x.json', '/users/', '/re/12', '/caf\u00e9', '/%7e', '/%7E'];
  for (let i = 0; i < n; i++) {
    let path: string;
    if (rnd.next() < 0.7) {
      path = rnd.pick(paths).replace(/:\w+/g, () => rnd.pick(VALUES));
      if (rnd.next() < 0.3) path = path.toUpperCase();
    } else {
      path = '/' + Array.from({ length: 1 + Math.floor(rnd.next() * 4) }, piece).join('/');
    }
    if (rnd.next() < 0.15) path += '/';
    if (rnd.next() < 0.05) path = path.replace('/', '//');
    out.push(path);
  }
  return out;
}

const indexesOf = (r: Router, layers: Layer[]) => layers.map((l) => r.stack.indexOf(l));

it('returns the layers @koa/router returns, for every path and method, on random route tables', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const [plain, tree] = define(seed, 300) as [Router, Router];
    let matched = 0;
    for (const path of probes(plain, seed * 7919, 1500)) {
      for (const method of ['GET', 'HEAD', 'POST', 'DELETE', 'PATCH']) {
        const want = plain.match(path, method);
        const got = tree.match(path, method);
        const where = `seed ${seed}: ${method} ${JSON.stringify(path)}`;
        assert.deepEqual(indexesOf(tree, got.path), indexesOf(plain, want.path), where);
        assert.deepEqual(indexesOf(tree, got.pathAndMethod), indexesOf(plain, want.pathAndMethod), where);
        assert.equal(got.route, want.route, where);
        if (want.route) matched++;
      }
    }
    // Most of the paths must reach a route, or the comparison proves little.
    assert.ok(matched > 1500, `seed ${seed}: only ${matched} matches`);
  }
});

it('sees routes added after the first match, and prefix() rewriting the paths already there', () => {
  const tree = new TreeRouter() as unknown as Router;
  tree.get('/users/:id', noop);
  assert.equal(tree.match('/users/1', 'GET').route, true);
  tree.get('/later/:id', noop);
  assert.equal(tree.match('/later/1', 'GET').route, true);
  tree.prefix('/api');
  assert.equal(tree.match('/users/1', 'GET').route, false);
  assert.equal(tree.match('/api/users/1', 'GET').route, true);
  assert.equal(tree.match('/api/later/1', 'GET').route, true);
});

it('tests a handful of RegExps per request whether there are 10 or 1,000 routes', () => {
  const tested = (count: number) => {
    const router = new TreeRouter() as unknown as Router;
    // REST-style tables, as egg's resources make them: collection, new, one, edit.
    for (let i = 0; i < count / 4; i++) {
      router.get(`/r${i}`, noop).get(`/r${i}/new`, noop).get(`/r${i}/:id`, noop).get(`/r${i}/:id/edit`, noop);
    }
    let calls = 0;
    for (const layer of router.stack) {
      const match = layer.match.bind(layer);
      layer.match = (path: string) => (calls++, match(path));
    }
    const last = count / 4 - 1;
    for (const path of [`/r${last}/1234`, `/r${last}/new`, `/r${last}/9/edit`, `/r${last}`, '/nowhere/at/all']) {
      calls = 0;
      router.match(path, 'GET');
      // /rN/new also overlaps /rN/:id: two; the others one or none.
      assert.ok(calls <= 2, `${count} routes: ${path} tested ${calls} layers`);
    }
  };
  tested(12);
  tested(1_000);
});
