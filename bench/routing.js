/**
 * The routing rows of `npm run bench` (docs/routing.md): Clutch and node:cluster + Koa + @koa/router
 * with 10, 100 and 1,000 parametrized routes, each request a different `:id` (autocannon's
 * `[<id>]` replacement), so no per-URL shortcut can answer it. The peers join the main loop, so
 * their rounds interleave with the others'.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROUTE_COUNTS = [10, 100, 1000];

const clutchName = (n, sx) => `Clutch, ${n.toLocaleString('en-US')} routes${sx}`;
const koaName = (n, sx) => `node:cluster + Koa + @koa/router, ${n.toLocaleString('en-US')} routes${sx}`;

/** The peers under one Node; `routes` tells the loop which route to request. */
export function routingPeers(node, sx, { clutchPeer, nodeClusterPeer }) {
  const peers = {};
  for (const n of ROUTE_COUNTS) {
    peers[clutchName(n, sx)] = { ...clutchPeer(node, { env: { BENCH_ROUTES: String(n) }, measure: ['routes'] }), routes: n };
    peers[koaName(n, sx)] = { ...nodeClusterPeer(node, 'router', ['routes'], { BENCH_ROUTES: String(n) }), routes: n };
  }
  return peers;
}

/** The URL a peer with `n` routes is loaded on: its last route (@koa/router tests them all anyway). */
export const routingPath = (n) => `/api/r${n - 1}/[<id>]`;

/**
 * Clutch with 10 routes, a second copy of it, and Clutch with 1,000 routes, running side by side,
 * loaded in turn for `slices` slices of one second each (the order rotated every slice): a load on
 * the machine that comes and goes falls on all alike, which whole rounds seconds apart cannot
 * promise. The copy shows how far two identical clusters differ: the noise floor of the ratio.
 * Returns each one's req/s: [10, the copy, 1,000].
 */
export async function pairedRouting(PEERS, sx, { cannon, freePort, waitForOk, slices = 12 }) {
  const names = [clutchName(10, sx), clutchName(10, sx), clutchName(1000, sx)];
  const running = [];
  try {
    for (const name of names) {
      const port = await freePort();
      const peer = await PEERS[name].start(port);
      running.push({ name, peer, url: `http://127.0.0.1:${port}${routingPath(PEERS[name].routes)}` });
      await waitForOk(`http://127.0.0.1:${port}/`, performance.now());
    }
    for (const r of running) await cannon(r.url, { connections: 50, idReplacement: true, seconds: 1 });
    const totals = names.map(() => 0);
    for (let i = 0; i < slices; i++) {
      for (let j = 0; j < names.length; j++) {
        const k = (i + j) % names.length;
        totals[k] += (await cannon(running[k].url, { connections: 50, idReplacement: true, seconds: 1 })).total;
      }
    }
    return totals.map((t) => t / slices);
  } finally {
    for (const r of running) await r.peer.stop();
  }
}

/** bench/match-cost.js under each Node: ns per match() call, { tree: { 10: ns, … }, koa: { … } } per Node. */
export function matchCosts(nodes) {
  return nodes.map((node) => {
    const r = spawnSync(node, [fileURLToPath(new URL('match-cost.js', import.meta.url))], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`bench/match-cost.js failed under ${node}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  });
}

/**
 * One table per Node: req/s and the server tree's CPU per request, each against the same framework
 * with 10 routes and against Koa + @koa/router with as many; then match() alone, in-process.
 */
export function routingTables({ m, suffixes, nodeName, table, row, fmt, ratio, match, paired }) {
  suffixes.forEach((sx, k) => {
    const pair = paired?.[sx];
    if (pair) {
      table(`Routing: Clutch with 10 and 1,000 routes side by side, loaded in turn, 1 s slices — ${nodeName(sx)}`, ['', 'req/s', 'vs 10 routes']);
      row(clutchName(10, sx), fmt(pair[0]), '1.00×');
      row(`${clutchName(10, sx)}, a second cluster (the noise floor)`, fmt(pair[1]), ratio(pair[1], pair[0]));
      row(clutchName(1000, sx), fmt(pair[2]), ratio(pair[2], pair[0]));
    }
    table(`Routing: a different :id on every request (keep-alive, 50 connections, autocannon) — ${nodeName(sx)}`, [
      '',
      'req/s',
      'vs 10 routes',
      'vs Koa + @koa/router',
      'CPU µs per request (all processes)',
      'vs 10 routes',
      'vs Koa + @koa/router',
    ]);
    for (const name of [clutchName, koaName]) {
      for (const n of ROUTE_COUNTS) {
        const [rps, few, koa] = [name(n, sx), name(ROUTE_COUNTS[0], sx), koaName(n, sx)].map((p) => m(p, 'rpsRoutes'));
        const [cpu, cpuFew, cpuKoa] = [name(n, sx), name(ROUTE_COUNTS[0], sx), koaName(n, sx)].map((p) => m(p, 'cpuRoutes'));
        row(name(n, sx), fmt(rps), ratio(rps, few), ratio(rps, koa), fmt(cpu, 1), ratio(cpu, cpuFew), ratio(cpu, cpuKoa));
      }
    }
    const costs = match?.[k];
    if (!costs) return;
    table(`Routing: router.match() alone, in-process, a different route and :id each call — ${nodeName(sx)}`, [
      '',
      'ns per call',
      'vs 10 routes',
      'vs @koa/router',
    ]);
    for (const [label, key] of [
      ['Clutch (TreeRouter)', 'tree'],
      ['@koa/router', 'koa'],
    ]) {
      for (const n of ROUTE_COUNTS)
        row(
          `${label}, ${n.toLocaleString('en-US')} routes`,
          fmt(costs[key][n]),
          ratio(costs[key][n], costs[key][ROUTE_COUNTS[0]]),
          ratio(costs[key][n], costs.koa[n]),
        );
    }
  });
}

/**
 * Issue #26: with 1,000 routes Clutch serves ≥ 0.9× what it serves with 10 (measured side by side),
 * on every Node measured; and spends ≤ 1.1× the CPU per request (from the rounds).
 */
export function routingTargets({ m, suffixes, nodeLabel, ratio, paired }) {
  return suffixes.flatMap((sx) => {
    const [few, , many] = paired?.[sx] ?? [NaN, NaN, NaN];
    const [cpuMany, cpuFew] = [1000, 10].map((n) => m(clutchName(n, sx), 'cpuRoutes'));
    return [
      [`1,000 routes within 5 % of the req/s of 10 routes (side by side), a different :id each request${nodeLabel(sx)}`, many / few >= 0.95, ratio(many, few)],
      [`1,000 routes ≤ 1.1× the CPU per request of 10 routes${nodeLabel(sx)}`, cpuMany / cpuFew <= 1.1, ratio(cpuMany, cpuFew)],
    ];
  });
}
