import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { fixture, startFixture, type AppProcess } from '../helpers/cluster.ts';
import { copyFixture } from '../helpers/project.ts';
import { loadSchedules } from '../../packages/core/src/loader/schedules.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', agent: false, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

const json = <T = Record<string, unknown>>(r: Reply): T => JSON.parse(r.body) as T;

/** A multipart/form-data body, its parts in order. */
function form(parts: Array<{ name: string; value: string } | { name: string; filename: string; data: Buffer }>): {
  headers: Record<string, string>;
  body: Buffer;
} {
  const boundary = `----clutch${Date.now()}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const head =
      'filename' in part
        ? `Content-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: application/octet-stream`
        : `Content-Disposition: form-data; name="${part.name}"`;
    chunks.push(Buffer.from(`--${boundary}\r\n${head}\r\n\r\n`), 'filename' in part ? part.data : Buffer.from(part.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.concat(chunks) };
}

// Each idiom below used to differ from egg without a word: a wrong answer with a 200, or a setting ignored.
describe('egg idioms that differed silently, on the real app command', { timeout: 90_000 }, () => {
  const project = copyFixture('egg-differences');
  let app: AppProcess;
  let info: ClusterReadyInfo;
  const assetsDir = join(project.dir, 'app', 'assets');
  let assetsBefore = true;
  before(async () => {
    assetsBefore = existsSync(assetsDir);
    // EGG_SERVER_ENV read as CLUTCH_ENV is (an empty CLUTCH_ENV= counts as unset, as egg reads its own); a cron with egg's N/step (the start failed on it before).
    ({ app, info } = await startFixture(project.dir, ['--workers', '1'], { env: { EGG_SERVER_ENV: 'staging', CLUTCH_ENV: '' } }));
  });
  after(() => {
    app?.kill();
    project.remove();
  });

  it("EGG_SERVER_ENV picks the config env, as egg's does", async () => {
    assert.deepEqual(json(await send(`${info.url}/env`)), { env: 'staging', greeting: 'staging' });
  });

  it('the static plugin made its missing dir, as egg-static does', () => {
    assert.equal(assetsBefore, false, 'the fixture has no app/assets');
    assert.ok(existsSync(assetsDir));
  });

  it('config.siteFile: a URL redirects, a Buffer is served, a function decides', async () => {
    const favicon = await send(`${info.url}/favicon.ico`);
    assert.deepEqual([favicon.status, favicon.headers.location], [302, 'https://cdn.example.test/favicon.png']);
    const robots = await send(`${info.url}/robots.txt`);
    assert.deepEqual([robots.status, robots.body, robots.headers['cache-control']], [200, 'User-agent: *\nDisallow:\n', 'public, max-age=86400']);
    assert.equal((await send(`${info.url}/maybe.txt?give=1`)).body, 'given');
    assert.equal((await send(`${info.url}/maybe.txt`)).status, 404);
  });

  it("CSRF as egg's: the csrfToken cookie is readable by page scripts and is a valid x-csrf-token", async () => {
    const page = await send(`${info.url}/csrf`);
    const line = ([] as string[]).concat(page.headers['set-cookie'] ?? []).find((c) => c.startsWith('csrfToken='))!;
    assert.ok(line, 'the csrfToken cookie is set');
    assert.doesNotMatch(line, /httponly/i);
    const secret = line.slice('csrfToken='.length, line.indexOf(';'));
    const cookie = `csrfToken=${secret}`;
    const viaCookie = await send(`${info.url}/submit`, { method: 'POST', headers: { cookie, 'x-csrf-token': secret } });
    assert.deepEqual([viaCookie.status, json(viaCookie)], [200, { ok: true }]);
    const viaToken = await send(`${info.url}/submit`, { method: 'POST', headers: { cookie, 'x-csrf-token': json<{ token: string }>(page).token } });
    assert.equal(viaToken.status, 200, 'ctx.csrf keeps working');
    const forged = await send(`${info.url}/submit`, { method: 'POST', headers: { cookie, 'x-csrf-token': `${secret}x` } });
    assert.equal(forged.status, 403);
    assert.match(forged.body, /CLUTCH_ERR_CSRF_INVALID/);
  });

  it('nunjucks: app/extend/filter registers filters, and app.js reaches app.nunjucks', async () => {
    const page = await send(`${info.url}/filters`);
    assert.deepEqual([page.status, page.body.trim()], [200, 'EGG! [egg] clutch']);
  });

  it("helper.shtml sanitizes as egg-security's (the xss package): scripts, handlers and javascript: URLs go, safe tags stay", async () => {
    const { html, notString } = json<{ html: string; notString: number }>(await send(`${info.url}/shtml`));
    assert.doesNotMatch(html, /<script|onclick|javascript:/i);
    assert.match(html, /^<p>hi <b>there<\/b>/);
    assert.match(html, /<a href>link<\/a><\/p>$/, 'the javascript: URL is gone, the link stays');
    assert.equal(notString, 42);
  });

  it('a third-party view middleware (as koa-views) setting ctx.render takes over the requests it handles', async () => {
    const page = await send(`${info.url}/koa-views`);
    assert.deepEqual([page.status, page.body], [200, 'third-party page koa']);
    assert.equal((await send(`${info.url}/filters`)).body.trim(), 'EGG! [egg] clutch', 'the built-in still renders the others');
  });

  it('an app.use() in app.js that answers a POST before the built-ins is warned about, once', async () => {
    const warning = /the middleware earlyHook, app\.use\(\)d before the built-in middleware \(in app\.js\), answered POST \/early-hook itself/;
    assert.doesNotMatch(app.stdout + app.stderr, warning, 'nothing said before it happens');
    for (let i = 0; i < 2; i++) {
      const res = await send(`${info.url}/early-hook`, { method: 'POST' });
      assert.deepEqual([res.status, json(res)], [200, { early: true }], 'it runs before the CSRF check, as in egg');
    }
    await app.waitForLine(warning, 10_000);
    // A later request is not said again.
    await send(`${info.url}/early-hook`, { method: 'POST' });
    await send(`${info.url}/env`);
    assert.equal((app.stdout + app.stderr).split('\n').filter((l) => warning.test(l)).length, 1);
  });

  it("ctx.curl takes urllib's string durations and [connect, response] pairs, and streaming", async () => {
    const curl = async (mode: string) =>
      json<{ value?: unknown; error?: { name: string; code: string; message: string } }>(await send(`${info.url}/curl?mode=${mode}`));
    assert.deepEqual(await curl('string'), { value: 'slow' });
    assert.deepEqual(await curl('pair'), { value: 'slow' });
    const short = await curl('short');
    assert.deepEqual([short.error?.name, short.error?.code], ['HttpClientRequestTimeoutError', 'CLUTCH_ERR_HTTPCLIENT_TIMEOUT']);
    assert.match(short.error!.message, /timed out after 150ms/);
    assert.deepEqual(await curl('stream'), { value: { status: 200, data: null, bytes: 100_000, readable: true } });
  });

  it('an option ctx.curl cannot take is a coded error, never ignored', async () => {
    const unknown = json<{ error: { code: string; message: string } }>(await send(`${info.url}/curl?mode=unknown`));
    assert.equal(unknown.error.code, 'CLUTCH_ERR_HTTPCLIENT_OPTION_INVALID');
    assert.match(unknown.error.message, /agent is not taken/);
    const bad = json<{ error: { code: string; message: string } }>(await send(`${info.url}/curl?mode=badTimeout`));
    assert.equal(bad.error.code, 'CLUTCH_ERR_HTTPCLIENT_OPTION_INVALID');
    assert.match(bad.error.message, /3 parsecs/);
  });

  it("ctx.multipart({ autoFields: true }) is egg's co-busboy loop: files as parts, fields in parts.field", async () => {
    const upload = form([
      { name: 'title', value: 'holiday' },
      { name: 'photo', filename: 'a.png', data: Buffer.alloc(1000, 1) },
      { name: 'tag', value: 'sea' },
      { name: 'tag', value: 'sun' },
      { name: 'photo', filename: 'b.png', data: Buffer.alloc(10, 2) },
    ]);
    const res = await send(`${info.url}/upload/auto`, { method: 'POST', headers: upload.headers, body: upload.body });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(json(res), {
      files: [
        { field: 'photo', filename: 'a.png', bytes: 1000 },
        { field: 'photo', filename: 'b.png', bytes: 10 },
      ],
      field: { title: 'holiday', tag: ['sea', 'sun'] },
      fields: ['title', 'tag', 'tag'],
    });
  });

  it('without autoFields, fields are parts, in order (and for await still works)', async () => {
    const upload = form([
      { name: 'a', value: '1' },
      { name: 'f', filename: 'x.txt', data: Buffer.from('hello') },
      { name: 'b', value: '2' },
    ]);
    const res = await send(`${info.url}/upload/parts`, { method: 'POST', headers: upload.headers, body: upload.body });
    assert.deepEqual(json(res), { seen: ['field:a=1', 'file:x.txt:5', 'field:b=2'] });
  });
});

describe("cron as egg's cron-parser reads it", () => {
  it("'25/30 * * * * *' runs at seconds 25 and 55 of each minute (the start above accepts it)", async () => {
    const [schedule] = await loadSchedules([{ name: 'egg-differences', path: fixture('egg-differences'), type: 'app' }]);
    const runs = schedule!.cron!.nextRuns(4, new Date('2026-01-01T00:00:00Z')).map((d) => d.toISOString().slice(14, 19));
    assert.deepEqual(runs, ['00:25', '00:55', '01:25', '01:55']);
  });
});

describe('app start --env still wins over EGG_SERVER_ENV', { timeout: 60_000 }, () => {
  // A copy: the start makes app/assets, which the fixture itself must never get.
  const project = copyFixture('egg-differences');
  let app: AppProcess | undefined;
  after(() => {
    app?.kill();
    project.remove();
  });

  it('--env local with EGG_SERVER_ENV=staging boots local', async () => {
    const started = await startFixture(project.dir, ['--workers', '1', '--env', 'local'], { env: { EGG_SERVER_ENV: 'staging', CLUTCH_ENV: undefined } });
    app = started.app;
    assert.deepEqual(json(await send(`${started.info.url}/env`)), { env: 'local', greeting: 'default' });
    app.signal('SIGTERM');
    assert.deepEqual(await app.waitForExit(20_000), { code: 0, signal: null });
  });
});
