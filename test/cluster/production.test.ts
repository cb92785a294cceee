import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ClusterStatus } from '@clutch/cluster';
import { startFixture, statusOf as statusOfApp, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';

async function statusOf(app: AppProcess): Promise<ClusterStatus> {
  const s = await statusOfApp(app);
  assert.ok(s, 'the cluster answers app status');
  return s;
}

const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('production: health, drain delay, JSON logs, watchdog, memory, metrics', { timeout: 120_000 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const app of started) app.kill();
  });

  it('/readyz turns 503 at once on SIGTERM while the workers serve through the drain delay; then exit 0', async () => {
    const { app, info } = await startFixture('production', ['--workers', '2', '--health-port', '0', '--drain-delay', '1500']);
    started.push(app);
    assert.match(info.health ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(app.stdout, /started on http:\/\/127\.0\.0\.1:\d+ \(health on http:\/\/127\.0\.0\.1:\d+;/);
    assert.equal((await getJson(`${info.health}/livez`)).status, 200);
    assert.equal((await getJson(`${info.health}/readyz`)).status, 200);
    const signalled = Date.now();
    app.signal('SIGTERM');
    let notReadyAfter = -1;
    await until(
      'readyz 503',
      async () => {
        const { status } = await getJson(`${info.health}/readyz`);
        if (status === 503) notReadyAfter = Date.now() - signalled;
        return status === 503;
      },
      2_000,
    );
    assert.ok(notReadyAfter < 500, `/readyz said 503 ${notReadyAfter}ms after SIGTERM`);
    assert.equal((await getJson(`${info.health}/livez`)).status, 200, 'still alive');
    // New connections are still served during the delay.
    let served = 0;
    while (Date.now() - signalled < 1_200) {
      assert.equal((await getJson(`${info.url}/`)).status, 200);
      served++;
    }
    assert.ok(served > 5, `${served} requests served during the drain delay`);
    const exit = await app.waitForExit(15_000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - signalled >= 1_500, 'the stop waited for the drain delay');
  });

  it('--log-format json: every line of every process is one JSON object; errors carry err.stack', async () => {
    const { app, info } = await startFixture('production', ['--workers', '2', '--log-format', 'json']);
    started.push(app);
    for (let i = 0; i < 4; i++) assert.equal((await getJson(`${info.url}/log`)).status, 200);
    assert.equal((await getJson(`${info.url}/fail`)).status, 500);
    app.signal('SIGTERM');
    assert.equal((await app.waitForExit(15_000)).code, 0);
    const lines = `${app.stdout}${app.stderr}`.split('\n').filter((l) => l.trim() !== '');
    const records = lines.map((line) => {
      try {
        return JSON.parse(line) as {
          time: string;
          level: string;
          role: string;
          pid: number;
          msg: string;
          err?: { name: string; message: string; code?: string; stack: string; cause?: { message: string } };
        };
      } catch {
        assert.fail(`not JSON: ${line}`);
      }
    });
    for (const r of records) {
      assert.ok(typeof r.time === 'string' && !Number.isNaN(Date.parse(r.time)), `time in ${JSON.stringify(r)}`);
      assert.ok(['debug', 'info', 'warn', 'error'].includes(r.level) && typeof r.msg === 'string' && Number.isInteger(r.pid), JSON.stringify(r));
    }
    assert.deepEqual([...new Set(records.map((r) => r.role))].sort(), ['agent', 'master', 'worker']);
    const failure = records.find((r) => r.err?.message === 'a logged failure');
    assert.ok(failure && /at .*router\.js/.test(failure.err!.stack), 'the error line carries the stack');
    // A request's error: the sentence in msg, the error whole in err (its code, stack and cause), never a stack inside msg.
    const request = records.find((r) => r.err?.message === 'the route failed');
    assert.ok(request, `a record for the failed request: ${lines.filter((l) => l.includes('fail')).join('\n')}`);
    assert.equal(request.level, 'error');
    assert.match(request.msg, /GET \/fail → 500: the route failed$/);
    assert.deepEqual(
      { name: request.err!.name, code: request.err!.code, cause: request.err!.cause?.message },
      { name: 'Error', code: 'FIXTURE_FAILED', cause: 'the cause below' },
    );
    assert.match(request.err!.stack, /^Error: the route failed\n\s+at .*router\.js/);
    assert.ok(!records.some((r) => /\n\s+at /.test(r.msg)), 'no stack inside any msg');
    assert.ok(
      records.some((r) => r.msg === 'printed with console.log' && r.role === 'worker'),
      "the project's console.log became JSON",
    );
    assert.ok(records.some((r) => r.role === 'master' && /started on/.test(r.msg)));
  });

  it('a worker busy in 5 ms slices for 3 s (past the stall timeout) is left alone; one blocked in a loop is replaced, with the code logged; so is the agent', async () => {
    const { app, info } = await startFixture('production', ['--workers', '2', '--stall-timeout', '2000']);
    started.push(app);
    const { body: sliced } = await getJson<{ pid: number }>(`${info.url}/slices?total=3000&slice=5`, { timeoutMs: 15_000 });
    assert.ok(!app.stderr.includes('STALLED'), 'a turning loop is no stall');
    assert.ok((await statusOf(app)).workers.some((w) => w.pid === sliced.pid));

    const blocked = getJson(`${info.url}/busy?ms=60000`, { timeoutMs: 30_000 }).catch(() => null);
    const began = Date.now();
    const line = await app.waitForLine(/CLUTCH_ERR_CLUSTER_WORKER_STALLED\] worker (\d+) .*no heartbeat for (\d+)ms/, 10_000);
    const [, stalled, silent] = /worker (\d+) .*for (\d+)ms/.exec(line)!;
    assert.ok(Number(silent) >= 2_000);
    assert.ok(Date.now() - began < 2_000 + 4_000, 'within the stall timeout and a few seconds');
    await until(
      'the stalled worker replaced',
      async () => {
        const s = await statusOf(app);
        return s.workers.length === 2 && !s.workers.some((w) => w.pid === Number(stalled)) && s.workers.every((w) => w.state === 'ready');
      },
      10_000,
    );
    const s = await statusOf(app);
    assert.ok(s.workers.some((w) => w.lastRestart?.reason === 'stalled' && w.restarts === 1));
    assert.equal(await blocked, null, 'the request the stalled worker held died with it');
    for (let i = 0; i < 6; i++) assert.equal((await getJson(`${info.url}/`)).status, 200);

    assert.equal((await getJson(`${info.url}/agent-busy?ms=60000`)).status, 200);
    await app.waitForLine(/CLUTCH_ERR_CLUSTER_AGENT_STALLED\] the agent \d+/, 10_000);
    await until(
      'a new agent',
      async () => {
        const st = await statusOf(app);
        return st.agent !== null && st.agent.pid !== info.agent && st.agent.state === 'ready';
      },
      15_000,
    );
    assert.equal((await statusOf(app)).agent!.lastRestart?.reason, 'stalled');
  });

  // A worker leaking under 10 s of load, recycled, is a soak test (test/soak/memory-leak.soak.ts).
  it('/metrics: a prom-client counter incremented 60 times across 2 workers reads 60; clutch_* series carry every pid', async () => {
    const { app, info } = await startFixture('production', ['--workers', '2', '--health-port', '0']);
    started.push(app);
    for (let i = 0; i < 60; i++) await getJson(`${info.url}/count`);
    const { status, body, headers } = await getJson<string>(`${info.health}/metrics`);
    assert.equal(status, 200);
    assert.match(String(headers['content-type']), /text\/plain; version=0\.0\.4/);
    assert.match(body, /^fixture_hits_total\{route="count"\} 60$/m);
    for (const pid of info.workers) {
      assert.match(body, new RegExp(`^fixture_worker_pid\\{pid="${pid}"\\} ${pid}$`, 'm'), 'a gauge stays per worker');
      assert.match(body, new RegExp(`^clutch_process_cpu_seconds_total\\{role="worker",pid="${pid}",slot="\\d"\\} [\\d.e-]+$`, 'm'));
    }
    assert.match(body, new RegExp(`^clutch_process_resident_memory_bytes\\{role="agent",pid="${info.agent}",slot=""\\} \\d+$`, 'm'));
    assert.match(body, new RegExp(`^clutch_process_event_loop_delay_seconds\\{role="master",pid="${info.pid}",slot="",stat="p99"\\} [\\d.e-]+$`, 'm'));
    const ok = Number(/^clutch_http_requests_total\{status_class="2xx"\} (\d+)$/m.exec(body)?.[1]);
    assert.ok(ok >= 60, `2xx: ${ok}`);
    assert.match(body, /^clutch_http_request_duration_seconds_bucket\{le="\+Inf"\} \d+$/m);
    const s = await statusOf(app);
    for (const p of [s.master, s.agent!, ...s.workers]) {
      assert.ok(typeof p.cpu === 'number' && p.loopDelay !== null && typeof p.heapUsed === 'number', JSON.stringify(p));
      assert.ok('lastRestart' in p);
    }
    assert.equal(s.master.health, info.health);

    // A worker killed from outside: what it served stays in the counter, which never goes back.
    process.kill(info.workers[0]!, 'SIGKILL');
    await until(
      'a replacement worker',
      async () => {
        const st = await statusOf(app);
        return st.workers.length === 2 && !st.workers.some((w) => w.pid === info.workers[0]) && st.workers.every((w) => w.state === 'ready');
      },
      10_000,
    );
    const later = (await getJson<string>(`${info.health}/metrics`)).body;
    const okLater = Number(/^clutch_http_requests_total\{status_class="2xx"\} (\d+)$/m.exec(later)?.[1]);
    assert.ok(okLater >= ok, `2xx went from ${ok} to ${okLater} when a worker died`);
  });
});
