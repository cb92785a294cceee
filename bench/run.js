#!/usr/bin/env node
/**
 * `npm run bench`: Clutch side by side with bare node:cluster + Koa, egg 4 (startCluster) and pm2
 * cluster mode, 2 workers each, on loopback, in one bounded run. Installs its peers into
 * bench/node_modules on first run (never part of the root install). Prints medians over rounds and
 * ratios to the baseline of each figure — ratios, not absolute numbers, are what travel between
 * machines. BENCH_ROUNDS (default 3) and BENCH_SECONDS (default 5) shorten or lengthen it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendants, freePort, get, median, rssMB, run, sleep, spawnTree, waitForOk } from './lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const APP = join(root, 'packages', 'cli', 'bin', 'app.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const began = Date.now();

if (!existsSync(join(here, 'node_modules', 'autocannon')) || !existsSync(join(here, 'node_modules', 'egg')) || !existsSync(join(here, 'node_modules', 'pm2'))) {
  console.log('Installing the benchmark peers (egg 4, pm2, autocannon) into bench/node_modules …');
  const r = run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const PM2 = join(here, 'node_modules', '.bin', 'pm2');
const pm2Home = mkdtempSync(join(tmpdir(), 'clutch-bench-pm2-'));
process.on('exit', () => {
  run(PM2, ['kill'], { env: { ...process.env, PM2_HOME: pm2Home } });
  rmSync(pm2Home, { recursive: true, force: true });
});

function cannon(url, { connections, close = false, seconds = SECONDS }) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, headers: close ? { connection: 'close' } : undefined }, (err, res) => {
      if (err) reject(err);
      else resolve({ rps: res.requests.average, p99: res.latency.p99, failed: res.errors + res.timeouts + res.non2xx, total: res.requests.total });
    });
  });
}

function exec(command, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

const pm2 = (args, env = {}) => exec(PM2, args, { PM2_HOME: pm2Home, ...env });

/** Each peer: how to start it on a port, the root of its process tree, how to stop it. */
const PEERS = {
  'node:cluster': {
    async start(port) {
      const tree = spawnTree(process.execPath, [join(here, 'peers', 'node-cluster.cjs')], { env: { PORT: port } });
      return { root: tree.pid, stderr: tree.stderr, stop: () => tree.stop() };
    },
  },
  Clutch: {
    async start(port) {
      const tree = spawnTree(process.execPath, [APP, 'start', join(here, 'apps', 'clutch'), '--port', String(port), '--workers', '2', '--title', `bench-${port}`]);
      return { root: tree.pid, title: `bench-${port}`, stderr: tree.stderr, stop: () => tree.stop() };
    },
  },
  // The same, with the per-request instrumentation of /metrics off: what that costs on the hello route.
  'Clutch, no request metrics': {
    httpOnly: true,
    async start(port) {
      const tree = spawnTree(process.execPath, [APP, 'start', join(here, 'apps', 'clutch'), '--port', String(port), '--workers', '2', '--title', `bench-${port}`], { env: { CLUTCH_HTTP_METRICS: '0' } });
      return { root: tree.pid, title: `bench-${port}`, stderr: tree.stderr, stop: () => tree.stop() };
    },
  },
  'egg 4': {
    async start(port) {
      const tree = spawnTree(process.execPath, [join(here, 'peers', 'egg-start.cjs')], { env: { PORT: port, EGG_SERVER_ENV: 'prod' } });
      return { root: tree.pid, stderr: tree.stderr, stop: () => tree.stop() };
    },
  },
  pm2: {
    async start(port) {
      await pm2(['start', join(here, 'peers', 'koa-server.cjs'), '-i', '2', '--name', 'bench-koa'], { PORT: String(port) });
      const daemon = Number(readFileSync(join(pm2Home, 'pm2.pid'), 'utf8'));
      return { root: daemon, stop: () => pm2(['kill']) };
    },
  },
};

const results = {};
const record = (peer, key, value) => ((results[peer] ??= {})[key] ??= []).push(value);

console.log(`Clutch benchmarks · ${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${process.platform} ${process.arch} · ${cpus().length} CPUs (${cpus()[0]?.model.trim()})`);
console.log(`2 workers each, loopback, load generator (autocannon) on the same cores · ${ROUNDS} rounds × ${SECONDS} s · medians\n`);

