/**
 * egg's most installed plugins, the packages from the registry (the root's devDependencies), in one
 * egg-style project (test/fixtures/egg-plugins) started once with 2 workers by the real `app start`,
 * each with its real server — redis-server and MariaDB, the machine's (test/system-servers.js) —
 * and each plugin's main behaviour answering over HTTP (socket.io over its own transports); then
 * `app reload` under light load. The project runs sticky sessions (egg-socket.io needs them), so
 * the master picks a connection's worker by its remote address: each request leaves from the next
 * of 40 loopback addresses, which reach both workers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { type AppProcess, fixture, runApp, startFixture, waitGroupGone } from '../helpers/cluster.ts';
import { until } from '../helpers/freeze.ts';
import { type HttpResult, sendJson, type SendOptions } from '../helpers/http.ts';
import { startLoad } from '../helpers/load.ts';
import { type MariaDb, startMariaDb } from '../helpers/mariadb.ts';
import { client, connected, emitAck, LOOPBACK, spread, upgraded, type V2Socket } from '../helpers/socketio.ts';
import { type StoreServer, startRedis } from '../helpers/stores.ts';

type Reply<T = Record<string, unknown>> = HttpResult<T>;

let sent = 0;
/** One request on a connection of its own, from the next loopback address, asking for JSON. */
const send = <T = Record<string, unknown>>(url: string, options: SendOptions = {}): Promise<Reply<T>> =>
  sendJson<T>(url, { localAddress: LOOPBACK[sent++ % LOOPBACK.length], ...options, headers: { accept: 'application/json', ...options.headers } });

/** What the fixture's io controller (app/io/controller/chat.js) acknowledges with. */
type Ack = { message: unknown; pid: number; transport: string };
/** Connects a socket.io client from each of `addresses`, and has each emit and get its ack over WebSocket. */
async function chatFrom(url: string, addresses: string[], sockets: V2Socket[]): Promise<Ack[]> {
  return Promise.all(
    addresses.map(async (address) => {
      const socket = client(url, address);
      sockets.push(socket);
      const upgrade = upgraded(socket);
      await connected(socket, 5_000, 'connect');
      assert.equal(await upgrade, 'websocket');
      return emitAck<Ack>(socket, 'chat', address);
    }),
  );
}

/** Sends until every worker pid has answered (bounded), checking each answer. */
async function fromBothWorkers<T extends { pid: number }>(info: ClusterReadyInfo, get: () => Promise<Reply<T>>, check: (r: Reply<T>) => void): Promise<void> {
  const seen = new Set<number>();
  for (let i = 0; i < 40 && seen.size < info.workers.length; i++) {
    const r = await get();
    check(r);
    seen.add(r.body.pid);
  }
  assert.deepEqual([...seen].sort(), [...info.workers].sort(), 'both workers answered');
}

