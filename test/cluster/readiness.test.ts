import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startFixture, type AppProcess } from '../helpers/cluster.ts';
import { Freezer } from '../helpers/freeze.ts';
import { getJson } from '../helpers/http.ts';
import { copyFixture } from '../helpers/project.ts';

interface Report {
  ready: boolean;
  failing: string[];
  minReady: number;
  readySlots: number;
  agent: { pid: number; checks: Record<string, { ok: boolean | null; error: string | null }> } | null;
  workers: Array<{ slot: number; pid: number; ready: boolean; checks: Record<string, { ok: boolean | null; error: string | null }> }>;
}

async function readyz(health: string, until: (status: number, report: Report) => boolean, timeoutMs = 8_000): Promise<Report> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await getJson<Report>(`${health}/readyz`);
    if (until(status, body)) return body;
    if (Date.now() > deadline) throw new Error(`/readyz stayed ${status}: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('readiness checks (app.health.check)', { timeout: 90_000 }, () => {
  const started: AppProcess[] = [];
  const freezer = new Freezer();
  const copies: Array<{ remove(): void }> = [];
  after(() => {
    freezer.release();
    for (const app of started) app.kill();
    for (const c of copies) c.remove();
  });

  it('a failing check turns /readyz 503 naming it while /livez stays 200 and HTTP serves; a hung one times out; recovery turns it back', async () => {
    const project = copyFixture('readiness');
    copies.push(project);
    const { app, info } = await startFixture(project.dir, ['--workers', '2', '--health-port', '0']);
    started.push(app);
    const health = info.health!;
    const fine = await readyz(health, (status) => status === 200);
    assert.deepEqual(Object.keys(fine.agent!.checks), ['store']);
    assert.deepEqual(
      fine.workers.map((w) => [w.ready, w.checks.cache?.ok]),
      [
        [true, true],
        [true, true],
      ],
    );

    writeFileSync(join(project.dir, 'store-down'), '');
    const down = await readyz(health, (status) => status === 503);
    assert.ok(
      down.failing.some((line) => /check "store" \(agent \d+\) failed: the store is down/.test(line)),
      down.failing.join('; '),
    );
    assert.equal((await getJson(`${health}/livez`)).status, 200, '/livez never depends on a check');
    assert.equal((await getJson(`${info.url}/`)).status, 200, 'HTTP keeps serving');
    rmSync(join(project.dir, 'store-down'));
    await readyz(health, (status) => status === 200);

    writeFileSync(join(project.dir, 'cache-slow'), '');
    const slow = await readyz(health, (status, r) => status === 503 && r.workers.every((w) => !w.ready));
    assert.ok(
      slow.failing.some((line) => /check "cache" \(worker \d+, slot \d\) failed: timed out after 300ms/.test(line)),
      slow.failing.join('; '),
    );
    rmSync(join(project.dir, 'cache-slow'));
    writeFileSync(join(project.dir, 'cache-down'), '');
    const falsy = await readyz(health, (status, r) => status === 503 && r.failing.some((l) => l.includes('returned false')));
    assert.equal(falsy.readySlots, 0);
    rmSync(join(project.dir, 'cache-down'));
    await readyz(health, (status) => status === 200);
    assert.match(app.stdout + app.stderr, /readiness check "store" fails: the store is down/);
    assert.match(app.stdout + app.stderr, /readiness check "store" passes again/);
  });

  it('minReady: 1 keeps /readyz 200 with one of two workers SIGSTOPped, the frozen one still reported', async () => {
    const { app, info } = await startFixture('readiness', ['--workers', '2', '--health-port', '0'], { env: { MIN_READY: '1' } });
    started.push(app);
    const health = info.health!;
    await readyz(health, (status) => status === 200);
    const [victim] = info.workers as [number];
    freezer.freeze([victim]);
    await app.waitForLine(new RegExp(`worker ${victim} \\(slot \\d\\) missed its heartbeats`), 8_000);
    const one = await readyz(health, (status, r) => status === 200 && r.readySlots === 1);
    assert.equal(one.minReady, 1);
    assert.ok(
      one.failing.some((line) => line.includes(`worker ${victim}`)),
      'the frozen worker is still reported',
    );
    freezer.thaw([victim]);
    await readyz(health, (status, r) => status === 200 && r.readySlots === 2);
  });
});