const order = Object.keys(PEERS);
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round, so no peer always runs first (or last) on a warming machine.
  const peers = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
  for (const name of peers) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const t0 = performance.now();
    const peer = await PEERS[name].start(port);
    try {
      record(
        name,
        'cold',
        await waitForOk(`${url}/`, t0).catch((err) => {
          throw new Error(`${name} did not start: ${err.message}\n${peer.stderr?.() ?? ''}`);
        }),
      );
      if (PEERS[name].httpOnly) {
        record(name, 'rps', (await cannon(`${url}/`, { connections: 50 })).rps);
        continue;
      }
      await sleep(2_000);
      record(name, 'rss', rssMB(descendants(peer.root)));
      // The messenger first, on a quiet machine (after HTTP load the system is still settling), and
      // after a warm-up pass for Clutch and egg alike: a fresh process's first thousands of round
      // trips measure the JIT, not the relay.
      if (name === 'Clutch') await get(`${url}/bench/rtt?n=3000`, { timeoutMs: 60_000 });
      if (name === 'Clutch' || name === 'egg 4') await get(`${url}/bench/pingpong?n=3000`, { timeoutMs: 60_000 });
      if (name === 'Clutch') {
        const rtt = JSON.parse((await get(`${url}/bench/rtt?n=3000`, { timeoutMs: 60_000 })).body);
        record(name, 'rttP50', rtt.p50);
        record(name, 'rttP99', rtt.p99);
      }
      if (name === 'Clutch' || name === 'egg 4') {
        const pp = JSON.parse((await get(`${url}/bench/pingpong?n=3000`, { timeoutMs: 60_000 })).body);
        record(name, 'ppP50', pp.p50);
        record(name, 'ppP99', pp.p99);
        const bc = JSON.parse((await get(`${url}/bench/broadcast?n=50000`, { timeoutMs: 120_000 })).body);
        record(name, 'broadcast', bc.perSecond);
      }
      const keep = await cannon(`${url}/`, { connections: 50 });
      record(name, 'rps', keep.rps);
      record(name, 'p99', keep.p99);
      const close = await cannon(`${url}/`, { connections: 20, close: true });
      record(name, 'rpsClose', close.rps);
      record(name, 'p99Close', close.p99);
    } finally {
      await peer.stop();
    }
    process.stdout.write(`  round ${round + 1}: ${name} done\n`);
  }
}

// Reload under load: 8 keep-alive and 8 Connection: close connections for 12 s, reload at 3 s.
for (let round = 0; round < Math.min(ROUNDS, 2); round++) {
  for (const name of ['Clutch', 'pm2']) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const peer = await PEERS[name].start(port);
    try {
      await waitForOk(`${url}/`, performance.now());
      const load = Promise.all([cannon(`${url}/`, { connections: 8, seconds: 12 }), cannon(`${url}/`, { connections: 8, close: true, seconds: 12 })]);
      await sleep(3_000);
      const reload = name === 'Clutch' ? await exec(process.execPath, [APP, 'reload', join(here, 'apps', 'clutch'), '--title', peer.title]) : await pm2(['reload', 'bench-koa']);
      if (reload.code !== 0) console.error(`  ${name} reload exited ${reload.code}: ${reload.out.trim().slice(-500)}`);
      const [a, b] = await load;
      record(name, 'reloadFailed', a.failed + b.failed);
      record(name, 'reloadTotal', a.total + b.total);
    } finally {
      await peer.stop();
    }
    process.stdout.write(`  reload round ${round + 1}: ${name} done\n`);
  }
}

