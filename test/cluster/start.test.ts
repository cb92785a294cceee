import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { startFixture, waitGone, type AppProcess } from '../helpers/cluster.ts';
import { fromEveryWorker, getJson } from '../helpers/http.ts';

describe('app start: ordered start, two workers, env config', { timeout: 60_000 }, () => {
  let app: AppProcess;
  let info: ClusterReadyInfo;

  before(async () => {
    ({ app, info } = await startFixture('basic', ['--workers', '2', '--env', 'unittest']));
  });
  after(() => app?.kill());

  it('sends cluster-ready with the real port and prints the started line', async () => {
    assert.equal(info.pid, app.pid);
    assert.ok(info.port! > 0, 'a free port was taken for --port 0');
    assert.equal(info.url, `http://127.0.0.1:${info.port}`);
    assert.equal(info.workers.length, 2);
    assert.ok(info.agent > 0);
    const line = await app.waitForLine(/started on (http:\/\/\S+|unix:\S+)/, 1000);
    assert.match(line, new RegExp(`started on http://127\\.0\\.0\\.1:${info.port}\\b`));
    assert.match(line, /\[master:\d+\]/, 'every line shows the role and the pid');
  });

  it('boots no worker before the agent is ready (they are forked while it boots: test/cluster/hook-order.test.ts)', () => {
    const lines = app.stdout.split('\n');
    const agentReady = lines.findIndex((l) => l.startsWith('EVENT ready agent'));
    const workerBoots = lines.flatMap((l, i) => (l.startsWith('EVENT boot worker') ? [i] : []));
    assert.ok(agentReady >= 0, 'the agent reported ready');
    assert.equal(workerBoots.length, 2, 'both workers booted once');
    assert.ok(
      workerBoots.every((i) => i > agentReady),
      'every worker booted after the agent was ready',
    );
  });

  it("hands V8's compile cache (Node >= 22.1) to the agent and every worker; on Node 20 there is none", () => {
    // What `app` turns on (packages/cli/bin/app.js): the directory Node picked, unless one was set.
    const expected =
      process.env.NODE_COMPILE_CACHE ??
      (typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function' ? join(tmpdir(), 'node-compile-cache') : undefined);
    const cacheOf = (pid: number) =>
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .find((v) => v.startsWith('NODE_COMPILE_CACHE='))
        ?.slice('NODE_COMPILE_CACHE='.length);
    for (const pid of [info.agent, ...info.workers]) assert.equal(cacheOf(pid), expected, `process ${pid}`);
  });

  // On Node >= 22 an ESM import of node:http builds its ESM facade, which reads the lazy WebSocket
  // and EventSource exports and so loads undici: ~30 ms of every worker's start, for nothing. The
  // framework loads node:http (and @koa/router, which imports it) as CommonJS (docs/performance.md).
  it('a worker has not loaded undici after its start (nothing built node:http’s ESM facade)', async () => {
    const loaded = await getJson<string[]>(`${info.url}/internals`);
    assert.ok(loaded.body.includes('NativeModule http'), 'the list is the real one: node:http is in it');
    assert.deepEqual(
      loaded.body.filter((m) => m.includes('undici')),
      [],
    );
  });

  it('serves from both workers', async () => {
    const answers = await fromEveryWorker<{ pid: number }>(`${info.url}/`, info.workers);
    assert.deepEqual([...answers.keys()].sort(), [...info.workers].sort());
  });

  it('applies config.unittest over config.default (deep merge, arrays replace, function form)', async () => {
    const { status, body } = await getJson(`${info.url}/config`);
    assert.equal(status, 200);
    assert.deepEqual(body, {
      greeting: 'unittest',
      nested: { a: 1, b: 2 },
      list: [3],
      env: 'unittest',
      name: 'basic-fixture',
      port: 7001,
    });
  });

  it('routes nested controllers (admin/user-profile.ts → admin.userProfile) with a new instance per request', async () => {
    const { status, body } = await getJson(`${info.url}/admin/users/42`);
    assert.equal(status, 200);
    assert.deepEqual(body, { id: '42', same: true, app: 'basic-fixture' });
    assert.equal((await getJson(`${info.url}/no-such-route`)).status, 404);
  });

  it('runs the boot hooks in order in every worker, serverDidReady once the cluster is ready', async () => {
    const expected = ['configWillLoad', 'configDidLoad', 'didLoad', 'willReady', 'didReady', 'serverDidReady'];
    // serverDidReady follows the master's cluster-ready message; ask again (bounded) until it has run.
    let answers = new Map<number, { pid: number; hooks: string[] }>();
    for (let i = 0; i < 20; i++) {
      answers = await fromEveryWorker(`${info.url}/hooks`, info.workers);
      if ([...answers.values()].every((a) => a.hooks.length === expected.length)) break;
    }
    for (const { hooks } of answers.values()) assert.deepEqual(hooks, expected);
  });

  it('leaves no process behind after SIGTERM', async () => {
    app.signal('SIGTERM');
    const { code } = await app.waitForExit(15_000);
    assert.equal(code, 0);
    await waitGone([info.pid, info.agent, ...info.workers], 5_000);
  });
});
