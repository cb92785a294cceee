// Runs the soak and long load tests, test/soak/*.soak.ts (`npm run test:soak`; .ci/run runs it after
// `npm test`). They are kept out of `npm test` because each holds a cluster under load or faults for
// many seconds; they run the same way: node's test runner through tsx, two files at a time, each
// test with its own deadlines. Arguments filter the files by substring, as for test/run.js.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSystemServers } from './system-servers.js';

const root = new URL('soak/', import.meta.url).pathname;
const only = process.argv.slice(2);
const files = readdirSync(root, { recursive: true })
  .filter((f) => f.endsWith('.soak.ts'))
  .map((f) => join('test', 'soak', f))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  console.error('test/run-soak.js: no soak files found');
  process.exit(1);
}
const servers = ensureSystemServers(files);
if (servers !== 0) process.exit(servers);
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
