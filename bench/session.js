#!/usr/bin/env node
/**
 * `npm run bench:session`: what the encrypted session (config.session.encrypt: true, the default)
 * costs per request against the signed-only one, on the same app (bench/apps/session), 2 workers
 * each, keep-alive load on loopback. Both clusters run the whole time; the rounds alternate which
 * goes first, so a machine warming up or busy with something else weighs on both. Prints medians
 * and the ratio encrypted / signed for a request that reads its session and one that changes it;
 * then the CPU cost per value in this process (a session-sized value encrypted and decrypted, against
 * signed and verified by the keygrip the cookies package uses), which a loaded machine blurs less.
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
const Keygrip = createRequire(join(here, '..', 'packages', 'core', 'package.json'))('keygrip');
const { CookieCipher } = await import('../packages/core/dist/egg/cookie-cipher.js');

/**
 * CPU microseconds per call of `fn` (this process's user + system time, not the wall clock: on a
 * machine others load, a wall-clock figure measures their work too).
 */
function perCall(fn, n = 20_000) {
  for (let i = 0; i < 1000; i++) fn();
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const { user, system } = process.cpuUsage(t0);
  return (user + system) / n;
}

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

// The CPU cost of one value, as koa-session stores one: base64 JSON of ~150 bytes.
const keys = ['bench-session-key-1', 'bench-session-key-0'];
const value = Buffer.from(
  JSON.stringify({
    user: { id: 4242, name: 'bench user', role: 'editor' },
    token: 'f3a1c9e07b5d4e2a8c6b1d0e9f7a3b5c',
    n: 1,
    _expire: Date.now(),
    _maxAge: 86400000,
  }),
).toString('base64');
const cipher = new CookieCipher(keys);
const grip = new Keygrip(keys);
const sealed = cipher.encrypt('CLUTCH_SESS', value);
const signature = grip.sign(`CLUTCH_SESS=${value}`);
if (cipher.decrypt('CLUTCH_SESS', sealed)?.value !== value || grip.index(`CLUTCH_SESS=${value}`, signature) !== 0)
  throw new Error('the values do not round-trip');
const cpu = { 'sign + verify': [], 'encrypt + decrypt': [], verify: [], decrypt: [] };
for (let round = 0; round < ROUNDS * 2; round++) {
  cpu['sign + verify'].push(perCall(() => grip.index(`CLUTCH_SESS=${value}`, grip.sign(`CLUTCH_SESS=${value}`))));
  cpu['encrypt + decrypt'].push(perCall(() => cipher.decrypt('CLUTCH_SESS', cipher.encrypt('CLUTCH_SESS', value))));
  cpu.verify.push(perCall(() => grip.index(`CLUTCH_SESS=${value}`, signature)));
  cpu.decrypt.push(perCall(() => cipher.decrypt('CLUTCH_SESS', sealed)));
}
const us = (k) => median(cpu[k]);
console.log(`\n| per value (${value.length} B), in process | signed CPU µs | encrypted CPU µs | encrypted / signed |\n| --- | --- | --- | --- |`);
console.log(`| read (verify / decrypt) | ${us('verify').toFixed(2)} | ${us('decrypt').toFixed(2)} | ${(us('decrypt') / us('verify')).toFixed(2)}× |`);
console.log(
  `| write and read | ${us('sign + verify').toFixed(2)} | ${us('encrypt + decrypt').toFixed(2)} | ${(us('encrypt + decrypt') / us('sign + verify')).toFixed(2)}× |`,
);
