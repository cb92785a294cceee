// The servers the suites start that no npm package ships, and how a test run makes sure they are
// here. test/run.js and test/run-soak.js call ensureSystemServers() once, before any suite, with the
// files they are about to run: a missing server is installed when this process can (root, with apt-get on the PATH, and
// not CLUTCH_TEST_INSTALL=0), which it says in one line; otherwise the run stops at once, with one
// line naming what is missing and the command that installs it — not deep inside a suite with ENOENT.
// PostgreSQL is not listed: the tests take it from the npm registry (test/helpers/stores.ts).
//
// `node test/system-servers.js [test files]` does the same on its own (no files: every suite's needs).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync, writeSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * What the suites need from the system: `command` is looked up on the PATH, `debian` is the package
 * that provides it, `usedBy` the test files that start it (a run of other files needs nothing).
 */
export const SYSTEM_SERVERS = [
  { command: 'redis-server', debian: 'redis-server', usedBy: ['test/soak/leader-redis.soak.ts', 'test/core/egg-plugins.test.ts'] },
  // egg-mysql and egg-sequelize's server (test/helpers/mariadb.ts also runs mariadb-install-db and the mariadb client, from the same package).
  { command: 'mariadbd', debian: 'mariadb-server', usedBy: ['test/core/egg-plugins.test.ts'] },
  // Headless, driven by playwright-core (which downloads no browser of its own here).
  { command: 'chromium', debian: 'chromium', usedBy: ['test/cluster/dashboard.test.ts'] },
];

/** The run stopped because a server is missing and this process may not install it. */
export const EXIT_SERVER_MISSING = 3;
/** The run stopped because installing a missing server failed. */
export const EXIT_INSTALL_FAILED = 4;

/** Where apt-get and dpkg keep their own tools; a root shell's PATH does not always have them. */
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The full path of `command` on `path`, or null. */
function which(command, path) {
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // Not in this folder.
    }
  }
  return null;
}

const and = (words) => (words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`);

/**
 * Makes sure every server that `files` need is on the PATH: installs the missing ones where it can,
 * and returns 0, or one of the exit codes above after writing one line to stderr.
 * @param {string[]} files test files as test/run.js names them (test/soak/leader-redis.soak.ts)
 * @param {{ env?: NodeJS.ProcessEnv, servers?: typeof SYSTEM_SERVERS }} [options]
 * @returns {number}
 */
export function ensureSystemServers(files, { env = process.env, servers = SYSTEM_SERVERS } = {}) {
  const missing = servers.filter((s) => s.usedBy.some((f) => files.includes(f)) && !which(s.command, env.PATH));
  if (missing.length === 0) return 0;
  const say = (text) => writeSync(2, text);
  const commands = and(missing.map((s) => s.command));
  const packages = missing.map((s) => s.debian).join(' ');
  const users = [...new Set(missing.flatMap((s) => s.usedBy.filter((f) => files.includes(f))))].join(', ');
  const what = `${commands} ${missing.length > 1 ? 'are' : 'is'} missing (${users} ${missing.length > 1 ? 'need them' : 'needs it'})`;
  const aptGet = which('apt-get', env.PATH);
  const root = process.getuid?.() === 0;
  const install = `${root ? '' : 'sudo '}apt-get install ${packages}`;
  let refusal = null;
  if (env.CLUTCH_TEST_INSTALL === '0') refusal = `install with: ${install} (CLUTCH_TEST_INSTALL=0: the test run installs nothing)`;
  else if (!aptGet) refusal = `install with your system's package manager (Debian: ${install})`;
  else if (!root) refusal = `install with: ${install} (the test run installs only as root)`;
  if (refusal) {
    say(`test/run.js: ${what}; ${refusal}\n`);
    return EXIT_SERVER_MISSING;
  }

  say(`test/run.js: ${what}; installing Debian's ${packages} with apt-get… `);
  const started = performance.now();
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive', PATH: [env.PATH, ...SBIN].filter(Boolean).join(delimiter) };
  // Another apt or dpkg at work (a second test run, unattended-upgrades) holds the lock: wait for it.
  const steps = [
    ['update', '-qq'],
    ['install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=300', ...missing.map((s) => s.debian)],
  ];
  for (const args of steps) {
    const r = spawnSync(aptGet, args, { env: aptEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) {
      const last = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.trim().split('\n').filter(Boolean).at(-1) ?? r.error?.message ?? '';
      say(`failed: apt-get ${args[0]} exited with ${r.status ?? r.signal ?? r.error?.code}: ${last}\n`);
      return EXIT_INSTALL_FAILED;
    }
  }
  const still = missing.filter((s) => !which(s.command, env.PATH));
  if (still.length > 0) {
    say(`installed, but ${and(still.map((s) => s.command))} is still not on the PATH (${env.PATH ?? ''})\n`);
    return EXIT_INSTALL_FAILED;
  }
  say(`done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = process.argv.slice(2);
  process.exitCode = ensureSystemServers(files.length > 0 ? files : SYSTEM_SERVERS.flatMap((s) => s.usedBy));
}
