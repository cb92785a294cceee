import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { fixture, startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';

function send(url: string, method: string, type: string, body: string, accept = 'application/json'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: { 'content-type': type, accept, connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Schedule runs the fixture wrote: [name, pid, time]. */
function runs(file: string): Array<[string, number, number]> {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const parts = l.split(' ');
      return [parts.slice(0, -2).join(' '), Number(parts.at(-2)), Number(parts.at(-1))];
    });
}

describe('the application framework (env unittest)', { timeout: 90_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'clutch-framework-'));
  const log = join(tmp, 'schedule.log');
  let app: AppProcess;
  let info: ClusterReadyInfo;
  before(async () => {
    writeFileSync(log, '');
    ({ app, info } = await startFixture('framework', ['--workers', '2', '--env', 'unittest'], { env: { SCHEDULE_LOG: log } }));
  });
  after(() => {
    app?.kill();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('loads plugins in dependency order, skips disabled and other-env ones, and merges config in the order docs/concepts.md gives', async () => {
    const { body } = await getJson<Record<string, unknown>>(`${info.url}/boot`);
    assert.deepEqual(body, {
      bootOrder: ['store', 'audit', 'app'],
      units: ['store', 'audit', 'framework-fixture'],
      // plugin default size 1 < app default 2 < plugin unittest (from only) < app unittest 3
      store: { size: 3, from: 'store unittest' },
      audit: { level: 'plugin' },
      middleware: ['timing', 'tag', 'offByConfig'],
      // The framework's middleware that are on, in egg's order, then the plugins'.
      coreMiddleware: ['siteFile', 'static', 'bodyParser', 'session', 'security', 'storeTag'],
    });
    assert.match(app.stdout, /EVENT agent-boot plugin store/, "a plugin's agent.ts runs in the agent");
    const sources = JSON.parse(readFileSync(join(fixture('framework'), 'run', 'config-sources.json'), 'utf8')) as { sources: Record<string, string> };
    assert.equal(sources.sources['store.size'], 'config/config.unittest.ts');
    assert.equal(sources.sources['store.from'], 'plugins/store/config/config.unittest.ts');
    assert.equal(sources.sources['audit.level'], 'plugins/audit/config/config.default.ts');
    assert.equal(sources.sources.hookTimeout, 'framework');
  });

  it('creates services lazily, once per request, nested and camelCased, plugins’ included', async () => {
    const first = await getJson<{ user: unknown; sameInstanceInRequest: boolean; nested: unknown }>(`${info.url}/services`);
    assert.deepEqual(first.body.user, { id: '7', env: 'unittest', path: '/services' });
    assert.equal(first.body.sameInstanceInRequest, true);
    assert.deepEqual(first.body.nested, { level: 'plugin', user: { id: 'from-audit', env: 'unittest', path: '/services' } });
    // Serials count instances per worker: compare two requests answered by the same worker.
    const seen = new Map<number, number>();
    let twice: [number, number] | undefined;
    for (let i = 0; i < 20 && !twice; i++) {
      const { body } = await getJson<{ serial: number; pid: number }>(`${info.url}/services`);
      const before = seen.get(body.pid);
      if (before !== undefined) twice = [before, body.serial];
      seen.set(body.pid, body.serial);
    }
    assert.ok(twice, 'a worker answered twice');
    assert.ok(twice[1] > twice[0], 'a new instance for each request');
    const store = await getJson<{ size: number; value: string }>(`${info.url}/store?v=shared`);
    assert.deepEqual(store.body, { size: 1, value: 'shared' }, "a plugin's service talks to its agent-side singleton");
  });

  it('runs middleware in order — plugins’ first — with their options, match/ignore and enable:false', async () => {
    const trail = await getJson<{ trail: string[]; tag: string }>(`${info.url}/trail`);
    assert.deepEqual(trail.body, { trail: ['storeTag', 'timing', 'tag:unittest'], tag: 'unittest' });
    const health = await getJson<{ trail: string[] }>(`${info.url}/health`);
    assert.deepEqual(health.body.trail, ['storeTag', 'tag:unittest'], 'timing ignores /health');
  });

  it('parses JSON and form bodies by default', async () => {
    const json = await send(`${info.url}/echo`, 'POST', 'application/json', '{"a":1,"b":[true]}');
    assert.deepEqual(JSON.parse(json.body), { received: { a: 1, b: [true] } });
    const form = await send(`${info.url}/echo`, 'POST', 'application/x-www-form-urlencoded', 'name=clutch&n=2');
    assert.deepEqual(JSON.parse(form.body), { received: { name: 'clutch', n: '2' } });
  });

  it('shows 5xx details in unittest, and a 4xx message always', async () => {
    const boom = await getJson<{ error: { status: number; message: string; stack?: string } }>(`${info.url}/boom`);
    assert.equal(boom.status, 500);
    assert.equal(boom.body.error.message, 'secret detail');
    assert.match(boom.body.error.stack ?? '', /at HomeController\.boom/);
    const bad = await getJson<{ error: { status: number; message: string } }>(`${info.url}/bad-request`);
    assert.deepEqual(bad.body, { error: { status: 400, message: 'name is required' } });
  });

  it('runs every hook of plugins then the project in order, and beforeClose in reverse', async () => {
    const hookLog = join(tmp, 'hooks.log');
    writeFileSync(hookLog, '');
    const { app: one } = await startFixture('framework', ['--workers', '1', '--env', 'unittest'], { env: { HOOK_LOG: hookLog } });
    try {
      one.signal('SIGTERM');
      assert.equal((await one.waitForExit(15_000)).code, 0);
    } finally {
      one.kill();
    }
    const lines = readFileSync(hookLog, 'utf8').trim().split('\n');
    const worker = Number(lines[0]!.split(' ')[0]);
    const got = lines.filter((l) => Number(l.split(' ')[0]) === worker).map((l) => l.split(' ').slice(1).join(' '));
    const units = ['store', 'audit', 'app'];
    const expected = ['configWillLoad', 'configDidLoad', 'didLoad', 'willReady', 'didReady', 'serverDidReady'].flatMap((h) => units.map((u) => `${u} ${h}`));
    expected.push(...[...units].reverse().map((u) => `${u} beforeClose`));
    assert.deepEqual(got, expected);
  });

  it('runs schedules from the agent: worker (rotating), all, immediate, cron, disable — never overlapping', async () => {
    const deadline = Date.now() + 20_000;
    const enough = () => {
      const r = runs(log);
      return (
        r.filter(([n]) => n === 'slow-end').length >= 3 &&
        r.some(([n]) => n === 'cron') &&
        new Set(r.filter(([n]) => n.startsWith('tick')).map(([, pid]) => pid)).size === 2
      );
    };
    while (!enough()) {
      assert.ok(Date.now() < deadline, `schedules did not run enough in 20 s:\n${readFileSync(log, 'utf8')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = runs(log);
    const ticks = r.filter(([n]) => n.startsWith('tick'));
    assert.ok(
      ticks.every(([n]) => n === 'tick function'),
      'the task gets a ctx with services',
    );
    assert.deepEqual(new Set(ticks.map(([, pid]) => pid)), new Set(info.workers), "'worker' rotates over the workers");
    const everyone = r
      .filter(([n]) => n === 'everyone')
      .map(([, pid]) => pid)
      .sort();
    assert.deepEqual(everyone, [...info.workers].sort(), "'all' + immediate: once in every worker at start");
    assert.equal(r.filter(([n]) => n === 'off').length, 0, 'a disabled schedule never runs');
    // slow: each start is after the previous end, whichever worker ran it.
    const slow = r.filter(([n]) => n.startsWith('slow'));
    for (let i = 0; i + 1 < slow.length; i += 2) {
      assert.equal(slow[i]![0], 'slow-start');
      assert.equal(slow[i + 1]![0], 'slow-end', `runs of slow overlap: ${JSON.stringify(slow.slice(i, i + 3))}`);
    }
  });
});

describe('error pages in prod and local', { timeout: 60_000 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const a of started) a.kill();
  });

  it('prod: a 5xx shows neither the message nor the stack, as JSON or HTML', async () => {
    const { app, info } = await startFixture('framework', ['--workers', '1', '--env', 'prod']);
    started.push(app);
    const json = await getJson<{ error: Record<string, unknown> }>(`${info.url}/boom`);
    assert.equal(json.status, 500);
    assert.deepEqual(json.body, { error: { status: 500, message: 'Internal Server Error' } });
    const html = await send(`${info.url}/boom`, 'GET', 'text/plain', '', 'text/html');
    assert.equal(html.status, 500);
    assert.match(html.type, /text\/html/);
    assert.ok(!html.body.includes('secret') && !html.body.includes('HomeController'), 'nothing leaks into the page');
    await app.waitForLine(/GET \/boom → 500: Error: secret detail/, 5_000);
    const bad = await getJson<{ error: { message: string } }>(`${info.url}/bad-request`);
    assert.equal(bad.body.error.message, 'name is required', 'a 4xx message is for the client');
    const upstream = await getJson(`${info.url}/upstream-404`);
    assert.deepEqual([upstream.status, upstream.body], [404, { error: { status: 404, message: 'Not Found' } }], 'a 4xx without expose keeps its message');
    const mw = await getJson(`${info.url}/middleware-error`);
    assert.deepEqual(
      [mw.status, mw.body],
      [500, { error: { status: 500, message: 'Internal Server Error' } }],
      'an error thrown by middleware gets the page too',
    );
    await app.waitForLine(/GET \/middleware-error → 500: Error: middleware secret/, 5_000);
    const missing = await getJson(`${info.url}/no-such-page`);
    assert.deepEqual([missing.status, missing.body], [404, { error: { status: 404, message: 'Not Found' } }]);
    const missingHtml = await send(`${info.url}/no-such-page`, 'GET', 'text/plain', '', 'text/html');
    assert.match(missingHtml.body, /<h1>404 Not Found<\/h1>/);
  });

  it('local: a 5xx shows the message and the stack; env-only plugins load', async () => {
    const { app, info } = await startFixture('framework', ['--workers', '1', '--env', 'local']);
    started.push(app);
    const html = await send(`${info.url}/boom`, 'GET', 'text/plain', '', 'text/html');
    assert.match(html.body, /<h1>500 secret detail<\/h1><pre>Error: secret detail/);
    const { body } = await getJson<{ units: string[] }>(`${info.url}/boot`);
    assert.deepEqual(body.units, ['store', 'audit', 'localOnly', 'framework-fixture']);
  });
});
