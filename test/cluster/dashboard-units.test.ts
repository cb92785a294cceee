/** The dashboard's history, without processes: figures the test makes up, points the test takes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterStatus } from '@clutch/cluster';
import { Dashboard, POINTS, quantileMs, type WorkerFigures } from '../../packages/cluster/src/dashboard.ts';
import { DURATION_BUCKETS, type HttpCounts } from '../../packages/cluster/src/http-stats.ts';

/** Counts with `n` responses in the bucket up to `le` seconds, and `errors` 5xx among them. */
function counts(n: number, le: number, errors = 0): HttpCounts {
  const buckets = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  buckets[DURATION_BUCKETS.indexOf(le as (typeof DURATION_BUCKETS)[number])] = n;
  return { classes: [0, n - errors, 0, 0, errors], buckets, sum: 0 };
}

function dashboard(workers: () => WorkerFigures[]): Dashboard {
  const d = new Dashboard({
    status: async () => ({}) as ClusterStatus,
    workers,
    readiness: () => ({ ready: true, failing: [], minReady: 1, readySlots: 1, agent: null, workers: [] }),
    reloads: () => ({ count: 0, lastAt: null }),
  });
  d.stop();
  return d;
}

describe('the dashboard history (docs/operations.md, "The dashboard")', () => {
  it('percentiles within the histogram buckets, as histogram_quantile estimates them', () => {
    const b = counts(100, 0.01).buckets;
    // All 100 between 5 ms and 10 ms: the median halfway.
    assert.equal(quantileMs(b, 0.5), 7.5);
    assert.equal(quantileMs(b, 0.99), 9.95);
    assert.equal(quantileMs(new Array<number>(12).fill(0), 0.5), null);
    const slowTail = b.slice();
    slowTail[DURATION_BUCKETS.length] = 100; // half of them slower than the last bound
    assert.equal(quantileMs(slowTail, 0.99), DURATION_BUCKETS.at(-1)! * 1000);
  });

  it('rates from the difference of two points; a new pid in a slot counts from zero; a slot scaled away drops out', async () => {
    let figures: WorkerFigures[] = [{ slot: 0, pid: 10, http: counts(0, 0.01), rss: 1, cpu: 0 }];
    const d = dashboard(() => figures);
    // The constructor took the first point: the rates count from its time, not from a clock read later.
    const t0 = (await d.data()).times[0]!;
    const near = (actual: number | null | undefined, expected: number) => assert.ok(Math.abs((actual ?? NaN) - expected) < 0.5, `${actual} ≈ ${expected}`);
    figures = [{ slot: 0, pid: 10, http: counts(200, 0.01, 20), rss: 2, cpu: 5 }];
    d.sample(t0 + 2_000);
    let h = (await d.data()).history['0']!;
    near(h.rps.at(-1), 100);
    near(h.errors.at(-1), 10);
    assert.ok(h.p50.at(-1)! > 5 && h.p50.at(-1)! < 10);
    // The worker was replaced: its successor's 50 responses are 50, not 50 - 200.
    figures = [{ slot: 0, pid: 11, http: counts(50, 0.01), rss: 3, cpu: 1 }];
    d.sample(t0 + 4_000);
    h = (await d.data()).history['0']!;
    near(h.rps.at(-1), 25);
    // Scaled to two, then back to one: slot 1 appears padded, then stays until its points leave the window.
    figures = [...figures, { slot: 1, pid: 12, http: counts(0, 0.01), rss: 4, cpu: 0 }];
    d.sample(t0 + 6_000);
    assert.equal((await d.data()).history['1']!.rss.length, (await d.data()).times.length);
    figures = figures.slice(0, 1);
    for (let i = 0; i < POINTS; i++) d.sample(t0 + 8_000 + i * 2_000);
    const data = await d.data();
    assert.equal(data.times.length, POINTS);
    assert.deepEqual(Object.keys(data.history), ['0']);
  });
});
