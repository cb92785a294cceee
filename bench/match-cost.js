#!/usr/bin/env node
/**
 * In-process cost of finding a request's routes: `router.match()` of Clutch's TreeRouter and of
 * @koa/router, with 10, 100 and 1,000 routes /api/rN/:id, a different route and id on each call. Prints
 * nanoseconds per call as JSON (bench/routing.js runs it under each Node). No sockets, no other
 * process: what the route count alone costs, free of the machine's load.
 */
import { createRequire } from 'node:module';
import { ROUTE_COUNTS } from './routing.js';

const require = createRequire(import.meta.url);
const Router = require('@koa/router');
const { TreeRouter } = await import('../packages/core/dist/app-router.js');

const noop = () => undefined;
function nsPerMatch(make, n) {
  const router = make();
  for (let i = 0; i < n; i++) router.get(`/api/r${i}/:id`, noop);
  const path = (i) => `/api/r${(i * 7) % n}/${i}`;
  // Enough calls for ~0.2 s of @koa/router at 1,000 routes; the tree gets more for the same time.
  const calls = make === plain ? Math.max(2_000, 2_000_000 / n) : 200_000;
  let sink = 0;
  for (let i = 0; i < calls; i++) sink += router.match(path(i), 'GET').path.length;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) sink += router.match(path(i + calls), 'GET').path.length;
  const ns = Number(process.hrtime.bigint() - t0) / calls;
  if (sink !== 2 * calls) throw new Error(`match() found ${sink} layers for ${2 * calls} paths`);
  return ns;
}
const plain = () => new Router();
const tree = () => new TreeRouter();
const out = { tree: {}, koa: {} };
for (const n of ROUTE_COUNTS) {
  out.tree[n] = nsPerMatch(tree, n);
  out.koa[n] = nsPerMatch(plain, n);
}
console.log(JSON.stringify(out));
