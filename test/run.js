// Runs every test/**/*.test.ts and apps/*/test/*.test.ts with node's test runner. Node 20's `--test` expands no globs, so the
// files are listed here; TypeScript runs through tsx. Process tests start real clusters, so files
// run three at a time (sized for a 2-core machine: most of a process test's time is spent waiting
// on a drain, a timeout or a child's boot, not on the CPU) and each test sets its own deadlines.
// Before any suite, the servers they need that no npm package ships (redis-server) are installed
// or the run stops at once, saying what to install (test/system-servers.js).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSystemServers } from './system-servers.js';

const root = new URL('.', import.meta.url).pathname;
const only = process.argv.slice(2);
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
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=3', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
