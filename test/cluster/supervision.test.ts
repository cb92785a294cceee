import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { isAlive, startFixture, waitGone, type AppProcess } from '../helpers/cluster.ts';
import { fromEveryWorker, getJson } from '../helpers/http.ts';

type Pids = { pid: number; pids: { agent: number | null; workers: number[] } };

/** Polls one worker's messenger.pids (bounded) until `done` holds. */
async function pidsUntil(info: ClusterReadyInfo, done: (p: Pids['pids']) => boolean, tries = 400): Promise<Pids['pids']> {
  let last: Pids['pids'] | undefined;
  for (let i = 0; i < tries; i++) {
    last = (await getJson<Pids>(`${info.url}/messages/pids`)).body.pids;
    if (done(last)) return last;
  }
  throw new Error(`pids never matched; last seen ${JSON.stringify(last)}`);
}

// Each test has a cluster and files of its own, and mostly waits (a replacement's boot, a backoff):
// three at a time.
describe('supervision', { timeout: 120_000, concurrency: 3 }, () => {
  const started: AppProcess[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'clutch-supervision-'));
  after(() => {
    for (const app of started) app.kill();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('replaces a SIGKILLed worker; survivors see the new pids; the replacement runs serverDidReady', async () => {
    const { app, info } = await startFixture('basic', ['--workers', '2']);
    started.push(app);
    const [victim, survivor] = info.workers as [number, number];
    process.kill(victim, 'SIGKILL');
    const line = await app.waitForLine(/worker (\d+) \(slot \d\) replaced a dead worker/, 10_000);
    const replacement = Number(/worker (\d+)/.exec(line)![1]);
    assert.ok(!info.workers.includes(replacement));
    const expected = [survivor, replacement].sort();
    const pids = await pidsUntil(info, (p) => [...p.workers].sort().join() === expected.join());
    assert.equal(pids.agent, info.agent);
    const answers = await fromEveryWorker<{ pid: number; hooks: string[] }>(`${info.url}/hooks`, expected);
    for (let i = 0; i < 20 && !answers.get(replacement)!.hooks.includes('serverDidReady'); i++) {
      answers.set(replacement, (await fromEveryWorker<{ pid: number; hooks: string[] }>(`${info.url}/hooks`, expected)).get(replacement)!);
    }
    assert.equal(answers.get(replacement)!.hooks.at(-1), 'serverDidReady');
  });

  it('replaces a SIGKILLed agent: HTTP keeps serving, and 100 messages sent while it is down reach the new one in order', async () => {
    const slowFile = join(tmp, 'slow-agent');
    const { app, info } = await startFixture('basic', ['--workers', '2'], { env: { SLOW_AGENT_FILE: slowFile } });
    started.push(app);
    writeFileSync(slowFile, '');
    process.kill(info.agent, 'SIGKILL');
    await pidsUntil(info, (p) => p.agent === null);
    // The agent is down (its replacement boots for 1.5 s): the workers still answer.
    assert.equal((await getJson(`${info.url}/`)).status, 200);
    const { status, body } = await getJson<{ count: number; next: number; outOfOrder: number }>(`${info.url}/messages/burst?n=100`, { timeoutMs: 20_000 });
    assert.equal(status, 200);
    assert.deepEqual(body, { count: 100, next: 100, outOfOrder: 0 });
    const pids = await pidsUntil(info, (p) => p.agent !== null);
    assert.notEqual(pids.agent, info.agent);
    assert.ok(!isAlive(info.agent), 'at most one agent: the old one is gone');
  });

  it('loses no message in flight when the agent is SIGKILLed mid-stream: the unacknowledged go to the next agent', async () => {
    const sink = join(tmp, 'sink');
    writeFileSync(sink, '');
    const { app, info } = await startFixture('basic', ['--workers', '1'], { env: { SINK_FILE: sink } });
    started.push(app);
    const n = 5_000;
    assert.equal((await getJson(`${info.url}/messages/flood?n=${n}`)).status, 200);
    // Kill the agent as soon as it has handled some of them, and before it has handled all.
    for (let i = 0; i < 2_000; i++) {
      const lines = readFileSync(sink, 'utf8').split('\n').length - 1;
      if (lines > 0) break;
      await new Promise((r) => setImmediate(r));
    }
    process.kill(info.agent, 'SIGKILL');
    const handledByOld = readFileSync(sink, 'utf8').split('\n').length - 1;
    assert.ok(handledByOld < n, `the old agent had handled ${handledByOld} of ${n} when killed`);
    assert.equal((await getJson(`${info.url}/messages/sink-done`, { timeoutMs: 20_000 })).body, true);
    const seen = readFileSync(sink, 'utf8').trim().split('\n').map(Number);
    const unique = new Set(seen);
    assert.equal(unique.size, n, 'every message was handled by one agent or the other');
    await app.waitForLine(/exited with \d+ messages unacknowledged; they go to the next agent/, 1_000);
  });

  it('backs off a crash loop, keeps serving from the healthy worker, and heals once the cause is gone', async () => {
    const crashFile = join(tmp, 'crash');
    const { app, info } = await startFixture('crashy', ['--workers', '2'], { env: { CRASH_FILE: crashFile } });
    started.push(app);
    const [victim, healthy] = info.workers as [number, number];
    writeFileSync(crashFile, '');
    const attempts = () => app.stdout.split('\n').filter((l) => l.startsWith('EVENT boot-attempt')).length;
    const before = attempts();
    const began = Date.now();
    process.kill(victim, 'SIGKILL');
    // A SIGKILL from outside is no crash: the replacement forks at once and the streak starts with
    // its own death. Then each boot attempt dies. Without backoff five boots take ~1.5 s; with it
    // the waits alone add 0.25 + 0.5 + 1 s before the fifth.
    await app.waitForLine(/CLUTCH_ERR_CLUSTER_CRASH_LOOP.*worker slot \d died 5 times/, 20_000);
    const took = Date.now() - began;
    assert.equal(attempts() - before, 5, 'five boot attempts, not dozens');
    assert.ok(took >= 1_750, `five attempts took ${took}ms: the delays grew`);
    assert.ok(!/died 6 times/.test(app.stderr), 'the SIGKILL was not counted as a crash');
    for (let i = 0; i < 10; i++) {
      const { status, body } = await getJson<{ pid: number }>(`${info.url}/`);
      assert.equal(status, 200);
      assert.equal(body.pid, healthy);
    }
    rmSync(crashFile);
    const line = await app.waitForLine(/worker (\d+) \(slot \d\) replaced a dead worker/, 15_000);
    const healed = Number(/worker (\d+)/.exec(line)![1]);
    const answers = await fromEveryWorker<{ pid: number }>(`${info.url}/`, [healthy, healed]);
    assert.equal(answers.size, 2, 'back to two workers');
  });

  it('if the master dies by SIGKILL, the agent and every worker exit within seconds', async () => {
    const { app, info } = await startFixture('basic', ['--workers', '2']);
    started.push(app);
    app.signal('SIGKILL');
    await waitGone([info.agent, ...info.workers], 6_000);
  });

  it('logs malformed IPC messages and keeps serving', async () => {
    const { app, info } = await startFixture('basic', ['--workers', '1']);
    started.push(app);
    assert.equal((await getJson(`${info.url}/messages/bad-ipc`)).status, 200);
    await app.waitForLine(/CLUTCH_ERR_IPC_MALFORMED.*ack with a bad sequence number/, 5_000);
    for (const reason of [
      'not an object',
      'unknown message type "bogus"',
      'unknown target "nowhere"',
      'send without an action',
      'reply with a bad request id',
      'reply without a target pid',
    ]) {
      assert.ok(app.stderr.includes(reason), `logged: ${reason}`);
    }
    assert.ok(isAlive(info.pid));
    assert.equal((await getJson(`${info.url}/`)).status, 200);
    const { body } = await getJson<{ count: number }>(`${info.url}/messages/burst?n=10`);
    assert.equal(body.count, 10, 'the relay still works');
  });
});
