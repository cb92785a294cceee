import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NOBODY, nodeForOthers } from '../helpers/users.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RUNNER = join(root, 'test', 'run-soak.js');
const HELPER = join(root, 'test', 'system-servers.js');
const REDIS_SUITE = 'test/soak/leader-redis.soak.ts';
// As test/system-servers.js names them.
const EXIT_SERVER_MISSING = 3;
const EXIT_INSTALL_FAILED = 4;
/** "Stops at once": before any suite, in the time node takes to start, with room for a loaded machine. */
const AT_ONCE_MS = 5_000;

/** An apt-get that writes down how it was called and, asked to install, puts a redis-server on its own folder (the machine's stays as it is). */
const FAKE_APT = `#!/bin/sh
echo "$DEBIAN_FRONTEND $*" >> "$FAKE_APT_LOG"
if [ "$1" = install ]; then
  if [ -n "$FAKE_APT_FAIL" ]; then echo "E: Unable to locate package redis-server" >&2; exit 100; fi
  /bin/ln -s /bin/true "\${0%/*}/redis-server"
fi
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node <args>` with exactly `env` (nothing inherited: not the outer run's CLUTCH_TEST_INSTALL); killed past 30 s. */
function runNode(node: string, args: string[], env: NodeJS.ProcessEnv, uid?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(node, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], ...(uid === undefined ? {} : { uid, gid: uid }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

const lines = (text: string) => text.split('\n').filter(Boolean);

describe('test/run.js brings the servers no npm package ships, or stops at once saying how', { timeout: 60_000 }, () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  /** A PATH of one folder, open to every user, holding node and whatever else is asked for: never redis-server. */
  const pathWith = (node: string, extra: { aptGet?: 'real' | 'fake'; redis?: boolean } = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'clutch-path-'));
    dirs.push(dir);
    chmodSync(dir, 0o755);
    symlinkSync(node, join(dir, 'node'));
    if (extra.aptGet === 'real') symlinkSync('/usr/bin/apt-get', join(dir, 'apt-get'));
    if (extra.aptGet === 'fake') writeFileSync(join(dir, 'apt-get'), FAKE_APT, { mode: 0o755 });
    if (extra.redis) symlinkSync('/bin/true', join(dir, 'redis-server'));
    return dir;
  };

  it('the runner, forbidden to install (CLUTCH_TEST_INSTALL=0), stops before any suite with one line naming redis-server and its install command', async () => {
    const r = await runNode(process.execPath, [RUNNER, 'leader-redis'], { PATH: pathWith(process.execPath), CLUTCH_TEST_INSTALL: '0' });
    assert.equal(r.code, EXIT_SERVER_MISSING, r.stderr);
    assert.equal(r.stdout, '', 'no suite started');
    assert.deepEqual(lines(r.stderr), [
      `test/run.js: redis-server is missing (${REDIS_SUITE} needs it); install with: apt-get install redis-server (CLUTCH_TEST_INSTALL=0: the test run installs nothing)`,
    ]);
    assert.ok(r.ms < AT_ONCE_MS, `stopped after ${Math.round(r.ms)} ms`);
  });

  it('run as a user that is not root (nobody), with apt-get at hand, it installs nothing and names the sudo command', async () => {
    const node = nodeForOthers();
    const r = await runNode(node, [HELPER, REDIS_SUITE], { PATH: pathWith(node, { aptGet: 'real' }) }, NOBODY);
    assert.equal(r.code, EXIT_SERVER_MISSING, r.stderr);
    assert.deepEqual(lines(r.stderr), [
      `test/run.js: redis-server is missing (${REDIS_SUITE} needs it); install with: sudo apt-get install redis-server (the test run installs only as root)`,
    ]);
    assert.ok(r.ms < AT_ONCE_MS, `stopped after ${Math.round(r.ms)} ms`);
  });

  it('with no apt-get, it names the Debian package for the system package manager', async () => {
    const r = await runNode(process.execPath, [HELPER, REDIS_SUITE], { PATH: pathWith(process.execPath) });
    assert.equal(r.code, EXIT_SERVER_MISSING, r.stderr);
    assert.match(
      r.stderr,
      /^test\/run\.js: redis-server is missing \(.*\); install with your system's package manager \(Debian: (sudo )?apt-get install redis-server\)\n$/,
    );
  });

  it('as root with apt-get, it installs the Debian package (update, then a noninteractive install) and says so in one line', async () => {
    const dir = pathWith(process.execPath, { aptGet: 'fake' });
    const log = join(dir, 'apt.log');
    const r = await runNode(process.execPath, [HELPER, REDIS_SUITE], { PATH: dir, FAKE_APT_LOG: log });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^test\/run\.js: redis-server is missing \(.*\); installing Debian's redis-server with apt-get… done in \d+\.\d s\n$/);
    assert.deepEqual(lines(readFileSync(log, 'utf8')), ['noninteractive update -qq', 'noninteractive install -y -qq -o DPkg::Lock::Timeout=300 redis-server']);
  });

  it('an install that fails stops the run with one line carrying apt-get’s error', async () => {
    const dir = pathWith(process.execPath, { aptGet: 'fake' });
    const r = await runNode(process.execPath, [HELPER, REDIS_SUITE], { PATH: dir, FAKE_APT_LOG: join(dir, 'apt.log'), FAKE_APT_FAIL: '1' });
    assert.equal(r.code, EXIT_INSTALL_FAILED, r.stderr);
    assert.match(
      r.stderr,
      /^test\/run\.js: .*installing Debian's redis-server with apt-get… failed: apt-get install exited with 100: E: Unable to locate package redis-server\n$/,
    );
  });

  it('says nothing when the server is there, or when the files to run do not need it', async () => {
    const present = await runNode(process.execPath, [HELPER, REDIS_SUITE], { PATH: pathWith(process.execPath, { redis: true }), CLUTCH_TEST_INSTALL: '0' });
    assert.deepEqual([present.code, present.stderr], [0, '']);
    const unneeded = await runNode(process.execPath, [HELPER, 'test/cluster/relay.test.ts'], { PATH: pathWith(process.execPath), CLUTCH_TEST_INSTALL: '0' });
    assert.deepEqual([unneeded.code, unneeded.stderr], [0, '']);
  });
});
