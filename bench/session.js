#!/usr/bin/env node
/**
 * `npm run bench:session`: what the encrypted session (config.session.encrypt: true, the default)
 * costs per request against the signed-only one, on the same app (bench/apps/session), 2 workers
 * each, keep-alive load on loopback. Both clusters run the whole time; the rounds alternate which
 * goes first, so a machine warming up or busy with something else weighs on both. Prints medians
 * and the ratio encrypted / signed for a request that reads its session and one that changes it.
 * BENCH_ROUNDS (default 5) and BENCH_SECONDS (default 3).
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, median, run, spawnTree, waitForOk } from './lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const APP = join(resolve(here, '..'), 'packages', 'cli', 'bin', 'app.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

if (!existsSync(join(here, 'node_modules', 'autocannon'))) {
  console.log('Installing the benchmark peers into bench/node_modules …');
  const r = run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const autocannon = createRequire(import.meta.url)('autocannon');

/** One GET with `cookie`: the body, and the Set-Cookie pairs as a Cookie header. */
function once(url, cookie = '') {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { cookie } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c));
      res.on('end', () => resolve({ body, cookie: (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ') }));
    });
    req.on('error', reject);
    req.end();
  });
}

function cannon(url, cookie) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: 32, duration: SECONDS, headers: { cookie } }, (err, res) => {
      if (err) reject(err);
      else resolve({ rps: res.requests.average, failed: res.errors + res.timeouts + res.non2xx });
    });
  });
}

const variants = { 'signed only': { BENCH_SESSION_ENCRYPT: '0' }, encrypted: {} };
const clusters = {};
try {
  for (const [name, env] of Object.entries(variants)) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const tree = spawnTree(
      process.execPath,
      [APP, 'start', join(here, 'apps', 'session'), '--port', String(port), '--workers', '2', '--title', `bench-session-${port}`],
      { env },
    );
    clusters[name] = { url, tree };
    await waitForOk(`${url}/`, performance.now()).catch((err) => {
      throw new Error(`${name} did not start: ${err.message}\n${tree.stderr()}`);
    });
    const { cookie } = await once(`${url}/login`);
    // The two must differ as meant, and the load must carry a session each request reads.
    if (cookie.includes('.sig=') !== (name === 'signed only')) throw new Error(`${name}: unexpected session cookie ${cookie}`);
    const { body } = await once(`${url}/read`, cookie);
    if (body !== '4242') throw new Error(`${name}: the session was not read (${body})`);
    clusters[name].cookie = cookie;
  }
  console.log(`Session cookie cost · Node ${process.version} · ${cpus().length} CPUs · 2 workers each · ${ROUNDS} rounds × ${SECONDS} s · medians\n`);
  const results = {};
  const names = Object.keys(variants);
  for (let round = 0; round < ROUNDS; round++) {
    for (const route of ['/read', '/write']) {
      for (const name of round % 2 ? [...names].reverse() : names) {
        const { url, cookie } = clusters[name];
        const r = await cannon(`${url}${route}`, cookie);
        if (r.failed > 0) throw new Error(`${name} ${route}: ${r.failed} failed requests`);
        ((results[route] ??= {})[name] ??= []).push(r.rps);
      }
    }
    process.stdout.write(`  round ${round + 1} done\n`);
  }
  console.log('\n| request | signed only req/s | encrypted req/s | encrypted / signed |\n| --- | --- | --- | --- |');
  for (const [route, byName] of Object.entries(results)) {
    const signed = median(byName['signed only']);
    const encrypted = median(byName.encrypted);
    console.log(
      `| ${route === '/read' ? 'reads its session' : 'changes its session'} | ${signed.toFixed(0)} | ${encrypted.toFixed(0)} | ${(encrypted / signed).toFixed(2)}× |`,
    );
  }
} finally {
  for (const { tree } of Object.values(clusters)) await tree.stop();
}
