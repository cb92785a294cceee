import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { startLoad } from '../helpers/load.ts';
import { closeWaitOf, descendantsOf } from '../helpers/proc.ts';

/** The workers of a cluster: the master's children but the agent. */
const workersOf = (master: number, agent: number) => descendantsOf(master).filter((pid) => pid !== agent);

/** One Connection: close GET; resolves with its status or error code and how long it took. */
function probe(url: string): Promise<{ outcome: string; ms: number }> {
  const began = Date.now();
  return new Promise((resolve) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ outcome: String(res.statusCode), ms: Date.now() - began }));
    });
    req.setTimeout(15_000, () => req.destroy(Object.assign(new Error('hung'), { code: 'HUNG' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ outcome: err.code ?? err.message, ms: Date.now() - began }));
    req.end();
  });
}

/** GET / over a unix socket; resolves with the status. */
function getOverSocket(socketPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

// Each test has a cluster of its own and mostly waits (backoffs, drains): three at a time.
describe('the port never closes and no connection is stranded', { timeout: 90_000, concurrency: 3 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const app of started) app.kill();
  });

  // Every worker SIGKILLed every 3 s for 20 s under load is a soak test (test/soak/port-kills.soak.ts).
  it('every worker in a crash loop (exit 1 soon after it serves), slots in backoff: connections wait, none is refused', async () => {
    const { app, info } = await startFixture('faults', ['--workers', '2'], { env: { EXIT_AFTER_MS: '400' } });
    started.push(app);
    const load = startLoad(`${info.url}/`, { connections: 8, allClose: true, durationMs: 15_000, paceMs: 5 });
    await app.waitForLine(/CLUTCH_ERR_CLUSTER_CRASH_LOOP/, 12_000);
    // The slots are in backoff now: the load goes on until 30 more requests waited and were served (10 s at most).
    const okInLoop = load.result.ok;
    const until = Date.now() + 10_000;
    while (load.result.ok < okInLoop + 30 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    load.stop();
    const result = await load.done;
    assert.ok(result.ok > 0, 'served between the crashes');
    assert.equal(result.failures.ECONNREFUSED ?? 0, 0, `no connection was refused: ${JSON.stringify(result.failures)}`);
    const reasons = Object.keys(result.failures).filter((r) => !['ECONNRESET', 'socket hang up', 'TIMEOUT'].includes(r));
    assert.deepEqual(reasons, [], 'requests fail only with their worker (reset) or by waiting for one');
  });

  it('a worker drained by a SIGTERM from someone else leaves the rotation first: no request fails, and it is replaced', async () => {
    const { app, info } = await startFixture('faults', ['--workers', '2']);
    started.push(app);
    const load = startLoad(`${info.url}/`, { connections: 8, allClose: true, durationMs: 6_000, paceMs: 5 });
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 1_200));
      const [victim] = workersOf(info.pid, info.agent);
      if (victim) process.kill(victim, 'SIGTERM');
    }
    const result = await load.done;
    assert.deepEqual(result.failures, {}, 'no request failed');
    assert.ok(!app.stderr.includes('CLUTCH_ERR_CLUSTER_CRASH_LOOP'), 'a SIGTERM from outside is no crash');
  });

  it('a unix socket left by a master killed with SIGKILL does not block the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clutch-sock-'));
    const path = join(dir, 'http.sock');
    try {
      const first = await startFixture('faults', ['--workers', '1'], { env: { SOCKET_PATH: path }, noPort: true });
      started.push(first.app);
      assert.equal(first.info.url, `unix:${path}`);
      first.app.kill();
      await first.app.exited;
      assert.ok(existsSync(path), 'the socket file is left behind');
      const second = await startFixture('faults', ['--workers', '1'], { env: { SOCKET_PATH: path }, noPort: true });
      started.push(second.app);
      assert.equal(await getOverSocket(path), 200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('connections handed to a stopped worker reach another worker once it is killed, or close at once', async () => {
    const { app, info } = await startFixture('faults', ['--workers', '2']);
    started.push(app);
    const [stopped] = workersOf(info.pid, info.agent) as [number, number];
    process.kill(stopped, 'SIGSTOP');
    try {
      // Round-robin hands about half of these to the stopped worker: one reaches its channel, the
      // rest wait in the master, which then passes that worker over.
      const probes = Array.from({ length: 12 }, () => probe(`${info.url}/`));
      await new Promise((r) => setTimeout(r, 500));
      process.kill(stopped, 'SIGKILL');
      const outcomes = await Promise.all(probes);
      const counts: Record<string, number> = {};
      for (const o of outcomes) counts[o.outcome] = (counts[o.outcome] ?? 0) + 1;
      assert.equal(counts.HUNG ?? 0, 0, `none hung: ${JSON.stringify(counts)}`);
      assert.ok((counts['200'] ?? 0) >= 10, `all but the one in the dead worker's channel were served: ${JSON.stringify(counts)}`);
      assert.ok(Math.max(...outcomes.map((o) => o.ms)) < 5_000, 'every request settled within seconds of the kill');
      assert.equal((await getJson(`${info.url}/`)).status, 200);
    } finally {
      try {
        process.kill(stopped, 'SIGCONT');
      } catch {
        // Killed.
      }
    }
    const deadline = Date.now() + 2_000;
    while (closeWaitOf(info.pid) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(closeWaitOf(info.pid), 0, 'the master holds no connection in CLOSE-WAIT');
  });
});
