import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { controlSocketPath, type ClusterStatus } from '@clutch/cluster';
import { appStatus, fixture, isAlive, runApp, waitGone } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { copyFixture } from '../helpers/project.ts';

const allPids = (s: ClusterStatus) => [s.master.pid, s.agent!.pid, ...s.workers.map((w) => w.pid)];

describe('daemons side by side', { timeout: 90_000 }, () => {
  const a = copyFixture('reloadable');
  const b = copyFixture('reloadable');
  const leftovers: number[] = [];
  after(async () => {
    for (const p of [a, b]) await runApp(['stop', p.dir], 20_000).catch(() => {});
    for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    a.remove();
    b.remove();
  });

  it('start --daemon returns once ready; status, stop and logs each touch only their own project', async () => {
    const started = await Promise.all([a, b].map((p) => runApp(['start', p.dir, '--daemon', '--port', '0', '--workers', '2'], 30_000)));
    for (const s of started) {
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stdout, /started on http:\/\/127\.0\.0\.1:\d+ \(daemon master \d+/);
    }
    const [sa, sb] = [await appStatus(a.dir), await appStatus(b.dir)];
    leftovers.push(...allPids(sa), ...allPids(sb));
    assert.equal(sa.workers.length, 2);
    assert.equal(sa.master.baseDir, a.dir);
    assert.equal(sb.master.baseDir, b.dir);
    assert.ok(
      allPids(sa).every((pid) => !allPids(sb).includes(pid)),
      'two separate clusters',
    );
    for (const s of [sa, sb]) {
      assert.equal(s.master.state, 'ready');
      assert.ok(s.workers.every((w) => w.state === 'ready' && w.restarts === 0 && w.rss! > 0 && w.uptime >= 0));
      assert.equal((await getJson(`${s.master.url}/`)).status, 200);
    }

    const stopped = await runApp(['stop', a.dir], 30_000);
    assert.equal(stopped.code, 0, stopped.stderr);
    await waitGone(allPids(sa), 5_000);
    assert.ok(allPids(sb).every(isAlive), 'the other project is untouched');
    assert.equal((await getJson(`${sb.master.url}/`)).status, 200);
    const again = await runApp(['status', a.dir], 10_000);
    assert.equal(again.code, 3, 'status of a stopped cluster');

    for (const file of ['master.log', 'agent.log', 'worker.log', 'common-error.log', 'stdout.log']) {
      assert.ok(existsSync(join(a.dir, 'logs', file)), `logs/${file}`);
    }
    assert.match(readFileSync(join(a.dir, 'logs', 'master.log'), 'utf8'), /\[master:\d+\] reloadable started on/);
    assert.match(readFileSync(join(a.dir, 'logs', 'worker.log'), 'utf8'), /\[worker:\d+\]/);
  });

  it('reopens every log file on SIGUSR1 — master, agent, both workers, errors — and opens no inspector', async () => {
    const sb = await appStatus(b.dir);
    const logs = join(b.dir, 'logs');
    const read = (f: string) => (existsSync(join(logs, f)) ? readFileSync(join(logs, f), 'utf8') : '');
    assert.equal((await getJson(`${sb.master.url}/log?msg=before`)).status, 200);
    for (const f of ['master.log', 'agent.log', 'worker.log', 'common-error.log']) renameSync(join(logs, f), join(logs, `${f}.1`));
    process.kill(sb.master.pid, 'SIGUSR1');
    // Each role writes something new: the workers and the agent on request, the master (and the
    // error log) on a malformed control request. Ask until every fresh file has it.
    const workersSeen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const { body } = await getJson<{ pid: number }>(`${sb.master.url}/log?msg=after`);
      if (read('worker.log').includes(`[worker:${body.pid}]`) || read('worker.log').includes('LOG after')) workersSeen.add(body.pid);
      await getJson(`${sb.master.url}/agent-version`);
      await new Promise<void>((resolve) => {
        const c = createConnection(controlSocketPath(b.dir, 'reloadable'), () => c.end('not a request\n'));
        c.resume();
        c.on('close', () => resolve());
        c.on('error', () => resolve());
      });
      if (
        read('worker.log').includes('LOG after') &&
        read('agent.log').includes('LOG agent version') &&
        read('master.log').includes('CLUTCH_ERR_CONTROL_BAD_REQUEST') &&
        read('common-error.log').includes('CLUTCH_ERR_CONTROL_BAD_REQUEST')
      )
        break;
    }
    assert.match(read('worker.log'), /LOG after/);
    assert.match(read('agent.log'), /LOG agent version v1/);
    assert.match(read('master.log'), /CLUTCH_ERR_CONTROL_BAD_REQUEST/);
    assert.match(read('common-error.log'), /CLUTCH_ERR_CONTROL_BAD_REQUEST/);
    assert.match(read('worker.log.1'), /LOG before/);
    // The reopen travels over IPC, so a line could still reach a moved file just before; once every
    // role has reopened, nothing more may.
    const moved = ['master.log.1', 'agent.log.1', 'worker.log.1', 'common-error.log.1'].map((f) => read(f).length);
    for (let i = 0; i < 10; i++) await getJson(`${sb.master.url}/log?msg=final`);
    assert.match(read('worker.log'), /LOG final/);
    assert.deepEqual(
      ['master.log.1', 'agent.log.1', 'worker.log.1', 'common-error.log.1'].map((f) => read(f).length),
      moved,
      'nothing more went to the moved files',
    );
    assert.ok(!read('stdout.log').includes('Debugger listening'), 'no inspector was opened');
    assert.ok(allPids(sb).every(isAlive), 'SIGUSR1 killed nothing');
    const stopped = await runApp(['stop', b.dir], 30_000);
    assert.equal(stopped.code, 0, stopped.stderr);
    await waitGone(allPids(sb), 5_000);
  });

  it('a daemon whose start fails exits non-zero with the error, leaving nothing running', async () => {
    const { code, stdout, stderr } = await runApp(['start', fixture('bad-config'), '--daemon', '--port', '0', '--workers', '1'], 30_000);
    assert.equal(code, 1);
    assert.match(stderr, /CLUTCH_ERR_CONFIG_LOAD_FAILED/);
    assert.ok(!/started on/.test(stdout));
    const running = await runApp(['status', fixture('bad-config')], 10_000);
    assert.equal(running.code, 3, 'no cluster answers');
  });
});
