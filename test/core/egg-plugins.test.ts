/**
 * egg's most installed plugins, the packages from the registry (the root's devDependencies), in one
 * egg-style project (test/fixtures/egg-plugins) started once with 2 workers by the real `app start`,
 * each with its real server: each plugin's main behaviour answers over HTTP.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { type AppProcess, startFixture } from '../helpers/cluster.ts';

interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

/** One request on a connection of its own (Connection: close), so round-robin spreads them over the workers. */
function send<T = Record<string, unknown>>(
  url: string,
  options: { method?: string; headers?: Record<string, string>; json?: unknown; body?: string } = {},
): Promise<Reply<T>> {
  const payload = options.json === undefined ? options.body : JSON.stringify(options.json);
  const headers = {
    connection: 'close',
    accept: 'application/json',
    ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', agent: false, headers }, (res) => {
      let raw = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (raw += c));
      res.on('end', () => {
        let body: unknown = raw;
        try {
          body = JSON.parse(raw);
        } catch {
          // Not JSON: keep the text.
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as T });
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${options.method ?? 'GET'} ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
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
  let info: ClusterReadyInfo;
  let url: string;

  before(async () => {
    ({ app, info } = await startFixture('egg-plugins', ['--workers', '2'], {
      env: { EGG_PLUGINS_ONLY: 'cors,validate,jwt,routerPlus,passport' },
      timeoutMs: 30_000,
    }));
    url = info.url;
  });
  after(() => app?.kill());

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
});
