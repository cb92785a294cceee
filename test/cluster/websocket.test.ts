import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { commandOf, startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';

interface Client {
  ws: WebSocket;
  pid: number;
  closed: Promise<{ code: number; reason: string }>;
}

function connect(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'));
    const closed = new Promise<{ code: number; reason: string }>((done) => ws.once('close', (code, reason) => done({ code, reason: reason.toString() })));
    const timer = setTimeout(() => reject(new Error('no hello from the WebSocket server')), 10_000);
    ws.once('message', (data: Buffer) => {
      clearTimeout(timer);
      resolve({ ws, pid: (JSON.parse(data.toString()) as { pid: number }).pid, closed });
    });
    ws.once('error', reject);
  });
}

describe("WebSockets on the 'server' event, closed on 'draining'", { timeout: 90_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'clutch-ws-'));
  const closeLog = join(tmp, 'before-close.log');
  let app: AppProcess;
  let info: ClusterReadyInfo;
  before(async () => {
    writeFileSync(closeLog, '');
    // A stop timeout of a minute: an open socket nobody closed would hold each worker for 30 s.
    ({ app, info } = await startFixture('websocket', ['--workers', '2', '--stop-timeout', '60000', '--env', 'unittest'], { env: { CLOSE_LOG: closeLog } }));
  });
  after(() => {
    app?.kill();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('without config.keys, reading ctx.session fails with CLUTCH_ERR_KEYS_MISSING', async () => {
    const { status, body } = await getJson<{ error: { code: string; message: string } }>(`${info.url}/session`);
    assert.equal(status, 500);
    assert.equal(body.error.code, 'CLUTCH_ERR_KEYS_MISSING');
    assert.match(body.error.message, /config\.keys/);
  });

  it('a reload with six sockets open finishes in seconds: clients see 1001, beforeClose runs in every old worker, a reconnect reaches a new one', async () => {
    assert.deepEqual((await getJson<{ server: boolean }>(`${info.url}/`)).body.server, true);
    const clients: Client[] = [];
    for (let i = 0; i < 6; i++) clients.push(await connect(info.url));
    const old = new Set(info.workers);
    assert.ok(
      clients.every((c) => old.has(c.pid)),
      'every socket is served by a worker of the start',
    );
    assert.equal(new Set(clients.map((c) => c.pid)).size, 2, 'both workers hold sockets');

    const began = Date.now();
    const reload = await commandOf(app, 'reload', [], 25_000);
    const took = Date.now() - began;
    assert.equal(reload.code, 0, reload.stderr);
    assert.ok(took < 15_000, `the reload took ${took} ms`);

    const closes = await Promise.all(clients.map((c) => c.closed));
    assert.deepEqual(
      closes.map((c) => c.code),
      [1001, 1001, 1001, 1001, 1001, 1001],
    );
    const closedIn = new Set(readFileSync(closeLog, 'utf8').trim().split('\n').map(Number));
    assert.deepEqual([...closedIn].sort(), [...old].sort(), 'beforeClose ran in each old worker');

    const again = await connect(info.url);
    assert.ok(!old.has(again.pid), `reconnected to ${again.pid}, a new worker`);

    // A stop with a socket open: as prompt, and the new worker's beforeClose runs too.
    const stopAt = Date.now();
    app.signal('SIGTERM');
    const exit = await app.waitForExit(20_000);
    assert.equal(exit.code, 0);
    assert.ok(Date.now() - stopAt < 10_000, `the stop took ${Date.now() - stopAt} ms`);
    assert.equal((await again.closed).code, 1001);
    assert.ok(readFileSync(closeLog, 'utf8').split('\n').map(Number).includes(again.pid), 'beforeClose ran in the new worker');
  });
});
