import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, describe, it } from 'node:test';
import { ExitCode } from '@clutch/cluster';
import { runApp, startFixture, waitGroupGone, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { copyFixture } from '../helpers/project.ts';

/** The order in which the cluster's beforeClose hooks ran, from the fixture's EVENT lines. */
function closeOrder(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('EVENT beforeClose'))
    .map((l) => l.split(' ')[2]!);
}

describe('graceful stop', { timeout: 90_000 }, () => {
  const started: AppProcess[] = [];
  const copies: Array<{ remove(): void }> = [];
  after(() => {
    for (const app of started) app.kill();
    for (const c of copies) c.remove();
  });

  const ways = [
    'SIGTERM to the master',
    'SIGINT to the process group (Ctrl-C)',
    'SIGTERM to the process group (systemd, timeout)',
    'SIGQUIT to the master',
  ] as const;
  // Four clusters of their own that mostly wait (a 1.5 s request, then the drain): run side by side.
  describe('each way of stopping', { concurrency: true }, () => {
    for (const how of ways) {
      it(`${how}: a request in flight completes with 200, workers close before the agent, exit 0, nothing left`, async () => {
        const { app, info } = await startFixture('basic', ['--workers', '2']);
        started.push(app);
        const inFlight = getJson<{ waited: number }>(`${info.url}/slow?ms=1500`);
        await app.waitForLine(/^EVENT slow-start worker/, 5_000);
        const signal = how.startsWith('SIGINT') ? 'SIGINT' : how.startsWith('SIGTERM') ? 'SIGTERM' : 'SIGQUIT';
        if (how.includes('process group')) process.kill(-app.pid, signal);
        else app.signal(signal);

        const res = await inFlight;
        assert.equal(res.status, 200);
        assert.equal(res.body.waited, 1500);
        const exit = await app.waitForExit(15_000);
        assert.deepEqual(exit, { code: 0, signal: null });
        assert.deepEqual(closeOrder(app.stdout), ['worker', 'worker', 'agent']);
        await waitGroupGone(app.pid, 5_000);
      });
    }
  });

  it('closes an idle keep-alive connection at once instead of waiting out its timeout', async () => {
    // keepAliveTimeout is 60 s in this env and the kill timeout 30 s: only an active close is fast.
    const { app, info } = await startFixture('basic', ['--workers', '1', '--env', 'keepalive', '--stop-timeout', '30000']);
    started.push(app);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await getJson(`${info.url}/`, { agent })).status, 200);
      const [socket] = Object.values(agent.freeSockets).flat();
      assert.ok(socket, 'the connection is idle in the pool');
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const began = Date.now();
      app.signal('SIGTERM');
      await closed;
      const { code } = await app.waitForExit(15_000);
      assert.equal(code, 0);
      const took = Date.now() - began;
      assert.ok(took < 5_000, `stopped in ${took}ms, well under the 30 s kill timeout and 60 s keep-alive`);
      assert.ok(!app.stderr.includes('SIGKILL'), 'no process needed SIGKILL');
      await waitGroupGone(app.pid, 5_000);
    } finally {
      agent.destroy();
    }
  });

  it('a request that outlives the stop timeout is cut, and beforeClose still runs', async () => {
    const { app, info } = await startFixture('basic', ['--workers', '1', '--stop-timeout', '2000']);
    started.push(app);
    const inFlight = getJson(`${info.url}/slow?ms=30000`).then(
      () => 'answered',
      () => 'cut',
    );
    await app.waitForLine(/^EVENT slow-start worker/, 5_000);
    const began = Date.now();
    app.signal('SIGTERM');
    assert.equal(await inFlight, 'cut');
    const { code } = await app.waitForExit(10_000);
    assert.equal(code, 0);
    assert.ok(Date.now() - began < 4_000, 'the stop timeout bounded the stop');
    assert.deepEqual(closeOrder(app.stdout), ['worker', 'agent']);
    await waitGroupGone(app.pid, 5_000);
  });

  it('app stop that had to SIGKILL a worker (its loop blocked past the timeout) exits 6 naming it, not 0', async () => {
    const project = copyFixture('production');
    copies.push(project);
    const { app, info } = await startFixture(project.dir, ['--workers', '1']);
    started.push(app);
    // The worker's loop is blocked for 8 s: it cannot even hear the stop order.
    const blocked = getJson(`${info.url}/busy?ms=8000`, { timeoutMs: 15_000 }).catch(() => null);
    await new Promise((r) => setTimeout(r, 200));
    const stop = await runApp(['stop', project.dir, '--timeout', '1000'], 20_000);
    assert.equal(stop.code, ExitCode.STOP_FORCED, stop.stderr);
    assert.match(stop.stderr, new RegExp(`worker ${info.workers[0]} did not stop within the stop timeout and had to be killed`));
    assert.equal(await blocked, null, 'the blocked request was cut');
    assert.equal((await app.waitForExit(5_000)).code, 0);
  });

  it('a stop lets a 2.6 s response finish under a 4 s stop timeout (requests get all of it but a 1 s reserve, not half)', async () => {
    // A reload stops its old workers through the same Stopper and the same stop order; a stop sends
    // it at once, where a reload first waits for the new worker, so the time left is known here.
    const { app, info } = await startFixture('basic', ['--workers', '1', '--stop-timeout', '4000']);
    started.push(app);
    const slow = getJson<{ waited: number }>(`${info.url}/slow?ms=2600`, { timeoutMs: 15_000 });
    await app.waitForLine(/^EVENT slow-start worker/, 5_000);
    app.signal('SIGTERM');
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.equal(answer.body.waited, 2600);
    assert.deepEqual(await app.waitForExit(15_000), { code: 0, signal: null });
  });

  it('a large response still being sent to a slow client is not cut by the stop', async () => {
    const { app, info } = await startFixture('basic', ['--workers', '1']);
    started.push(app);
    const size = 20 * 1024 * 1024;
    const received = new Promise<number>((resolve, reject) => {
      const req = request(`${info.url}/big?mb=20`, { agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve(bytes));
        res.on('error', () => resolve(bytes));
        res.on('aborted', () => resolve(bytes));
        // A slow client: it reads a little, pauses while the stop begins, then reads the rest.
        res.pause();
        res.once('readable', () => {
          app.signal('SIGTERM');
          setTimeout(() => res.resume(), 500);
        });
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(await received, size, 'every byte arrived');
    assert.equal((await app.waitForExit(15_000)).code, 0);
    await waitGroupGone(app.pid, 5_000);
  });

  it('stops by itself when the process that started it (its IPC parent) goes away', async () => {
    const { app, info } = await startFixture('basic', ['--workers', '1']);
    started.push(app);
    app.child.disconnect();
    const exit = await app.waitForExit(15_000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(app.stderr, /the parent process is gone; stopping/);
    assert.deepEqual(closeOrder(app.stdout), ['worker', 'agent'], 'a graceful stop');
    await waitGroupGone(app.pid, 5_000);
    void info;
  });
});
