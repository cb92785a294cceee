import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ClusterStatus } from '@clutch/cluster';
import { appStatus, isAlive, runApp, waitGone } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { copyFixture } from '../helpers/project.ts';

const allPids = (s: ClusterStatus) => [s.master.pid, ...(s.agent ? [s.agent.pid] : []), ...s.workers.map((w) => w.pid)];

/** Fills the filesystem holding `dir` until a write fails with ENOSPC. */
function fill(dir: string): void {
  const fd = openSync(join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(4096, 120);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
  // The last bytes too: a small write must fail now.
  const tail = openSync(join(dir, 'filler-tail'), 'w');
  try {
    for (;;) writeSync(tail, 'x');
  } catch {
    // Full.
  } finally {
    closeSync(tail);
  }
}

describe('a full logs disk is not an outage', { timeout: 90_000 }, () => {
  const project = copyFixture('faults');
  const logs = join(project.dir, 'logs');
  let mounted = false;
  const leftovers: number[] = [];
  after(async () => {
    await runApp(['stop', project.dir], 20_000).catch(() => {});
    for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    if (mounted) execFileSync('umount', ['-l', logs]);
    project.remove();
  });

  it('a daemon whose logs are on a full 1 MB tmpfs serves every request, replaces a killed worker, reports the drops, and stops', async () => {
    mkdirSync(logs, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', logs]);
    mounted = true;
    const start = await runApp(['start', project.dir, '--daemon', '--port', '0', '--workers', '2'], 30_000);
    assert.equal(start.code, 0, start.stderr);
    const before = await appStatus(project.dir);
    leftovers.push(...allPids(before));
    const url = before.master.url!;
    assert.equal(statSync(join(logs, 'worker.log')).mode & 0o777, 0o640, 'log files are not world-readable');

    fill(logs);
    // Every request logs an error line (to worker.log and common-error.log) that cannot be written.
    const results = await Promise.all(Array.from({ length: 200 }, () => getJson(`${url}/log-error`)));
    assert.deepEqual(
      results.map((r) => r.status).filter((s) => s !== 200),
      [],
      'every request was served',
    );
    // The master logs the exit and the replacement of a killed worker: onto the full disk too.
    const victim = before.workers[0]!.pid;
    process.kill(victim, 'SIGKILL');
    let after: ClusterStatus = before;
    for (let i = 0; i < 100; i++) {
      after = await appStatus(project.dir);
      if (after.workers.length === 2 && !after.workers.some((w) => w.pid === victim) && after.workers.every((w) => w.state === 'ready')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    leftovers.push(...allPids(after));
    assert.equal(after.master.pid, before.master.pid, 'the master lives');
    assert.ok(after.workers.every((w) => w.pid !== victim) && after.workers.length === 2, 'the killed worker was replaced');
    assert.ok(after.master.logs.dropped > 0, `the master counts its dropped lines: ${JSON.stringify(after.master.logs)}`);
    assert.match(after.master.logs.lastError ?? '', /ENOSPC/);
    const survivor = after.workers.find((w) => before.workers.some((b) => b.pid === w.pid))!;
    assert.ok(survivor.logs.dropped > 0, `a worker reports its dropped lines: ${JSON.stringify(survivor.logs)}`);
    const table = await runApp(['status', project.dir], 10_000);
    assert.match(table.stdout, /logs dropped/);
    assert.match(table.stdout, /^master .*\d+ \(ENOSPC/m);
    const answered = await Promise.all(Array.from({ length: 50 }, () => getJson(`${url}/`)));
    assert.ok(answered.every((r) => r.status === 200));

    const stop = await runApp(['stop', project.dir], 30_000);
    assert.equal(stop.code, 0, stop.stderr);
    await waitGone(allPids(after), 5_000);
  });
});