describe('egg plugins from the registry run unchanged (2 workers, app start)', { timeout: 90_000 }, () => {
  let app: AppProcess | undefined;
  let redis: StoreServer | undefined;
  let mariadb: MariaDb | undefined;
  let info: ClusterReadyInfo;
  let url: string;
  const title = `egg-plugins-${process.pid}`;
  const sockets: V2Socket[] = [];

  before(async () => {
    [redis, mariadb] = await Promise.all([startRedis(), startMariaDb()]);
    // egg-sequelize's README leaves the schema to migrations: the table is made here.
    await mariadb.sql(
      'CREATE DATABASE eggplug; CREATE TABLE eggplug.users (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(30), created_at DATETIME, updated_at DATETIME)',
    );
    ({ app, info } = await startFixture('egg-plugins', ['--workers', '2', '--title', title], {
      env: { REDIS_PORT: String(redis.port), MYSQL_PORT: String(mariadb.port) },
      timeoutMs: 30_000,
    }));
    url = info.url;
  });
  after(async () => {
    for (const s of sockets) s.close();
    app?.kill();
    await Promise.all([redis?.stop(), mariadb?.stop()]);
  });

  it('egg-cors: a preflight gets the CORS headers, from the plugin middleware placed first of coreMiddleware', async () => {
    const r = await send(`${url}/pid`, { method: 'OPTIONS', headers: { origin: 'http://web.test', 'access-control-request-method': 'POST' } });
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['access-control-allow-methods'], 'GET,HEAD,PUT,POST,DELETE,PATCH');
  });

  it('egg-validate: ctx.validate answers 422 with what is wrong, and lets a good body through', async () => {
    const bad = await send<{ error: { status: number; code: string; errors: Array<{ field: string }> } }>(`${url}/validate`, {
      method: 'POST',
      json: { name: 'x' },
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.code, 'invalid_param');
    assert.deepEqual(bad.body.error.errors.map((e) => e.field).sort(), ['age', 'name']);
    const good = await send(`${url}/validate`, { method: 'POST', json: { name: 'ada', age: 36 } });
    assert.equal(good.status, 200);
  });

  it('egg-jwt: a protected route is 401 without a token and 200 with one app.jwt.sign made, on both workers', async () => {
    assert.equal((await send(`${url}/jwt/secret`)).status, 401);
    const { body } = await send<{ token: string }>(`${url}/jwt/token`);
    await fromBothWorkers(
      info,
      () => send<{ user: string; pid: number }>(`${url}/jwt/secret`, { headers: { authorization: `Bearer ${body.token}` } }),
      (r) => assert.deepEqual([r.status, r.body.user], [200, 'ada']),
    );
  });

  it('egg-passport + passport-local: a login (302, the session cookie) keeps its user on both workers; a wrong password is 401', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const wrong = await send(`${url}/passport/local`, { method: 'POST', headers: form, body: 'username=ada&password=nope' });
    assert.equal(wrong.status, 401);
    const login = await send(`${url}/passport/local`, { method: 'POST', headers: form, body: 'username=ada&password=secret' });
    assert.deepEqual([login.status, login.headers.location], [302, '/me']);
    const cookie = [login.headers['set-cookie'] ?? []]
      .flat()
      .map((c) => c.split(';')[0])
      .join('; ');
    assert.match(cookie, /CLUTCH_SESS=/);
    await fromBothWorkers(
      info,
      () => send<{ user: unknown; authenticated: boolean; pid: number }>(`${url}/me`, { headers: { cookie } }),
      (r) => assert.deepEqual([r.body.authenticated, r.body.user], [true, { id: 'ada', name: 'ada' }]),
    );
    const anonymous = await send<{ authenticated: boolean }>(`${url}/me`);
    assert.equal(anonymous.body.authenticated, false);
  });

  it('egg-router-plus: a namespace route declared in app/router/v1.js answers under its prefix', async () => {
    const r = await send<{ hello: string }>(`${url}/v1/hello`);
    assert.deepEqual([r.status, r.body.hello], [200, 'v1']);
    assert.equal((await send(`${url}/hello`)).status, 404);
  });

  it('egg-redis: a value one worker sets, the other reads (one real redis-server)', async () => {
    const set = await send<{ pid: number }>(`${url}/redis/set?key=shared&value=from-${process.pid}`);
    assert.equal(set.status, 200);
    await fromBothWorkers(
      info,
      () => send<{ value: string; pid: number }>(`${url}/redis/get?key=shared`),
      (r) => assert.equal(r.body.value, `from-${process.pid}`),
    );
  });

  it('egg-mysql: app.mysql.query runs on the MariaDB, from both workers', async () => {
    await fromBothWorkers(
      info,
      () => send<{ sum: number; version: string; pid: number }>(`${url}/mysql`),
      (r) => assert.deepEqual([r.status, r.body.sum, /MariaDB/.test(r.body.version)], [200, 42, true]),
    );
  });

  it('egg-sequelize: a model of app/model is created by one worker and read back by the other', async () => {
    const created = await send<{ id: number; pid: number }>(`${url}/users`, { method: 'POST', json: { name: 'grace' } });
    assert.equal(created.status, 201);
    await fromBothWorkers(
      info,
      () => send<{ id: number; name: string; pid: number }>(`${url}/users/${created.body.id}`),
      (r) => assert.deepEqual([r.status, r.body.name], [200, 'grace']),
    );
  });

  it('egg-socket.io: connect, emit, ack over polling then WebSocket, through the sticky workers: both answer', async () => {
    const polling = client(url, spread(1)[0]!, { polling: true });
    sockets.push(polling);
    await connected(polling, 5_000, 'connect');
    const polled = [await emitAck<Ack>(polling, 'chat', 1), await emitAck<Ack>(polling, 'chat', 2)];
    assert.deepEqual(
      polled.map((a) => [a.message, a.transport]),
      [
        [1, 'polling'],
        [2, 'polling'],
      ],
    );
    assert.equal(polled[0]!.pid, polled[1]!.pid, 'every poll of a session reaches its worker');
    const acks = await chatFrom(url, spread(1), sockets);
    assert.ok(acks.every((a) => a.transport === 'websocket'));
    assert.deepEqual([...new Set(acks.map((a) => a.pid))].sort(), [...info.workers].sort(), 'both workers answered');
  });

  it('app reload under light load fails no request, and the new workers reconnect every client (redis, mysql, sequelize, socket.io)', async () => {
    const held = spread(1, 10).map((address) => client(url, address));
    sockets.push(...held);
    await Promise.all(held.map((s) => connected(s, 5_000, 'connect')));
    let reconnected = 0;
    for (const s of held) s.once('reconnect', () => reconnected++);
    const load = startLoad(`${url}/all`, { connections: 4, durationMs: 60_000, maxRequests: 20_000, paceMs: 5 });
    let reload: Awaited<ReturnType<typeof runApp>>;
    try {
      await until('20 answers before the reload', () => load.result.ok >= 20, 10_000);
      reload = await runApp(['reload', fixture('egg-plugins'), '--title', title], 60_000);
    } finally {
      load.stop();
    }
    const result = await load.done;
    assert.equal(reload.code, 0, reload.stderr);
    assert.equal(result.failed, 0, JSON.stringify(result.failures));
    await until('every socket.io client reconnected', () => reconnected === held.length, 10_000);
    const again = await Promise.all(held.map((s) => emitAck<Ack>(s, 'chat', 'after')));
    assert.ok(result.ok > 20, `${result.ok} requests`);
    const status = await runApp(['status', fixture('egg-plugins'), '--json', '--title', title], 10_000);
    const pids = (JSON.parse(status.stdout) as { workers: Array<{ pid: number }> }).workers.map((w) => w.pid);
    assert.equal(pids.length, 2);
    assert.ok(
      pids.every((pid) => !info.workers.includes(pid)),
      'both workers were replaced',
    );
    assert.deepEqual([...new Set(again.map((a) => a.pid))].sort(), [...pids].sort(), 'the socket.io clients are back, on both new workers');
    await fromBothWorkers(
      { ...info, workers: pids },
      () => send<{ one: number; users: number; pid: number }>(`${url}/all`),
      (r) => assert.deepEqual([r.status, r.body.one, r.body.users >= 1], [200, 1, true]),
    );
  });
});

describe('an egg plugin that cannot load fails the start, naming it', { timeout: 30_000 }, () => {
  it('a dependency not turned on: CLUTCH_ERR_PLUGIN_MISSING_DEPENDENCY naming the plugin and the dependency, nothing left', async () => {
    const { code, stderr, app } = await runApp(['start', fixture('egg-plugin-missing-dep'), '--port', '0', '--workers', '1'], 20_000);
    assert.equal(code, 1);
    assert.match(stderr, /Plugin "needsCache" depends on plugin "cache", which is not in config\/plugin.*\[CLUTCH_ERR_PLUGIN_MISSING_DEPENDENCY\]/);
    await waitGroupGone(app.pid, 5_000);
  });
});
