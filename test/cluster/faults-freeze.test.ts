import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ClusterStatus } from '@clutch/cluster';
import { groupMembers, startFixture, statusOf, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';

const pidsOf = (s: ClusterStatus) => [s.master.pid, s.agent!.pid, ...s.workers.map((w) => w.pid)].sort();

async function status(app: AppProcess): Promise<ClusterStatus> {
  const s = await statusOf(app);
  assert.ok(s, 'the cluster answers app status');
  return s;
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves after `ms` of the test's own clock: the frozen processes cannot be waited on for an event. */
const frozenFor = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a frozen host is not a stall; a frozen worker gets no new connection', { timeout: 120_000 }, () => {
  const started: AppProcess[] = [];
  const stopped = new Set<number>();
  after(() => {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Gone.
      }
    }
    for (const app of started) app.kill();
  });

  const freeze = (pids: number[]) => {
    for (const pid of pids) {
      process.kill(pid, 'SIGSTOP');
      stopped.add(pid);
    }
  };
  const thaw = (pids: number[]) => {
    for (const pid of pids) {
      process.kill(pid, 'SIGCONT');
      stopped.delete(pid);
    }
  };

  for (const what of ['the master alone', 'the whole tree (a paused container)'] as const) {
    it(`${what} SIGSTOPped past --stall-timeout: on resume no process is replaced and every request is served`, async () => {
      const { app, info } = await startFixture('production', ['--workers', '2', '--stall-timeout', '3000']);
      started.push(app);
      const before = await status(app);
      const frozen = what === 'the master alone' ? [info.pid] : groupMembers(info.pid);
      assert.ok(frozen.length >= (what === 'the master alone' ? 1 : 4), `the group holds the tree: ${frozen.join(', ')}`);
      freeze(frozen);
      await frozenFor(5_000);
      thaw(frozen);
      // Beyond the stall timeout and two heartbeats after the resume: a verdict would have come.
      await frozenFor(3_000 + 1_500);
      for (let i = 0; i < 20; i++) assert.equal((await getJson(`${info.url}/`)).status, 200);
      assert.deepEqual(pidsOf(await status(app)), pidsOf(before), 'the same processes');
      const output = app.stdout + app.stderr;
      assert.doesNotMatch(output, /STALLED|exited \(code|replaced/, `nobody was taken for stalled:\n${output}`);
    });
  }

  it('one of two workers SIGSTOPped: within a few seconds it gets no new connection, status says so; back in the rotation when it resumes', async () => {
    const { app, info } = await startFixture('production', ['--workers', '2', '--health-port', '0']);
    started.push(app);
    const [victim, other] = info.workers as [number, number];
    freeze([victim]);
    const frozenAt = Date.now();
    await app.waitForLine(new RegExp(`worker ${victim} \\(slot \\d\\) missed its heartbeats`), 8_000);
    assert.ok(Date.now() - frozenAt < 5_000, 'seen within a few seconds');
    const s = await status(app);
    assert.equal(s.workers.find((w) => w.pid === victim)?.responsive, false, 'status shows the frozen worker as silent');
    // Every new connection goes to the worker that answers; none hangs on the frozen one.
    const answers = await Promise.all(Array.from({ length: 30 }, () => getJson<{ pid: number }>(`${info.url}/`, { timeoutMs: 3_000 })));
    assert.deepEqual([...new Set(answers.map((a) => a.body.pid))], [other]);
    // Every slot must be ready by default (config.cluster.health.minReady: all): the frozen one is named.
    const readyz = await getJson<{ failing: string[]; readySlots: number }>(`${info.health}/readyz`);
    assert.equal(readyz.status, 503, 'by default every slot must be ready');
    assert.equal(readyz.body.readySlots, 1);
    assert.ok(
      readyz.body.failing.some((line) => line.includes(`worker ${victim}`) && line.includes('misses its heartbeats')),
      readyz.body.failing.join('; '),
    );

    thaw([victim]);
    await app.waitForLine(new RegExp(`worker ${victim} \\(slot \\d\\) answers again`), 5_000);
    await until('the resumed worker serves again', async () => (await getJson<{ pid: number }>(`${info.url}/`)).body.pid === victim, 5_000);
  });

  it('the only worker SIGSTOPped: /readyz turns 503 within a few seconds, and 200 again once it resumes', async () => {
    const { app, info } = await startFixture('production', ['--workers', '1', '--health-port', '0']);
    started.push(app);
    assert.equal((await getJson(`${info.health}/readyz`)).status, 200);
    freeze(info.workers);
    const frozenAt = Date.now();
    await until('readyz 503', async () => (await getJson(`${info.health}/readyz`)).status === 503, 8_000);
    assert.ok(Date.now() - frozenAt < 5_000, `readyz followed within ${Date.now() - frozenAt}ms`);
    thaw(info.workers);
    await until('readyz 200', async () => (await getJson(`${info.health}/readyz`)).status === 200, 5_000);
    assert.equal((await getJson(`${info.url}/`)).status, 200);
  });
});
