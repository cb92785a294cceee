import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startFixture, waitGone, type AppProcess } from '../helpers/cluster.ts';
import { until } from '../helpers/freeze.ts';

interface HookLine {
  role: 'agent' | 'worker';
  pid: number;
  hook: string;
  at: number;
  processStart: number;
}

const HOOKS = ['constructor', 'configWillLoad', 'configDidLoad', 'didLoad', 'willReady', 'didReady', 'serverDidReady'];

// docs/lifecycle.md: the workers are forked while the agent boots and load their modules, but no
// hook of theirs runs before the agent's didReady.
describe('the ordered start, with the workers forked while the agent boots', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'clutch-hook-order-'));
  const log = join(dir, 'hooks.log');
  let app: AppProcess | undefined;
  after(() => {
    app?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs no worker hook before the agent’s didReady, in a worker forked before it', async () => {
    const started = await startFixture('hook-order', ['--workers', '2'], { env: { HOOK_LOG: log, AGENT_BOOT_MS: '400' } });
    app = started.app;
    const { info } = started;
    const read = (): HookLine[] =>
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const [role, pid, hook, at, processStart] = l.split(' ');
          return { role: role as HookLine['role'], pid: Number(pid), hook: hook!, at: Number(at), processStart: Number(processStart) };
        });
    // serverDidReady follows the master's cluster-ready message: wait until all three ran it.
    await until('serverDidReady in the agent and both workers', () => read().filter((l) => l.hook === 'serverDidReady').length === 3, 10_000);
    const lines = read();

    const of = (pid: number) => lines.filter((l) => l.pid === pid).map((l) => l.hook);
    assert.deepEqual(of(info.agent), HOOKS, 'the agent ran every hook once, in order');
    for (const pid of info.workers) assert.deepEqual(of(pid), HOOKS, `worker ${pid} ran every hook once, in order`);

    const agentReady = lines.findIndex((l) => l.pid === info.agent && l.hook === 'didReady');
    const firstWorkerHook = lines.findIndex((l) => l.role === 'worker');
    assert.ok(firstWorkerHook > agentReady, `the first worker hook ran after the agent's didReady:\n${readFileSync(log, 'utf8')}`);

    // The faster start: both worker processes existed while the agent was still booting.
    const readyAt = lines[agentReady]!.at;
    for (const pid of info.workers) {
      const started = lines.find((l) => l.pid === pid)!.processStart;
      assert.ok(started < readyAt, `worker ${pid} was forked (${started}) before the agent's didReady (${readyAt})`);
    }

    app.signal('SIGTERM');
    assert.deepEqual(await app.waitForExit(15_000), { code: 0, signal: null });
    await waitGone([info.pid, info.agent, ...info.workers], 5_000);
  });
});
