import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startFixture, statusOf, type AppProcess } from '../helpers/cluster.ts';
import { until } from '../helpers/freeze.ts';
import { fromEveryWorker, getJson } from '../helpers/http.ts';

interface Seen {
  status: number;
  retryAfter: string | undefined;
  pid: number | undefined;
}

/** Connection: close requests from 4 clients until `until` settles; every answer and every failure kept. */
async function loadUntil(url: string, until: Promise<unknown>): Promise<{ seen: Seen[]; failed: string[] }> {
  let done = false;
  void until.finally(() => (done = true));
  const seen: Seen[] = [];
  const failed: string[] = [];
  const client = async () => {
    while (!done) {
      try {
        const res = await getJson<{ pid?: number }>(url, { timeoutMs: 10_000 });
        const retryAfter = res.headers['retry-after'];
        seen.push({ status: res.status, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, pid: res.body.pid });
      } catch (err) {
        failed.push((err as Error).message);
      }
    }
  };
  await Promise.all([client(), client(), client(), client()]);
  return { seen, failed };
}

describe('load shedding (config.cluster.overload)', { timeout: 60_000 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const app of started) app.kill();
  });

  it('a worker whose loop is blocked answers 503 with Retry-After while the other serves 200; back to 200 after; status, /metrics and one log line per episode say so', async () => {
    const { app, info } = await startFixture('overload', ['--workers', '2', '--health-port', '0']);
    started.push(app);
    const busy = getJson<{ pid: number }>(`${info.url}/busy?ms=3000`, { timeoutMs: 15_000 });
    let sheddingPid: number | null = null;
    const watch = (async () => {
      while (sheddingPid === null) {
        const s = await statusOf(app);
        sheddingPid = s?.workers.find((w) => w.shed?.active)?.pid ?? null;
      }
    })();
    const { seen, failed } = await loadUntil(`${info.url}/`, busy);
    await Promise.race([watch, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    const busyPid = (await busy).body.pid;

    assert.deepEqual(failed, [], 'no request failed');
    const refused = seen.filter((s) => s.status === 503);
    assert.ok(refused.length > 0, `some requests got 503 (${seen.length} in all)`);
    assert.ok(
      refused.every((s) => s.retryAfter === '3'),
      'each 503 says Retry-After: 3',
    );
    assert.ok(
      seen.some((s) => s.status === 200 && s.pid !== busyPid),
      'the other worker answered 200 meanwhile',
    );
    assert.ok(
      seen.every((s) => s.status === 200 || s.status === 503),
      'nothing but 200 and 503',
    );
    assert.equal(sheddingPid, busyPid, 'app status named the blocked worker as shedding');

    // Back under its limit for half a second, the worker serves again: status says so first.
    for (let i = 0; i < 100 && (await statusOf(app))!.workers.some((w) => w.shed?.active); i++);
    const both = await fromEveryWorker<{ pid: number }>(`${info.url}/`, info.workers);
    assert.equal(both.size, 2, 'both workers serve 200 again');
    // The count travels with the worker's heartbeats: the 503s of the last burst may come one beat later.
    const slotOf = async () => (await statusOf(app))!.workers.find((w) => w.pid === busyPid)!;
    await until('every 503 counted in app status', async () => (await slotOf()).shed?.total === refused.length, 3_000).catch(() => {});
    const slot = await slotOf();
    assert.deepEqual(slot.shed, { active: false, total: refused.length }, 'status: no longer shedding, every 503 counted');
    const metrics = (await getJson<string>(`${info.health}/metrics`)).body;
    assert.match(metrics, new RegExp(`^clutch_shed_total\\{slot="${slot.slot}"\\} ${refused.length}$`, 'm'));
    assert.match(metrics, new RegExp(`^clutch_shedding\\{slot="${slot.slot}"\\} 0$`, 'm'));
    const log = app.stdout + app.stderr;
    assert.equal(log.match(/overloaded \(event-loop delay \d+ms > 200ms\): new requests get 503/g)?.length, 1, 'one line when the episode began');
    assert.equal(log.match(/serving again after \d+ms overloaded/g)?.length, 1, 'one line when it ended');
  });

  it('with shedding off, the same blocked worker gives no 503: its requests wait', async () => {
    const { app, info } = await startFixture('overload', ['--workers', '2'], { env: { NO_SHED: '1' } });
    started.push(app);
    const busy = getJson<{ pid: number }>(`${info.url}/busy?ms=3000`, { timeoutMs: 15_000 });
    const { seen, failed } = await loadUntil(`${info.url}/`, busy);
    await busy;
    assert.deepEqual(failed, []);
    assert.ok(seen.length > 0);
    assert.deepEqual(
      seen.filter((s) => s.status !== 200),
      [],
      'every request got 200',
    );
    assert.equal((await statusOf(app))!.workers[0]!.shed, null, 'no shedding state without the config');
  });
});
