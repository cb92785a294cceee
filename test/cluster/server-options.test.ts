import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { appStatus, runApp, startFixture, type AppProcess } from '../helpers/cluster.ts';
import { fromEveryWorker, getJson } from '../helpers/http.ts';
import { copyFixture } from '../helpers/project.ts';

interface EnvAnswer {
  pid: number;
  greeting?: string;
  own?: string;
  agent: { pid: number; greeting?: string; own?: string };
}

/** Writes `head` to the server and reads until it closes: what a client sending it saw. */
function rawExchange(url: string, head: string, timeoutMs: number): Promise<{ reply: string; ms: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const began = Date.now();
    const socket = connect(Number(port), hostname);
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (reply += chunk));
    socket.on('close', () => resolve({ reply, ms: Date.now() - began }));
    socket.on('error', reject);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no close within ${timeoutMs}ms; got ${JSON.stringify(reply)}`)));
    socket.write(head);
  });
}

describe('env files and server limits', { timeout: 90_000 }, () => {
  const started: AppProcess[] = [];
  const copies: Array<{ remove(): void }> = [];
  after(() => {
    for (const app of started) app.kill();
    for (const c of copies) c.remove();
  });

  it('--env-file: the agent and both workers see the values (a later file wins, the environment wins over both); edited, app reload hands the new ones', async () => {
    const project = copyFixture('server-options');
    copies.push(project);
    project.write('base.env', 'GREETING=from base\nOWN=from file\n');
    project.write('local.env', '# a later file wins\nGREETING="hello, world"\n');
    const files = ['--env-file', join(project.dir, 'base.env'), '--env-file', join(project.dir, 'local.env')];
    const { app, info } = await startFixture(project.dir, ['--workers', '2', ...files], { env: { OWN: 'from the environment' } });
    started.push(app);
    const seen = await fromEveryWorker<EnvAnswer>(`${info.url}/env`, info.workers);
    assert.equal(seen.size, 2, 'both workers answered');
    for (const answer of seen.values()) {
      assert.deepEqual(
        [answer.greeting, answer.own, answer.agent.greeting, answer.agent.own],
        ['hello, world', 'from the environment', 'hello, world', 'from the environment'],
      );
    }

    project.write('local.env', 'GREETING=after the edit\n');
    const reload = await runApp(['reload', project.dir], 40_000);
    assert.equal(reload.code, 0, reload.stderr);
    const now = (await appStatus(project.dir)).workers.map((w) => w.pid);
    const after = await fromEveryWorker<EnvAnswer>(`${info.url}/env`, now);
    assert.equal(after.size, 2);
    for (const answer of after.values()) assert.deepEqual([answer.greeting, answer.agent.greeting], ['after the edit', 'after the edit']);

    // A file gone at a reload: the reload fails with the code, and the processes serving stay.
    rmSync(join(project.dir, 'local.env'));
    const failed = await runApp(['reload', project.dir], 40_000);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /CLUTCH_ERR_CLUSTER_ENV_FILE/);
    assert.deepEqual((await appStatus(project.dir)).workers.map((w) => w.pid).sort(), [...now].sort(), 'the same workers serve');
    assert.equal((await getJson<EnvAnswer>(`${info.url}/env`)).body.greeting, 'after the edit');
  });

  it('a missing --env-file fails the start at once, naming the file', async () => {
    const project = copyFixture('server-options');
    copies.push(project);
    const missing = join(project.dir, 'nowhere.env');
    const result = await runApp(['start', project.dir, '--port', '0', '--env-file', missing], 20_000);
    // Node itself checks an --env-file anywhere on its command line, even after the script (nodejs/node#54232),
    // and exits 9 before Clutch runs; a file that goes missing later is CLUTCH_ERR_CLUSTER_ENV_FILE (above).
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /nowhere\.env/);
    assert.doesNotMatch(result.stdout, /ready/);
  });

  it('config.cluster.headersTimeout cuts a client whose headers never end with 408, maxHeaderSize answers 431; the worker serves on', async () => {
    const { app, info } = await startFixture('server-options', ['--workers', '1']);
    started.push(app);
    const [worker] = info.workers as [number];
    const slow = await rawExchange(info.url, 'GET /env HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n', 8_000);
    assert.match(slow.reply, /^HTTP\/1\.1 408 /, 'the slow client got 408');
    assert.ok(slow.ms >= 900 && slow.ms < 4_000, `cut at the 1 s headers timeout (after ${slow.ms}ms)`);
    const big = await rawExchange(info.url, `GET /env HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(8_000)}\r\n\r\n`, 8_000);
    assert.match(big.reply, /^HTTP\/1\.1 431 /, 'a head over maxHeaderSize got 431');
    const { status, body } = await getJson<EnvAnswer>(`${info.url}/env`);
    assert.equal(status, 200);
    assert.equal(body.pid, worker, 'the same worker serves');
  });
});
