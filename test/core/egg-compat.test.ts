import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { fixture, runApp, startFixture, type AppProcess } from '../helpers/cluster.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on a fresh connection (so the two workers take turns), with the cookies of `jar`. */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; jar?: Jar } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers, ...(options.jar?.size ? { cookie: options.jar.header() } : {}) };
    const req = request(url, { method: options.method ?? 'GET', agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        options.jar?.take(res.headers['set-cookie']);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The cookies a browser would keep: name → value, as the server last set them. */
class Jar extends Map<string, string> {
  take(setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at);
      const value = pair!.slice(at + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.delete(name);
      else this.set(name, value);
    }
  }
  header(): string {
    return [...this].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const json = <T = Record<string, unknown>>(r: Reply): T => JSON.parse(r.body) as T;

/** A client with its cookies and a CSRF token, as a page would have them. */
async function withToken(url: string): Promise<{ jar: Jar; csrf: string }> {
  const jar = new Jar();
  const { csrf } = json<{ csrf: string }>(await send(`${url}/csrf`, { jar }));
  return { jar, csrf };
}

type Part = { name: string; value: string } | { name: string; filename: string; data: Buffer };

/** A multipart/form-data body of `parts`, with the headers to send it (the CSRF token among them). */
function multipartBody(parts: Part[], csrf: string): { body: Buffer; headers: Record<string, string> } {
  const boundary = `----clutch${randomBytes(8).toString('hex')}`;
  const body = Buffer.concat([
    ...parts.map((p) =>
      'value' in p
        ? Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`)
        : Buffer.concat([
            Buffer.from(
              `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
            ),
            p.data,
            Buffer.from('\r\n'),
          ]),
    ),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'x-csrf-token': csrf } };
}

