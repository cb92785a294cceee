/** Soak: a frozen master or a frozen host is not a stall (test/run-soak.js): each waits out fixed freezes past --stall-timeout. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ClusterStatus } from '@clutch/cluster';
import { groupMembers, liveStatus, startFixture, type AppProcess } from '../helpers/cluster.ts';
import { Freezer } from '../helpers/freeze.ts';
import { getJson } from '../helpers/http.ts';

const pidsOf = (s: ClusterStatus) => [s.master.pid, s.agent!.pid, ...s.workers.map((w) => w.pid)].sort();

/** Resolves after `ms` of the test's own clock: the frozen processes cannot be waited on for an event. */
const frozenFor = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a frozen host is not a stall', { timeout: 120_000 }, () => {
  const started: AppProcess[] = [];
  const freezer = new Freezer();
  after(() => {
    freezer.release();
    for (const app of started) app.kill();
  });

  const freeze = (pids: number[]) => freezer.freeze(pids);
  const thaw = (pids: number[]) => freezer.thaw(pids);

  for (const what of ['the master alone', 'the whole tree (a paused container)'] as const) {
    it(`${what} SIGSTOPped past --stall-timeout: on resume no process is replaced and every request is served`, async () => {
      const { app, info } = await startFixture('production', ['--workers', '2', '--stall-timeout', '3000']);
      started.push(app);
      const before = await liveStatus(app);
      const frozen = what === 'the master alone' ? [info.pid] : groupMembers(info.pid);
      assert.ok(frozen.length >= (what === 'the master alone' ? 1 : 4), `the group holds the tree: ${frozen.join(', ')}`);
      freeze(frozen);
      await frozenFor(5_000);
      thaw(frozen);
      // Beyond the stall timeout and two heartbeats after the resume: a verdict would have come.
      await frozenFor(3_000 + 1_500);
      for (let i = 0; i < 20; i++) assert.equal((await getJson(`${info.url}/`)).status, 200);
      assert.deepEqual(pidsOf(await liveStatus(app)), pidsOf(before), 'the same processes');
      const output = app.stdout + app.stderr;
      assert.doesNotMatch(output, /STALLED|exited \(code|replaced/, `nobody was taken for stalled:\n${output}`);
    });
  }
});
