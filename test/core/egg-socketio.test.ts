/**
 * egg-socket.io, the package from the registry (socket.io 2), in an egg project configured as its
 * README shows (test/fixtures/egg-socketio: app/io/controller, app/io/middleware, config.io.namespace,
 * `app.io.route`), on the real `app start` with 2 sticky workers, talked to by a socket.io 2 client:
 * polling, the upgrade to WebSocket, both workers, a reload and a stop with clients connected — and
 * without sticky, the polling failure that sticky exists for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { type AppProcess, fixture, runApp, startFixture, waitGroupGone } from '../helpers/cluster.ts';
import { client, connected as greeted, emitAck, spread, upgraded as upgradedTo, type V2Socket } from '../helpers/socketio.ts';

/** What the fixture's io controller (chat.ping) acknowledges with. */
interface Ack {
  message: unknown;
  pid: number;
  transport: string;
  /** The packet middleware (app/io/middleware/filter.js) ran on it. */
  filtered: boolean;
  /** egg-socket.io ran the session middleware before the controller. */
  session: string;
}

const TITLE = `egg-socketio-${process.pid}`;
const DIR = fixture('egg-socketio');

/** Resolves with the pid the connection middleware (app/io/middleware/auth.js) greeted with, once connected. */
const connected = async (socket: V2Socket) => Number(/connected to (\d+)/.exec(await greeted(socket))?.[1]);
/** Emits 'chat' and resolves with the io controller's acknowledgement. */
const chat = (socket: V2Socket, message: unknown) => emitAck<Ack>(socket, 'chat', message);

describe('egg-socket.io from the registry runs unchanged (2 sticky workers, app start)', { timeout: 60_000 }, () => {
  let app: AppProcess | undefined;
  let info: ClusterReadyInfo;
  const sockets: V2Socket[] = [];
  const started: AppProcess[] = [];
  const open = (socket: V2Socket) => (sockets.push(socket), socket);

  before(async () => {
    ({ app, info } = await startFixture('egg-socketio', ['--workers', '2', '--title', TITLE]));
    started.push(app);
  });
  after(() => {
    for (const s of sockets) s.close();
    for (const a of started) a.kill();
  });

  it('connect, emit, ack from app/io/controller (through the connection and packet middleware and the session) over polling, then WebSocket; both workers answer', async () => {
    const results = await Promise.all(
      spread(2).map(async (address) => {
        const polling = open(client(info.url, address, { polling: true }));
        const greeted = await connected(polling);
        const polled = [await chat(polling, `poll-${address}`), await chat(polling, 2)];
        polling.close();
        const upgrading = open(client(info.url, address));
        const upgraded = upgradedTo(upgrading);
        await connected(upgrading);
        assert.equal(await upgraded, 'websocket');
        return { address, greeted, polled, ws: await chat(upgrading, 'ws') };
      }),
    );
    for (const { address, greeted, polled, ws } of results) {
      assert.deepEqual(polled[0], { message: `poll-${address}`, pid: greeted, transport: 'polling', filtered: true, session: 'object' });
      assert.equal(polled[1]!.pid, greeted, 'every poll of a session reaches its worker');
      assert.deepEqual([ws.transport, ws.pid, ws.filtered], ['websocket', greeted, true], `${address}: the same worker over WebSocket`);
    }
    assert.deepEqual([...new Set(results.map((r) => r.ws.pid))].sort(), [...info.workers].sort(), 'both workers answered');
  });

  it('app reload with clients connected: it finishes promptly, every client reconnects to a new worker and emits again', async (t) => {
    const clients = spread(2, 10).map((address) => ({ address, socket: open(client(info.url, address)), connects: 0 }));
    for (const c of clients) c.socket.on('connect', () => c.connects++);
    const first = await Promise.all(clients.map(async (c) => (await connected(c.socket), chat(c.socket, 'before'))));
    assert.equal(new Set(first.map((a) => a.pid)).size, 2, 'clients on both workers');
    const reconnected = clients.map((c) => new Promise<void>((resolve) => c.socket.on('reconnect', () => resolve())));
    const began = Date.now();
    const reload = await runApp(['reload', DIR, '--title', TITLE], 30_000);
    const took = Date.now() - began;
    assert.equal(reload.code, 0, reload.stderr);
    await Promise.all(reconnected);
    const again = await Promise.all(clients.map((c) => chat(c.socket, 'after')));
    t.diagnostic(`app reload of 2 workers with ${clients.length} socket.io clients connected took ${took} ms`);
    // Without the close on 'draining', each old worker waits for its stop timeout but the reserve (9 s of 10).
    assert.ok(took < 8_000, `the reload took ${took} ms`);
    for (const [i, ack] of again.entries()) {
      assert.ok(!info.workers.includes(ack.pid), `${clients[i]!.address} is served by a new worker`);
      assert.ok(clients[i]!.connects >= 2, `${clients[i]!.address} reconnected`);
    }
    assert.equal(new Set(again.map((a) => a.pid)).size, 2, 'both new workers answer');
  });

  it('app stop with clients connected finishes promptly, and leaves no process', async (t) => {
    const held = spread(1, 20).map((address) => open(client(info.url, address, { reconnect: false })));
    await Promise.all(held.map((s) => connected(s)));
    const began = Date.now();
    const stop = await runApp(['stop', DIR, '--title', TITLE], 20_000);
    const took = Date.now() - began;
    assert.equal(stop.code, 0, stop.stderr);
    t.diagnostic(`app stop with ${held.length} socket.io clients connected took ${took} ms`);
    assert.ok(took < 4_000, `the stop took ${took} ms`);
    assert.equal((await app!.waitForExit(10_000)).code, 0);
    await waitGroupGone(app!.pid, 5_000);
  });

  it('without sticky, a polling client fails: the next request of its session reaches the other worker, and is refused', async (t) => {
    const plain = await startFixture('egg-socketio', ['--workers', '2'], { env: { STICKY: '0' } });
    started.push(plain.app);
    // socket.io 2 sends the connect packet (and the greeting) in the handshake's answer, so the client
    // is connected at first; each later polling request is a new connection, and round-robin sends it
    // to the other worker, which does not know the session: engine.io's 400, a transport error.
    const outcomes = await Promise.all(
      spread(1, 30).map((address) => {
        const socket = open(client(plain.info.url, address, { polling: true, reconnect: false }));
        return new Promise<string>((resolve) => {
          const timer = setTimeout(() => resolve('nothing within 5 s'), 5_000);
          const done = (outcome: string) => (clearTimeout(timer), resolve(outcome));
          socket.emit('chat', 'x', () => done('acknowledged'));
          socket.once('error', (err: Error & { description?: unknown }) => done(`error: ${String(err.message ?? err)} (${String(err.description)})`));
          socket.once('connect_error', (err: Error & { description?: unknown }) => done(`connect_error: ${err.message} (${String(err.description)})`));
        });
      }),
    );
    t.diagnostic(outcomes.join('; '));
    for (const outcome of outcomes) assert.match(outcome, /^(connect_)?error: xhr (post|poll) error \(400\)/);
  });
});
