import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ExitCode } from '@clutch/cluster';
import { appStatus, runApp, startFixture, waitGroupGone, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { copyFixture } from '../helpers/project.ts';

/** Live processes whose title names this role and cluster title. */
function titled(role: 'agent' | 'worker', title: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z' && cmd === `clutch-${role} ${title}`) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

describe('reload races', { timeout: 120_000 }, () => {
  const started: AppProcess[] = [];
  const copies: Array<{ remove(): void }> = [];
  after(() => {
    for (const app of started) app.kill();
    for (const c of copies) c.remove();
  });

  async function slowCluster(workers: number, extra: string[] = []) {
    const project = copyFixture('reloadable');
    copies.push(project);
    const { app, info } = await startFixture(project.dir, ['--workers', String(workers), ...extra]);
    started.push(app);
    const gate = join(project.dir, 'slow-boot');
    writeFileSync(gate, '');
    /** Lets the new workers finish their boot. */
    const open = () => rmSync(gate, { force: true });
    return { project, app, info, open };
  }

  it('refuses a second reload while one runs', async () => {
    const { project, app, open } = await slowCluster(1);
    const first = runApp(['reload', project.dir], 60_000);
    await app.waitForLine(/reload: replacing/, 10_000);
    // The first reload's new worker is held in its boot until the second has been refused.
    const second = await runApp(['reload', project.dir], 10_000);
    open();
    assert.equal(second.code, ExitCode.RELOAD_FAILED);
    assert.match(second.stderr, /CLUTCH_ERR_CLUSTER_RELOAD_REFUSED/);
    assert.equal((await first).code, 0);
  });

  it('a stop during a reload ends the reload and stops everything, promptly', async () => {
    const { project, app, open } = await slowCluster(2);
    const reload = runApp(['reload', project.dir], 60_000);
    await app.waitForLine(/reload: replacing/, 10_000);
    const began = Date.now();
    app.signal('SIGTERM');
    open();
    const exit = await app.waitForExit(15_000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - began < 6_000, `stopped in ${Date.now() - began}ms`);
    assert.ok(!app.stderr.includes('SIGKILL'), 'no process needed SIGKILL');
    const done = await reload;
    assert.notEqual(done.code, 0, 'the reload reports it did not finish');
    assert.doesNotMatch(done.stderr, /keep serving/, 'and does not claim that anything still serves');
    await waitGroupGone(app.pid, 5_000);
  });

  it('a worker that crashes during a reload is replaced once: the cluster keeps its size', async () => {
    const { project, app, open } = await slowCluster(3);
    const before = await appStatus(project.dir);
    const reload = runApp(['reload', project.dir], 60_000);
    await app.waitForLine(/reload: replacing/, 10_000);
    process.kill(before.workers.at(-1)!.pid, 'SIGKILL');
    open();
    const done = await reload;
    assert.equal(done.code, 0, done.stderr);
    const after = await appStatus(project.dir);
    assert.equal(after.workers.length, 3);
    assert.ok(
      after.workers.every((w) => !before.workers.some((b) => b.pid === w.pid)),
      'all old workers gone',
    );
    assert.equal(titled('worker', 'reloadable').filter((pid) => after.workers.some((w) => w.pid === pid)).length, 3);
  });

  it('a new agent that hangs at boot fails the reload in time; the agent heals once fixed; never two agents', async () => {
    const project = copyFixture('reloadable');
    copies.push(project);
    const title = `hang-${process.pid}`;
    const { app, info } = await startFixture(project.dir, ['--workers', '1', '--timeout', '2000', '--title', title]);
    started.push(app);
    writeFileSync(join(project.dir, 'hang-agent'), '');
    const began = Date.now();
    const reload = await runApp(['reload', project.dir, '--title', title], 30_000);
    assert.equal(reload.code, ExitCode.RELOAD_FAILED);
    assert.match(reload.stderr, /CLUTCH_ERR_CLUSTER_RELOAD_FAILED.*new agent.*not ready within 2000ms/);
    assert.ok(Date.now() - began < 8_000, 'bounded by the start timeout');
    assert.equal((await getJson(`${info.url}/`)).status, 200, 'the workers keep serving');
    assert.ok(titled('agent', title).length <= 1);
    rmSync(join(project.dir, 'hang-agent'));
    // Supervision retries the agent (each hung attempt is killed at the start timeout) until it boots.
    let agentReady = false;
    for (let i = 0; i < 100 && !agentReady; i++) {
      const answer = await getJson<{ version?: string }>(`${info.url}/agent-version`);
      agentReady = answer.status === 200 && answer.body.version === 'v1';
      assert.ok(titled('agent', title).length <= 1, 'never two agents');
      if (!agentReady) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(agentReady, 'the agent came back');
    assert.equal(titled('agent', title).length, 1);
  });
});
