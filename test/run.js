// Runs every test/**/*.test.ts and apps/*/test/*.test.ts with node's test runner. Node 20's `--test` expands no globs, so the
// files are listed here; TypeScript runs through tsx. Process tests start real clusters and spend
// much of their time waiting (drains, stop timeouts, backoffs), so files run four at a time, which
// keeps both cores of a 2-core machine busy to the end (measured on Node 20: 2:18 at two, 2:01 at
// three, 1:51 at four; on a VM with slower system calls the same run takes 2:39–2:55, both cores
// busy throughout: the workers the tests start take the most CPU, then the test files, the kernel,
// the lint, the agents and the masters); each test sets its own deadlines, and the loads in
// `npm test` are paced (test/helpers/load.ts) so that they do not take the CPU the clusters under
// test need.
// Before any suite, the servers they need that no npm package ships (redis-server) are installed
// or the run stops at once, saying what to install (test/system-servers.js).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSystemServers } from './system-servers.js';

const root = new URL('.', import.meta.url).pathname;
// `--lint` (what `npm test` passes): `npm run lint` runs beside the tests, see below.
const withLint = process.argv.includes('--lint');
const only = process.argv.slice(2).filter((a) => a !== '--lint');
const apps = new URL('../apps/', import.meta.url).pathname;
const files = [
  ...readdirSync(root, { recursive: true })
    .filter((f) => f.endsWith('.test.ts') && !f.includes('fixtures') && !f.includes('node_modules'))
    .map((f) => join('test', f)),
  // The example apps' own tests, written with @clutch/mock as a user would.
  ...readdirSync(apps, { recursive: true })
    .filter((f) => f.endsWith('.test.ts') && !f.includes('node_modules'))
    .map((f) => join('apps', f)),
]
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  console.error('test/run.js: no test files found');
  process.exit(1);
}
const servers = ensureSystemServers(files);
if (servers !== 0) process.exit(servers);

/** Runs a command to its end: its exit code, and what it printed when `capture` is set. */
function run(command, args, capture) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (capture) for (const stream of [child.stdout, child.stderr]) stream.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ code: 1, output: `${output}${err.message}\n` }));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

// The lint (type-aware eslint, then prettier) keeps a core busy for half a minute, while most of
// a process test's time is spent waiting: it runs beside the tests, and what it found is printed
// after their report. Either failing fails the run.
const lint = withLint ? run('npm', ['run', '--silent', 'lint'], true) : Promise.resolve({ code: 0, output: '' });
const tests = await run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=4', ...files], false);
const linted = await lint;
if (withLint) {
  process.stdout.write(linted.output);
  console.log(linted.code === 0 ? 'npm run lint: clean' : `npm run lint failed (exit ${linted.code})`);
}
process.exit(tests.code !== 0 ? tests.code : linted.code);