// ——— the table ———
const m = (peer, key) => median(results[peer]?.[key] ?? []);
const fmt = (v, digits = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—');
const ratio = (v, base) => (Number.isFinite(v) && Number.isFinite(base) && base !== 0 ? `${(v / base).toFixed(2)}×` : '—');
const lines = [];
const row = (...cells) => lines.push(`| ${cells.join(' | ')} |`);
const table = (title, head) => {
  lines.push('', `**${title}**`, '');
  row(...head);
  row(...head.map(() => '---'));
};
const peersAll = ['node:cluster', 'Clutch', 'egg 4', 'pm2'];

table('Hello route, keep-alive (50 connections)', ['', 'req/s', 'vs node:cluster', 'p99 ms']);
for (const p of peersAll) row(p, fmt(m(p, 'rps')), ratio(m(p, 'rps'), m('node:cluster', 'rps')), fmt(m(p, 'p99'), 1));
table('What the per-request instrumentation of /metrics costs (hello route, keep-alive, 50 connections)', ['', 'req/s', 'vs without']);
row('Clutch (request metrics on, the default)', fmt(m('Clutch', 'rps')), ratio(m('Clutch', 'rps'), m('Clutch, no request metrics', 'rps')));
row('Clutch, CLUTCH_HTTP_METRICS=0', fmt(m('Clutch, no request metrics', 'rps')), '1.00×');
table('Hello route, Connection: close (20 connections)', ['', 'req/s', 'vs node:cluster', 'p99 ms']);
for (const p of peersAll) row(p, fmt(m(p, 'rpsClose')), ratio(m(p, 'rpsClose'), m('node:cluster', 'rpsClose')), fmt(m(p, 'p99Close'), 1));
table('Cold start to the first 200, and RSS of the idle tree', ['', 'cold start ms', 'vs node:cluster', 'RSS MB (all processes)', 'vs node:cluster']);
for (const p of peersAll) row(p, fmt(m(p, 'cold')), ratio(m(p, 'cold'), m('node:cluster', 'cold')), fmt(m(p, 'rss')), ratio(m(p, 'rss'), m('node:cluster', 'rss')));
table('Messenger, worker ↔ agent (3,000 sequential round trips after a 3,000 warm-up; 50,000-message broadcast to 2 workers)', ['', 'round trip p50 µs', 'p99 µs', 'vs egg (p50)', 'broadcast msg/s', 'vs egg']);
row('Clutch request()', fmt(m('Clutch', 'rttP50')), fmt(m('Clutch', 'rttP99')), ratio(m('Clutch', 'rttP50'), m('egg 4', 'ppP50')), fmt(m('Clutch', 'broadcast')), ratio(m('Clutch', 'broadcast'), m('egg 4', 'broadcast')));
row('Clutch message + reply message', fmt(m('Clutch', 'ppP50')), fmt(m('Clutch', 'ppP99')), ratio(m('Clutch', 'ppP50'), m('egg 4', 'ppP50')), '', '');
row('egg 4 message + reply message', fmt(m('egg 4', 'ppP50')), fmt(m('egg 4', 'ppP99')), '1.00×', fmt(m('egg 4', 'broadcast')), '1.00×');
table('Failed requests across a reload under load (8 keep-alive + 8 Connection: close, 12 s)', ['', 'failed', 'of requests']);
for (const p of ['Clutch', 'pm2']) row(p === 'Clutch' ? 'Clutch (app reload)' : 'pm2 (pm2 reload)', fmt(m(p, 'reloadFailed')), fmt(m(p, 'reloadTotal')));

const targets = [
  ['req/s keep-alive ≥ node:cluster', m('Clutch', 'rps') >= m('node:cluster', 'rps') * 0.97, ratio(m('Clutch', 'rps'), m('node:cluster', 'rps'))],
  ['req/s keep-alive ≥ 1.4× egg', m('Clutch', 'rps') >= 1.4 * m('egg 4', 'rps'), ratio(m('Clutch', 'rps'), m('egg 4', 'rps'))],
  ['cold start ≤ 450 ms', m('Clutch', 'cold') <= 450, `${fmt(m('Clutch', 'cold'))} ms`],
  ['idle RSS ≤ 220 MB', m('Clutch', 'rss') <= 220, `${fmt(m('Clutch', 'rss'))} MB`],
  ['relay round trip p50 ≤ 130 µs', m('Clutch', 'rttP50') <= 130, `${fmt(m('Clutch', 'rttP50'))} µs`],
  ['broadcast ≥ 75k msg/s', m('Clutch', 'broadcast') >= 75_000, `${fmt(m('Clutch', 'broadcast'))} msg/s`],
  ['zero failed requests across a reload', m('Clutch', 'reloadFailed') === 0, fmt(m('Clutch', 'reloadFailed'))],
  ['request metrics cost ≤ 3 % (issue #10)', m('Clutch', 'rps') >= 0.97 * m('Clutch, no request metrics', 'rps'), ratio(m('Clutch', 'rps'), m('Clutch, no request metrics', 'rps'))],
];
table('Targets (issue #6)', ['target', 'met', 'Clutch']);
for (const [t, ok, v] of targets) row(t, ok ? 'yes' : 'no', v);
console.log(lines.join('\n'));
console.log(`\n(${Math.round((Date.now() - began) / 1000)} s)`);
