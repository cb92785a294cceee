/** Soak: a worker leaking memory under 10 s of load is recycled with no failed request (test/run-soak.js). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { ClusterStatus } from '@clutch/cluster';
import { startFixture, statusOf as statusOfApp, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { startLoad } from '../helpers/load.ts';
import { rssOf } from '../helpers/proc.ts';

/** The direct children of `pid` (the agent and the workers of a master). */
const childrenOf = (pid: number): number[] => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);

async function statusOf(app: AppProcess): Promise<ClusterStatus> {
  const s = await statusOfApp(app);
  assert.ok(s, 'the cluster answers app status');
  return s;
}

describe('--max-memory under load', { timeout: 60_000 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const app of started) app.kill();
  });

  it('a worker leaking 16 MB per request is recycled under load with no failed request, and never far past its limit', async () => {
    const { app, info } = await startFixture('production', ['--workers', '2', '--max-memory', '300MB', '--stall-timeout', '2000']);
    started.push(app);
    // The workers' RSS as the kernel has it, read every 20 ms: how far past the limit a worker got.
    let peak = 0;
    const sampler = setInterval(() => {
      for (const pid of childrenOf(info.pid)) {
        try {
          const rss = rssOf(pid);
          if (Number.isFinite(rss)) peak = Math.max(peak, rss);
        } catch {
          // Exited meanwhile.
        }
      }
    }, 20);
    const load = startLoad(`${info.url}/`, { connections: 8, durationMs: 10_000 });
    let leaks = 0;
    const leakFailures: string[] = [];
    const began = Date.now();
    while (Date.now() - began < 9_000) {
      await getJson(`${info.url}/leak?mb=16`).then(
        ({ status }) => (status === 200 ? leaks++ : leakFailures.push(String(status))),
        (err: Error) => leakFailures.push(err.message),
      );
      await new Promise((r) => setTimeout(r, 40));
    }
    const result = await load.done;
    clearInterval(sampler);
    assert.deepEqual(result.failures, {}, 'no request failed');
    assert.deepEqual(leakFailures, [], 'not even a leaking one');
    // A 16 MB leak every ~50 ms: seen within 100 ms, out of the rotation at once.
    assert.ok(peak < 1.5 * 300 * 1024 * 1024, `the peak RSS was ${(peak / 1048576).toFixed(0)} MB for a 300 MB limit`);
    const recycled = app.stdout.split('\n').filter((l) => /memory: worker \d+ replaces worker \d+/.test(l)).length;
    assert.ok(recycled >= 1, `recycled ${recycled} times over ${leaks} leaks`);
    const s = await statusOf(app);
    assert.ok(
      s.workers.some((w) => w.lastRestart?.reason === 'memory'),
      JSON.stringify(s.workers.map((w) => w.lastRestart)),
    );
    assert.ok(s.workers.every((w) => (w.rss ?? 0) < 1_000 * 1024 * 1024));
  });
});
