/** Soak: the listening port under 20 s of load while every worker is SIGKILLed every 3 s (test/run-soak.js). */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { startLoad } from '../helpers/load.ts';
import { closeWaitOf, descendantsOf } from '../helpers/proc.ts';

/** The workers of a cluster: the master's children but the agent. */
const workersOf = (master: number, agent: number) => descendantsOf(master).filter((pid) => pid !== agent);

describe('the port never closes while workers die', { timeout: 90_000 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const app of started) app.kill();
  });

  it('every worker SIGKILLed every 3 s under 8 Connection: close loops for 20 s: no refused connection, none hanging, no CLOSE-WAIT left', async () => {
    const { app, info } = await startFixture('faults', ['--workers', '2']);
    started.push(app);
    const load = startLoad(`${info.url}/`, { connections: 8, allClose: true, durationMs: 20_000 });
    let kills = 0;
    let rounds = 0;
    const killer = setInterval(() => {
      rounds++;
      for (const pid of workersOf(info.pid, info.agent)) {
        try {
          process.kill(pid, 'SIGKILL');
          kills++;
        } catch {
          // Already gone.
        }
      }
    }, 3_000);
    const result = await load.done;
    clearInterval(killer);

    assert.ok(kills >= 10, `${kills} workers were killed`);
    assert.ok(result.ok > 1_000, `${result.ok} requests were served`);
    assert.equal(result.failures.ECONNREFUSED ?? 0, 0, `no connection was refused: ${JSON.stringify(result.failures)}`);
    assert.equal(result.failures.TIMEOUT ?? 0, 0, 'no request timed out');
    assert.equal(result.over5s, 0, `no request took over 5 s (slowest ${result.maxMs} ms)`);
    // Only requests in flight on a killed worker may fail: at most one per loop and round of kills.
    assert.ok(result.failed <= 8 * rounds, `${result.failed} failed for ${rounds} rounds of kills: ${JSON.stringify(result.failures)}`);
    // The master closed its copy of every connection it handed over.
    const deadline = Date.now() + 2_000;
    while (closeWaitOf(info.pid) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(closeWaitOf(info.pid), 0, 'the master holds no connection in CLOSE-WAIT');
    assert.equal((await getJson(`${info.url}/`)).status, 200);
  });
});
