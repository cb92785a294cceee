import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect, type ClientHttp2Session } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { commandOf, startFixture, type AppProcess } from '../helpers/cluster.ts';

/** One HTTPS/1.1 GET on a connection of its own; resolves with the JSON body. */
function getTls(url: string): Promise<{ pid: number; httpVersion: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}/`, { agent: false, rejectUnauthorized: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve(JSON.parse(body) as { pid: number; httpVersion: string }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** One HTTP/2 request on `session`. */
function h2get(session: ClientHttp2Session): Promise<{ status: number; body: { pid: number; httpVersion: string } }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': '/' });
    let status = 0;
    let body = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.setEncoding('utf8').on('data', (c: string) => (body += c));
    stream.on('end', () => resolve({ status, body: JSON.parse(body) as { pid: number; httpVersion: string } }));
    stream.on('error', reject);
    stream.end();
  });
}

/** What an HTTP/2 load saw: answers, failures, and which worker pids answered. */
type H2Result = { ok: number; failed: number; errors: string[]; pids: Set<number> };

/**
 * HTTP/2 load as a browser makes it: `loops` clients, each on a session until the server sends
 * GOAWAY (then a new session), each request sent at once after the last. A stream the server
 * refused (REFUSED_STREAM: never processed, so safe to send again — RFC 9113 §8.7) is sent again, as
 * browsers do; anything else is a failure. It runs for `durationMs`, or until `stopWhen` holds.
 */
function h2load(
  url: string,
  loops: number,
  durationMs: number,
  stopWhen: (r: H2Result) => boolean = () => false,
): { result: H2Result; done: Promise<H2Result> } {
  const result: H2Result = { ok: 0, failed: 0, errors: [], pids: new Set<number>() };
  const deadline = Date.now() + durationMs;
  const done = Promise.all(
    Array.from({ length: loops }, async () => {
      let session: ClientHttp2Session | null = null;
      let away = false;
      while (Date.now() < deadline && !stopWhen(result)) {
        if (!session || away || session.closed || session.destroyed) {
          session?.close();
          away = false;
          const s = connect(url, { rejectUnauthorized: false });
          s.on('goaway', () => (away = true));
          s.on('error', () => {});
          session = s;
        }
        try {
          const { status, body } = await h2get(session);
          if (status === 200) {
            result.ok++;
            result.pids.add(body.pid);
          } else {
            result.failed++;
            result.errors.push(`status ${status}`);
          }
        } catch (err) {
          const e = err as Error & { code?: string };
          // Refused before it was processed (after a GOAWAY), or the session closed under a request not yet sent: safe to send again.
          if (/REFUSED_STREAM|GOAWAY/.test(e.message) || e.code === 'ERR_HTTP2_GOAWAY_SESSION' || e.code === 'ERR_HTTP2_INVALID_SESSION') {
            away = true;
            continue;
          }
          result.failed++;
          result.errors.push(e.code ?? e.message);
        }
      }
      session?.close();
    }),
  ).then(() => result);
  return { result, done };
}

describe('HTTPS and HTTP/2 through the workers', { timeout: 90_000 }, () => {
  const started: AppProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'clutch-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  before(() => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], {
      stdio: 'ignore',
    });
  });
  after(() => {
    for (const app of started) app.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('HTTPS/1.1: the ready line shows https://, and both workers answer', async () => {
    const { app, info } = await startFixture('secure', ['--workers', '2'], { env: { TLS_KEY: key, TLS_CERT: cert } });
    started.push(app);
    assert.match(info.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(app.stdout, /started on https:\/\//);
    const pids = new Set<number>();
    for (let i = 0; i < 20 && pids.size < 2; i++) {
      const body = await getTls(info.url);
      assert.equal(body.httpVersion, '1.1');
      pids.add(body.pid);
    }
    assert.deepEqual([...pids].sort(), [...info.workers].sort());
  });

  it('HTTP/2 with HTTP/1.1 fallback; a reload under HTTP/2 load fails nothing', async () => {
    const { app, info } = await startFixture('secure', ['--workers', '2'], { env: { TLS_KEY: key, TLS_CERT: cert, HTTP2: '1' } });
    started.push(app);
    const session = connect(info.url, { rejectUnauthorized: false });
    const { body } = await h2get(session);
    assert.equal(body.httpVersion, '2.0');
    session.close();
    assert.equal((await getTls(info.url)).httpVersion, '1.1', 'an HTTP/1.1 client is answered too');

    // The load runs until, after the reload, the new workers have answered 200 requests (30 s at most).
    let reloaded = false;
    const fromNew = (r: H2Result) => [...r.pids].some((pid) => !info.workers.includes(pid));
    let okAtReload = 0;
    const load = h2load(info.url, 6, 30_000, (r) => reloaded && fromNew(r) && r.ok >= okAtReload + 200);
    while (load.result.ok < 100) await new Promise((r) => setTimeout(r, 20));
    const reload = await commandOf(app, 'reload');
    assert.equal(reload.code, 0, reload.stderr);
    okAtReload = load.result.ok;
    reloaded = true;
    const result = await load.done;
    assert.deepEqual(result.errors, [], 'no request failed');
    assert.ok(result.ok > 200, `${result.ok} requests`);
    assert.ok(
      [...result.pids].some((pid) => !info.workers.includes(pid)),
      'the new workers served',
    );
  });
});
