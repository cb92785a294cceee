import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ClusterStatus } from '@clutch/cluster';
import { startFixture, statusOf, type AppProcess } from '../helpers/cluster.ts';
import { Freezer, until } from '../helpers/freeze.ts';
import { getJson } from '../helpers/http.ts';

async function status(app: AppProcess): Promise<ClusterStatus> {
  const s = await statusOf(app);
  assert.ok(s, 'the cluster answers app status');
  return s;
}

describe('a frozen host is not a stall; a frozen worker gets no new connection', { timeout: 120_000 }, () => {
  const started: AppProcess[] = [];
  const freezer = new Freezer();
  after(() => {
    freezer.release();
    for (const app of started) app.kill();
  });

  const freeze = (pids: number[]) => freezer.freeze(pids);
  const thaw = (pids: number[]) => freezer.thaw(pids);

  // The master alone, or the whole tree, frozen past --stall-timeout: soak tests (test/soak/freeze-host.soak.ts).
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
