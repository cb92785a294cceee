import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { controlSocketPath, pidFilePath, type ClusterStatus } from '@clutch/cluster';
import { APP_BIN, AppProcess, appStatus, isAlive, runApp, waitGone } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { copyFixture } from '../helpers/project.ts';
import { NOBODY, nodeForOthers } from '../helpers/users.ts';

const allPids = (s: ClusterStatus) => [s.master.pid, ...(s.agent ? [s.agent.pid] : []), ...s.workers.map((w) => w.pid)];
/** /proc/<pid>/stat, or '' once the pid is gone. */
function statOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

/** Runs `app <args>` as another user; resolves with its exit code and output. */
function runAs(uid: number, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(nodeForOthers(), [APP_BIN, ...args], { uid, gid: uid, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('a dead master blocks nothing, and other users cannot interfere', { timeout: 90_000 }, () => {
  const project = copyFixture('faults');
  const scratch = mkdtempSync(join(tmpdir(), 'clutch-control-'));
  const leftovers: number[] = [];
  const apps: AppProcess[] = [];
  after(async () => {
    await runApp(['stop', project.dir], 20_000).catch(() => {});
    for (const app of apps) app.kill();
    for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    project.remove();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('app start right after the master was SIGKILLed and left a zombie nobody reaps succeeds; so does one whose lock names a reused pid', async () => {
    // The master's parent never waits for it: after SIGKILL it stays a zombie, with its pid.
    const log = join(scratch, 'zombie.log');
    const holder = spawn('sh', ['-c', `"${process.execPath}" "${APP_BIN}" start "${project.dir}" --port 0 --workers 1 > "${log}" 2>&1 & exec sleep 600`], {
      detached: true,
      stdio: 'ignore',
    });
    apps.push({ kill: () => process.kill(-holder.pid!, 'SIGKILL') } as unknown as AppProcess);
    let old: ClusterStatus | undefined;
    for (let i = 0; i < 200 && !old; i++) {
      const r = await runApp(['status', project.dir, '--json'], 10_000);
      if (r.code === 0) old = JSON.parse(r.stdout) as ClusterStatus;
      else await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(old, 'the first master started');
    leftovers.push(...allPids(old));
    process.kill(old.master.pid, 'SIGKILL');
    for (let i = 0; i < 100 && !/\) Z /.test(statOf(old.master.pid)); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(statOf(old.master.pid), /\) Z /, 'the dead master is a zombie, its pid still taken');
    const second = await runApp(['start', project.dir, '--daemon', '--port', '0', '--workers', '1'], 30_000);
    assert.equal(second.code, 0, second.stderr);
    const now = await appStatus(project.dir);
    leftovers.push(...allPids(now));
    assert.equal((await getJson(`${now.master.url}/`)).status, 200);
    assert.equal((await runApp(['stop', project.dir], 30_000)).code, 0);
    await waitGone(allPids(now), 5_000);

    // A lock whose pid is alive but is another process (a pid reused since): taken over.
    const lock = `${controlSocketPath(project.dir, 'faults')}.lock`;
    writeFileSync(lock, JSON.stringify({ pid: process.pid, start: 1 }));
    const third = await runApp(['start', project.dir, '--daemon', '--port', '0', '--workers', '1'], 30_000);
    assert.equal(third.code, 0, third.stderr);
    leftovers.push(...allPids(await appStatus(project.dir)));
    assert.equal((await runApp(['stop', project.dir], 30_000)).code, 0);
  });

  it('app start --daemon right after the daemon master was SIGKILLed succeeds', async () => {
    const first = await runApp(['start', project.dir, '--daemon', '--port', '0', '--workers', '1'], 30_000);
    assert.equal(first.code, 0, first.stderr);
    const old = await appStatus(project.dir);
    leftovers.push(...allPids(old));
    process.kill(old.master.pid, 'SIGKILL');
    // At once: the lock, the socket and the pid file of the dead master are still there.
    const second = await runApp(['start', project.dir, '--daemon', '--port', '0', '--workers', '1'], 30_000);
    assert.equal(second.code, 0, second.stderr);
    const now = await appStatus(project.dir);
    leftovers.push(...allPids(now));
    assert.notEqual(now.master.pid, old.master.pid);
    assert.equal((await getJson(`${now.master.url}/`)).status, 200);
    await waitGone(allPids(old), 6_000);
    const stop = await runApp(['stop', project.dir], 30_000);
    assert.equal(stop.code, 0, stop.stderr);
    await waitGone(allPids(now), 5_000);
  });

  it('a control directory another user created first does not block the start', async () => {
    const tmp = join(scratch, 'tmp');
    const home = join(scratch, 'home');
    mkdirSync(tmp, { recursive: true });
    mkdirSync(home, { recursive: true });
    const uid = process.getuid!();
    const hostile = join(tmp, `clutch-${uid}`);
    mkdirSync(hostile, { mode: 0o777 });
    chmodSync(hostile, 0o777);
    chownSync(hostile, NOBODY, NOBODY);
    const env = { TMPDIR: tmp, HOME: home, XDG_RUNTIME_DIR: '', CLUTCH_RUN_DIR: '' };
    const app = new AppProcess(['start', project.dir, '--port', '0', '--workers', '1'], env);
    apps.push(app);
    const info = await app.waitForReady(20_000);
    assert.match(app.stderr, /CLUTCH_ERR_CONTROL_UNSAFE.*clutch-\d+.*belongs to uid 65534/);
    assert.deepEqual(readdirSync(hostile), [], 'nothing of ours went into the hostile directory');
    assert.ok(
      readdirSync(join(home, '.clutch', 'run')).some((f) => f.endsWith('.sock')),
      'the socket lives in ~/.clutch/run',
    );
    const status = await runApp(['status', project.dir, '--json'], 10_000, env);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as ClusterStatus).master.pid, info.pid);
    const stop = await runApp(['stop', project.dir], 20_000, env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.deepEqual(await app.waitForExit(10_000), { code: 0, signal: null });
  });

  it('with that directory taken and no writable home, the start still succeeds: a private directory of its own under TMPDIR, found again by stop', async () => {
    const tmp = join(scratch, 'tmp-nohome');
    mkdirSync(tmp, { recursive: true });
    const hostile = join(tmp, `clutch-${process.getuid!()}`);
    mkdirSync(hostile, { mode: 0o777 });
    chownSync(hostile, NOBODY, NOBODY);
    // A home that is a file: ~/.clutch/run cannot be made, even by root.
    const env = { TMPDIR: tmp, HOME: '/dev/null', XDG_RUNTIME_DIR: '', CLUTCH_RUN_DIR: '' };
    const app = new AppProcess(['start', project.dir, '--port', '0', '--workers', '1'], env);
    apps.push(app);
    const info = await app.waitForReady(20_000);
    const own = readdirSync(tmp).filter((n) => n.startsWith(`clutch-${process.getuid!()}.`));
    assert.equal(own.length, 1, `one private directory: ${readdirSync(tmp).join(', ')}`);
    assert.ok(
      readdirSync(join(tmp, own[0]!)).some((f) => f.endsWith('.sock')),
      'the socket lives there',
    );
    const status = await runApp(['status', project.dir, '--json'], 10_000, env);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as ClusterStatus).master.pid, info.pid);
    const stop = await runApp(['stop', project.dir], 20_000, env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.deepEqual(await app.waitForExit(10_000), { code: 0, signal: null });
  });

  it('app stop, reload and status run by another user exit non-zero and touch nothing; a stale pid file is removed', async () => {
    const start = await runApp(['start', project.dir, '--daemon', '--port', '0', '--workers', '1'], 30_000);
    assert.equal(start.code, 0, start.stderr);
    const s = await appStatus(project.dir);
    leftovers.push(...allPids(s));
    // The other user gets a temp dir of its own to put its (empty) control directory in.
    chmodSync(scratch, 0o755);
    const theirs = join(scratch, 'nobody-tmp');
    mkdirSync(theirs, { mode: 0o777 });
    chmodSync(theirs, 0o777);
    const env = { TMPDIR: theirs, HOME: theirs, XDG_RUNTIME_DIR: '', CLUTCH_RUN_DIR: '' };
    for (const command of ['stop', 'reload', 'status']) {
      const r = await runAs(NOBODY, [command, project.dir], env);
      assert.equal(r.code, 4, `${command}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /CLUTCH_ERR_CONTROL_UNREACHABLE.*runs as uid 0 and you are uid 65534/);
    }
    const still = await appStatus(project.dir);
    assert.deepEqual(allPids(still), allPids(s), 'the cluster was not touched');

    const stop = await runApp(['stop', project.dir], 30_000);
    assert.equal(stop.code, 0, stop.stderr);
    await waitGone(allPids(s), 5_000);
    // A pid file left by a master killed without cleanup, its pid since reused: not a running cluster.
    const pidFile = pidFilePath(project.dir, 'faults');
    writeFileSync(pidFile, `${process.pid}\n`);
    const after = await runAs(NOBODY, ['stop', project.dir], env);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /faults is not running/);
    const status = await runApp(['status', project.dir], 10_000);
    assert.equal(status.code, 3);
    assert.ok(!existsSync(pidFile), 'the stale pid file was removed');
  });

  it('app stop by a user who cannot read the project folder exits 4 and says why, never "not running"', async () => {
    const start = await runApp(['start', project.dir, '--daemon', '--port', '0', '--workers', '1'], 30_000);
    assert.equal(start.code, 0, start.stderr);
    const s = await appStatus(project.dir);
    leftovers.push(...allPids(s));
    const theirs = join(scratch, 'nobody-tmp2');
    mkdirSync(theirs, { mode: 0o777 });
    chmodSync(theirs, 0o777);
    const env = { TMPDIR: theirs, HOME: theirs, XDG_RUNTIME_DIR: '', CLUTCH_RUN_DIR: '' };
    chmodSync(join(project.dir, 'run'), 0o700);
    try {
      const r = await runAs(NOBODY, ['stop', project.dir], env);
      assert.equal(r.code, 4, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /CLUTCH_ERR_CONTROL_UNREACHABLE.*cannot be read \(EACCES\)/);
      assert.doesNotMatch(r.stdout, /not running/);
    } finally {
      chmodSync(join(project.dir, 'run'), 0o755);
    }
    assert.deepEqual(allPids(await appStatus(project.dir)), allPids(s), 'the cluster was not touched');
    const stop = await runApp(['stop', project.dir], 30_000);
    assert.equal(stop.code, 0, stop.stderr);
    await waitGone(allPids(s), 5_000);
  });
});