describe('an egg project with its imports renamed (CommonJS, egg layout)', { timeout: 90_000 }, () => {
  let app: AppProcess;
  let info: ClusterReadyInfo;
  before(async () => {
    ({ app, info } = await startFixture('egg-style', ['--workers', '2', '--env', 'unittest']));
  });
  after(() => app?.kill());

  it('routes by controller name (and named), egg file-name casing, resources', async () => {
    assert.equal((await send(`${info.url}/`)).body, 'hi, egg (42)');
    assert.equal((await send(`${info.url}/home`)).body, 'hi, egg (42)');
    assert.deepEqual(json(await send(`${info.url}/news`)), [{ id: 1, title: 'Clutch runs egg projects' }]);
    assert.deepEqual(json(await send(`${info.url}/user-info?id=7`)), { id: '7', name: 'user 7' });
    assert.deepEqual(json(await send(`${info.url}/posts`)), { action: 'index' });
    assert.deepEqual(json(await send(`${info.url}/posts/12`)), { action: 'show', id: '12' });
    // The controller has no `edit`: no route for it.
    assert.equal((await send(`${info.url}/posts/12/edit`)).status, 404);
    // update answers PATCH and PUT, as egg's.
    const { jar, csrf } = await withToken(info.url);
    for (const method of ['PATCH', 'PUT']) {
      const r = await send(`${info.url}/posts/5`, { method, jar, headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: '{}' });
      assert.deepEqual(json(r), { action: 'update', id: '5', method });
    }
  });

  it("egg's other app and context names: helper.escape, isAjax, acceptJSON, app.Controller, coreLogger, httpclient, app.url with egg's route names", async () => {
    const r = await send(`${info.url}/extras`, { headers: { 'x-requested-with': 'XMLHttpRequest', accept: 'application/json' } });
    assert.deepEqual(json(r), {
      escaped: '&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;',
      isAjax: true,
      acceptJSON: true,
      baseClasses: true,
      coreLogger: true,
      httpclient: true,
      urls: { post: '/posts/3', posts: '/posts', destroy: '/posts/3' },
    });
  });

  it('app/extend: context getters per request, the helper, the application', async () => {
    const ios = json(await send(`${info.url}/ext`, { headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)' } }));
    assert.deepEqual(ios, { isIOS: true, shout: 'HELLO! (/ext)', answer: 42 });
    const desktop = json(await send(`${info.url}/ext`, { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' } }));
    assert.equal(desktop.isIOS, false);
  });

  it('an encrypted cookie session counts across both workers on fresh connections; a forged cookie starts a new one', async () => {
    const jar = new Jar();
    const pids = new Set<number>();
    for (let i = 1; i <= 8; i++) {
      const r = json<{ views: number; pid: number }>(await send(`${info.url}/session`, { jar }));
      assert.equal(r.views, i);
      pids.add(r.pid);
    }
    assert.equal(pids.size, 2, 'both workers served the session');
    // config.session.encrypt: true, as egg's (test/core/cookies.test.ts has the rest).
    assert.deepEqual([...jar.keys()], ['CLUTCH_SESS'], `encrypted session cookie: ${jar.header()}`);
    assert.doesNotMatch(`${app.stdout}${app.stderr}`, /config\.session\.encrypt/);
    // A session value of the client's own making: the server must not trust it.
    const forged = Buffer.from(JSON.stringify({ views: 1000, _expire: Date.now() + 3_600_000, _maxAge: 3_600_000 })).toString('base64');
    jar.set('CLUTCH_SESS', forged);
    assert.equal(json<{ views: number }>(await send(`${info.url}/session`, { jar })).views, 1);
  });

  it('signs cookies by default with config.keys; a tampered one reads as absent', async () => {
    const jar = new Jar();
    assert.deepEqual(json(await send(`${info.url}/cookie`, { jar })), { before: null });
    assert.ok(jar.has('remember.sig'), `signed: ${jar.header()}`);
    assert.deepEqual(json(await send(`${info.url}/cookie`, { jar })), { before: 'me' });
    jar.set('remember', 'admin');
    assert.deepEqual(json(await send(`${info.url}/cookie`, { jar })), { before: null });
  });

  it('serves app/public at /public, and nothing out of it', async () => {
    const file = await send(`${info.url}/public/hello.txt`);
    assert.equal(file.status, 200);
    assert.equal(file.body, 'hello from app/public\n');
    assert.match(String(file.headers['content-type']), /text\/plain/);
    assert.equal((await send(`${info.url}/public/css/site.css`)).body, 'body { color: teal; }\n');
    assert.equal((await send(`${info.url}/public/missing.txt`)).status, 404);
    assert.notEqual((await send(`${info.url}/public/..%2f..%2fpackage.json`)).status, 200);
  });

  it('refuses an unsafe request without a CSRF token (403) and takes one from the header or the body', async () => {
    const jar = new Jar();
    const none = await send(`${info.url}/form`, { method: 'POST', jar, headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    assert.equal(none.status, 403);
    assert.equal(json<{ error: { code: string } }>(none).error.code, 'CLUTCH_ERR_CSRF_INVALID');
    const { csrf } = json<{ csrf: string }>(await send(`${info.url}/csrf`, { jar }));
    assert.ok(jar.has('csrfToken'));
    const header = await send(`${info.url}/form`, {
      method: 'POST',
      jar,
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: '{"a":1}',
    });
    assert.equal(header.status, 200, header.body);
    assert.deepEqual(json(header), { ok: true, body: { a: 1 } });
    const field = await send(`${info.url}/form`, {
      method: 'POST',
      jar,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `name=egg&_csrf=${encodeURIComponent(csrf)}`,
    });
    assert.equal(field.status, 200, field.body);
    const wrong = await send(`${info.url}/form`, {
      method: 'POST',
      jar,
      headers: { 'content-type': 'application/json', 'x-csrf-token': `${csrf}x` },
      body: '{}',
    });
    assert.equal(wrong.status, 403);
    // RESTful create needs it too; security.csrf.ignore lets a webhook through.
    assert.equal((await send(`${info.url}/posts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":"x"}' })).status, 403);
    assert.equal((await send(`${info.url}/hooks/github`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 200);
    // ignore: '/hooks' is that path and what is under it, not every path that begins so.
    assert.equal((await send(`${info.url}/hooksevil`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 403);
    // Safe default headers on every response.
    assert.equal(header.headers['x-frame-options'], 'SAMEORIGIN');
    assert.equal(header.headers['x-content-type-options'], 'nosniff');
  });

  it('takes egg-shaped body parser options, and a route can opt out of the parser', async () => {
    const { jar, csrf } = await withToken(info.url);
    const custom = await send(`${info.url}/json`, {
      method: 'POST',
      jar,
      headers: { 'content-type': 'application/x-egg-json', 'x-csrf-token': csrf },
      body: '{"egg":true}',
    });
    assert.equal(custom.status, 200, custom.body);
    assert.deepEqual(json(custom).body, { egg: true });
    // egg's list form of bodyParser.ignore (CSRF is ignored under /hooks too).
    const ignored = await send(`${info.url}/hooks/raw`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    assert.deepEqual(json(ignored), { ok: true });
    const text = '{"left":"alone"}';
    const raw = await send(`${info.url}/raw`, { method: 'POST', jar, headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: text });
    assert.equal(raw.status, 200, raw.body);
    assert.deepEqual(json(raw), { parsed: null, bytes: text.length, sha256: createHash('sha256').update(text).digest('hex') });
  });

  it('reads a 300 KB multipart upload through getFileStream, and refuses a file type not accepted', async () => {
    const { jar, csrf } = await withToken(info.url);
    const file = randomBytes(300 * 1024);
    const form = (name: string) =>
      multipartBody(
        [
          { name: 'title', value: 'holiday' },
          { name: 'photo', filename: name, data: file },
        ],
        csrf,
      );
    const ok = await send(`${info.url}/upload`, { method: 'POST', jar, ...form('photo.bin') });
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(json(ok), {
      filename: 'photo.bin',
      fieldname: 'photo',
      mime: 'application/octet-stream',
      fields: { title: 'holiday' },
      bytes: file.length,
      sha256: createHash('sha256').update(file).digest('hex'),
    });
    const refused = await send(`${info.url}/upload`, { method: 'POST', jar, ...form('tool.exe') });
    assert.equal(refused.status, 400);
    assert.equal(json<{ error: { code: string } }>(refused).error.code, 'CLUTCH_ERR_MULTIPART_INVALID');
    // A body cut short in the middle of a file: the client's fault, a 400 — never a 500.
    const whole = form('cut.bin');
    const cut = await send(`${info.url}/upload`, { method: 'POST', jar, headers: whole.headers, body: whole.body.subarray(0, whole.body.length - 200_000) });
    assert.equal(cut.status, 400, cut.body);
    const noBoundary = await send(`${info.url}/upload`, {
      method: 'POST',
      jar,
      headers: { 'content-type': 'multipart/form-data', 'x-csrf-token': csrf },
      body: 'xxxx',
    });
    assert.equal(noBoundary.status, 400);
  });

  it('a file past multipart.fileSize fails the request (413), never the worker, and never hangs', async () => {
    const { jar, csrf } = await withToken(info.url);
    const files = (...sizes: number[]) =>
      multipartBody(
        sizes.map((n, i) => ({ name: `f${i}`, filename: `f${i}.bin`, data: randomBytes(n) })),
        csrf,
      );
    // getFileStream has its first file; the second, past 1 MB, is dropped — and must not crash the worker.
    const first = await send(`${info.url}/upload-first`, { method: 'POST', jar, ...files(10_000, 1_500_000) });
    assert.equal(first.status, 200, first.body);
    assert.deepEqual(json(first), { filename: 'f0.bin', bytes: 10_000 });
    // Every part through ctx.multipart(): the big one fails the request, it does not hang it.
    const all = await send(`${info.url}/upload-all`, { method: 'POST', jar, ...files(10_000, 1_500_000, 10_000) });
    assert.equal(all.status, 413, all.body);
    assert.equal(json<{ error: { code: string } }>(all).error.code, 'CLUTCH_ERR_MULTIPART_INVALID');
    // Both workers are the ones the start forked: none died.
    const pids = new Set<number>();
    for (let i = 0; i < 6; i++) pids.add(json<{ pid: number }>(await send(`${info.url}/started`)).pid);
    assert.deepEqual([...pids].sort(), [...info.workers].sort());
    assert.doesNotMatch(`${app.stdout}${app.stderr}`, /worker \d+ .*exited/);
  });

  it('a client that goes away mid-upload ends the handler (no request left waiting)', async () => {
    const { jar, csrf } = await withToken(info.url);
    const boundary = 'clutchabort';
    const req = request(`${info.url}/upload`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'x-csrf-token': csrf, cookie: jar.header(), 'content-length': '1000000' },
    });
    req.on('error', () => {});
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="half.bin"\r\n\r\n${'x'.repeat(50_000)}`);
    await app.waitForLine(/upload receiving half\.bin/, 10_000);
    req.destroy();
    await app.waitForLine(/\[\S+ POST \/upload \+\d+ms\] upload settled: .*closed the connection during the upload/, 10_000);
  });

  it('renders a nunjucks page with layout, helper and ctx.csrf', async () => {
    const page = await send(`${info.url}/page`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(page.body, /^<!doctype html><html><body><h1>News &amp; views<\/h1><h2>Egg News<\/h2><p>PAGE! \(\/page\)<\/p>/);
    assert.match(page.body, /name="_csrf" value="[\w-]{20,}"/);
    const missing = await send(`${info.url}/missing-page`, { headers: { accept: 'application/json' } });
    assert.equal(missing.status, 500);
    assert.equal(json<{ error: { code: string } }>(missing).error.code, 'CLUTCH_ERR_VIEW_NOT_FOUND');
  });

  it('ctx.logger lines carry the request; runInBackground runs after the response and logs its failure', async () => {
    await send(`${info.url}/`, { headers: { 'user-agent': 'egg-test' } });
    await app.waitForLine(/\[\S+ GET \/ \+\d+ms\] home visited by egg-test/, 10_000);
    const id = randomBytes(4).toString('hex');
    const r = await send(`${info.url}/bg?id=${id}`);
    assert.equal(r.body, 'queued');
    await app.waitForLine(new RegExp(`\\[\\S+ GET /bg \\+\\d+ms\\] background job ran after the response \\(${id}\\)`), 10_000);
    await app.waitForLine(
      new RegExp(`ERROR .*\\[\\S+ GET /bg \\+\\d+ms\\] background job anonymous failed after \\d+ms: Error: background failure ${id}`),
      10_000,
    );
    // The class-form schedule ran, with a context logger of its own.
    await app.waitForLine(/\[schedule egg-style:app\/schedule\/tick\.js\] subscription tick in egg-style/, 10_000);
  });

  it('beforeStart of a function-style app.js is done before the first request', async () => {
    const r = json<{ beforeStartDone?: number }>(await send(`${info.url}/started`));
    assert.equal(typeof r.beforeStartDone, 'number');
  });

  it('an egg idiom Clutch has not fails with a coded error, never silently', async () => {
    for (const name of ['app.runSchedule', 'app.cluster', 'ctx.__', 'ctx.unsafeRedirect', 'helper.surl', 'request.files']) {
      const r = await send(`${info.url}/not-provided?name=${name}`);
      assert.equal(r.status, 500, name);
      const { error } = json<{ error: { code: string; message: string } }>(r);
      assert.equal(error.code, 'CLUTCH_ERR_NOT_PROVIDED', name);
      assert.match(error.message, /is egg's; Clutch does not provide it: .*docs\/coming-from-egg\.md/);
    }
  });

  it('a view engine registered in the function-style app.js, as an egg view plugin class', async () => {
    assert.equal((await send(`${info.url}/upper`)).body, 'HELLO EGG (/UPPER)');
  });

  it("ctx.curl's failures are egg's, coded: a stalled body times out (HttpClientRequestTimeoutError), a refused connection is a RequestError", async () => {
    assert.deepEqual(json(await send(`${info.url}/curl-stall`)), {
      stalled: { name: 'HttpClientRequestTimeoutError', code: 'CLUTCH_ERR_HTTPCLIENT_TIMEOUT' },
      refused: { name: 'RequestError', code: 'CLUTCH_ERR_HTTPCLIENT_FAILED' },
    });
  });

  it("ctx.curl and app.httpclient speak egg's options, on Node's fetch", async () => {
    const r = await send(`${info.url}/curl`);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(json(r), {
      status: 200,
      type: 'application/json; charset=utf-8',
      data: [{ id: 1, title: 'Clutch runs egg projects' }],
      posted: { ok: true, body: { a: 1 } },
      // A cookie and its signature: two Set-Cookie headers, kept apart.
      setCookies: 2,
    });
  });
});

describe('egg-style, one worker from its first request to its stop', { timeout: 60_000 }, () => {
  it('the session is there for a middleware before the built-ins, from the first request; a long background job does not keep beforeClose from running', async () => {
    const { app, info } = await startFixture('egg-style', ['--workers', '1', '--stop-timeout', '4000']);
    try {
      const jar = new Jar();
      assert.deepEqual(json(await send(`${info.url}/early-session`, { jar })), { type: 'object', views: null });
      // A session saved by a later request is what it reads then.
      assert.equal(json<{ views: number }>(await send(`${info.url}/session`, { jar })).views, 1);
      assert.deepEqual(json(await send(`${info.url}/early-session`, { jar })), { type: 'object', views: 1 });
      assert.equal((await send(`${info.url}/slow-bg`)).body, 'slow job queued');
      const began = Date.now();
      app.signal('SIGTERM');
      const exit = await app.waitForExit(15_000);
      assert.equal(exit.code, 0);
      assert.ok(Date.now() - began < 6_000, `the stop took ${Date.now() - began} ms`);
      const out = `${app.stdout}${app.stderr}`;
      assert.match(out, /1 background jobs still running at the stop/);
      assert.match(out, new RegExp(`egg-style beforeClose in ${info.workers[0]}`));
      assert.doesNotMatch(out, /beforeClose did not finish/);
    } finally {
      app.kill();
    }
  });
});

describe('egg-style start errors', { timeout: 60_000 }, () => {
  it('a string route naming no action fails the start, naming it and what exists', async () => {
    const r = await runApp(['start', fixture('egg-style'), '--port', '0', '--workers', '1', '--title', `bad-route-${process.pid}`], 30_000, {
      EGG_STYLE_BAD_ROUTE: '1',
    });
    assert.equal(r.code, 1);
    const out = `${r.stdout}${r.stderr}`;
    assert.match(out, /router\.get\("\/bad", 'home\.nope'\): no controller action home\.nope .*it has: index, ext.*\[CLUTCH_ERR_ROUTER_UNKNOWN_ACTION\]/);
  });

  it('a session option of the wrong kind fails the start, not every request', async () => {
    const r = await runApp(['start', fixture('egg-style'), '--port', '0', '--workers', '1', '--title', `bad-session-${process.pid}`], 30_000, {
      EGG_STYLE_BAD_SESSION: '1',
    });
    assert.equal(r.code, 1);
    assert.match(`${r.stdout}${r.stderr}`, /config\.session\.maxAge must be a number of ms or 'session', got "1d".*\[CLUTCH_ERR_CONFIG_INVALID\]/);
  });

  it("egg's i18n plugin turned on fails the start with CLUTCH_ERR_NOT_PROVIDED, naming what to use", async () => {
    const r = await runApp(['start', fixture('egg-style'), '--port', '0', '--workers', '1', '--title', `egg-i18n-${process.pid}`], 30_000, {
      EGG_STYLE_I18N: '1',
    });
    assert.equal(r.code, 1);
    assert.match(`${r.stdout}${r.stderr}`, /plugin "i18n" is egg's i18n; Clutch does not provide it: use an i18n library.*\[CLUTCH_ERR_NOT_PROVIDED\]/);
  });

  it('an egg plugin that calls an egg API Clutch lacks (app.cluster) fails the start naming the plugin and the API', async () => {
    const r = await runApp(['start', fixture('egg-style'), '--port', '0', '--workers', '1', '--title', `egg-plugin-${process.pid}`], 30_000, {
      EGG_STYLE_EGG_PLUGIN: '1',
    });
    assert.equal(r.code, 1);
    assert.match(
      `${r.stdout}${r.stderr}`,
      /egg-plugin\/app\.js \(plugin eggOnly\) failed: app\.cluster is egg's; Clutch does not provide it.*\[CLUTCH_ERR_NOT_PROVIDED\]/,
    );
  });
});
