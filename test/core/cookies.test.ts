import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Cookies as EggCookies } from '@eggjs/cookies';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { fixture, runApp, startFixture, type AppProcess } from '../helpers/cluster.ts';

/** What the fixture keeps in every session it counts: it must not be readable in the cookie. */
const ROLE = 'admin-role-7f3a';

interface Reply {
  status: number;
  body: Record<string, unknown>;
  setCookie: string[];
}

/** The cookies a browser would keep: name → value, as the server last set them. */
class Jar extends Map<string, string> {
  take(setCookie: string[]): void {
    for (const line of setCookie) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const value = pair!.slice(at + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.delete(pair!.slice(0, at));
      else this.set(pair!.slice(0, at), value);
    }
  }
  header(): string {
    return [...this].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  copy(): Jar {
    return new Jar(this);
  }
}

/** One GET on a fresh connection (so two workers take turns), with the cookies of `jar`, which keeps what it is sent. */
function send(url: string, jar: Jar): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: jar.size ? { cookie: jar.header() } : {} }, (res) => {
      let raw = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (raw += c));
      res.on('end', () => {
        const setCookie = res.headers['set-cookie'] ?? [];
        jar.take(setCookie);
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(raw) as Record<string, unknown>, setCookie });
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Every reading of a cookie value someone could try: as sent, and base64-decoded up to three times. */
function readings(value: string): string {
  const out = [value];
  let level = value;
  for (let i = 0; i < 3; i++) {
    level = Buffer.from(level, 'base64').toString('latin1');
    out.push(level);
  }
  return out.join('\n');
}

/** The cookies egg would set for `name` (egg-session's: koa-session's base64 JSON), made by egg-cookies itself: name → value. */
function eggCookies(name: string, value: string, keys: string[], options: { encrypt?: boolean } = {}): Map<string, string> {
  let headers: string[] = [];
  const ctx = {
    secure: false,
    app: { emit: () => true },
    get: () => '',
    response: { get: () => headers },
    set: (_name: string, value: string[]) => (headers = value),
  };
  new EggCookies(ctx, keys).set(name, value, options);
  return new Map(headers.map((h) => h.split(';')[0]!.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

const sessionOf = (views: number) => Buffer.from(JSON.stringify({ views, role: ROLE, _expire: Date.now() + 3_600_000, _maxAge: 3_600_000 })).toString('base64');

describe('encrypted cookies and the encrypted session, on the real app command', { timeout: 120_000 }, () => {
  const apps: AppProcess[] = [];
  // keys 'new-key,old-key': a deployment that rotated its keys; two workers.
  let main: ClusterReadyInfo;
  // keys 'old-key' only: the same deployment before the rotation.
  let old: ClusterReadyInfo;
  // keys 'old-key', config.session.encrypt false: a session as Clutch wrote it before encryption.
  let signedOnly: ClusterReadyInfo;
  // keys 'new-key' only: the old key removed.
  let removed: ClusterReadyInfo;
  // keys 'new-key,old-key', egg's cookie name and config.cookies.readEggCookies: moving from egg.
  let fromEgg: ClusterReadyInfo;
  let mainApp: AppProcess;

  const start = async (env: NodeJS.ProcessEnv, workers = 1) => {
    const { app, info } = await startFixture('cookies', ['--workers', String(workers)], { env, timeoutMs: 30_000 });
    apps.push(app);
    return { app, info };
  };

  before(async () => {
    // Two at a time: the machine has two cores, and other tests run beside these.
    [{ app: mainApp, info: main }, { info: old }] = await Promise.all([start({ COOKIES_KEYS: 'new-key,old-key' }, 2), start({ COOKIES_KEYS: 'old-key' })]);
    [{ info: signedOnly }, { info: removed }] = await Promise.all([
      start({ COOKIES_KEYS: 'old-key', COOKIES_SESSION_ENCRYPT: '0' }),
      start({ COOKIES_KEYS: 'new-key' }),
    ]);
    ({ info: fromEgg } = await start({ COOKIES_KEYS: 'new-key,old-key', COOKIES_SESSION_KEY: 'EGG_SESS', COOKIES_READ_EGG: '1' }));
  });
  after(() => {
    for (const app of apps) app.kill();
  });

  it('the session cookie decodes to no plaintext of the session and carries it across both workers', async () => {
    const jar = new Jar();
    const pids = new Set<unknown>();
    for (let i = 1; i <= 6; i++) {
      const r = await send(`${main.url}/session`, jar);
      assert.equal(r.body.views, i);
      pids.add(r.body.pid);
    }
    assert.equal(pids.size, 2, 'both workers served the session');
    assert.deepEqual([...jar.keys()], ['CLUTCH_SESS'], 'encrypted, so not signed: no .sig');
    const seen = readings(jar.get('CLUTCH_SESS')!);
    for (const secret of [ROLE, 'views', '_expire']) assert.ok(!seen.includes(secret), `"${secret}" readable in ${seen}`);
  });

  it('an encrypt: true cookie round-trips on both workers and carries no plaintext', async () => {
    const jar = new Jar();
    await send(`${main.url}/token/set?v=tok-9b1e-secret`, jar);
    assert.deepEqual([...jar.keys()], ['token']);
    assert.ok(!readings(jar.get('token')!).includes('tok-9b1e-secret'), readings(jar.get('token')!));
    const pids = new Set<unknown>();
    for (let i = 0; i < 4; i++) {
      const r = await send(`${main.url}/token`, jar);
      assert.equal(r.body.token, 'tok-9b1e-secret');
      pids.add(r.body.pid);
    }
    assert.equal(pids.size, 2);
  });

  it('a tampered or foreign ciphertext reads as absent (200), logged once per burst in each worker', async () => {
    const jar = new Jar();
    await send(`${main.url}/session`, jar);
    await send(`${main.url}/token/set?v=kept`, jar);
    const flip = (v: string) => `${v.slice(0, 20)}${v[20] === 'A' ? 'B' : 'A'}${v.slice(21)}`;
    const tampered = new Jar([
      ['CLUTCH_SESS', flip(jar.get('CLUTCH_SESS')!)],
      ['token', flip(jar.get('token')!)],
    ]);
    // This app's own value moved to another cookie's name.
    const moved = new Jar([['token', jar.get('CLUTCH_SESS')!]]);
    for (let i = 0; i < 6; i++) {
      const r = await send(`${main.url}/token`, tampered.copy());
      assert.deepEqual([r.status, r.body.token], [200, null]);
      const s = await send(`${main.url}/session`, tampered.copy());
      assert.deepEqual([s.status, s.body.views], [200, 1], 'a new session');
    }
    assert.equal((await send(`${main.url}/token`, moved)).body.token, null);
    // Another deployment's ciphertext (keys this one does not have).
    const foreign = new Jar();
    await send(`${old.url}/token/set?v=elsewhere`, foreign);
    const other = await send(`${removed.url}/token`, foreign);
    assert.deepEqual([other.status, other.body.token], [200, null]);
    const lines = `${mainApp.stdout}${mainApp.stderr}`.split('\n').filter((l) => l.includes('CLUTCH_ERR_COOKIE_UNREADABLE'));
    for (const name of ['CLUTCH_SESS', 'token']) {
      const n = lines.filter((l) => l.includes(`cookie "${name}"`)).length;
      assert.ok(n >= 1 && n <= 2, `${n} lines for ${name} after 6+ refusals on 2 workers:\n${lines.join('\n')}`);
    }
  });

  it('key rotation: a new first key reads cookies of the old one, and what it writes needs only the new one', async () => {
    const jar = new Jar();
    await send(`${old.url}/session`, jar);
    await send(`${old.url}/session`, jar);
    await send(`${old.url}/token/set?v=from-old`, jar);
    const before = jar.copy();
    // The old key alone is gone: those cookies read as absent where it was removed.
    assert.equal((await send(`${removed.url}/session/peek`, before.copy())).body.views, null);
    assert.equal((await send(`${removed.url}/token`, before.copy())).body.token, null);
    // The rotated deployment reads them, and writes the session again under the new key though it
    // did not change.
    const peek = await send(`${main.url}/session/peek`, jar);
    assert.equal(peek.body.views, 2);
    assert.ok(
      peek.setCookie.some((c) => c.startsWith('CLUTCH_SESS=')),
      `rewritten: ${peek.setCookie.join(' | ')}`,
    );
    assert.equal((await send(`${main.url}/token`, jar)).body.token, 'from-old');
    await send(`${main.url}/token/set?v=from-new`, jar);
    assert.deepEqual((await send(`${removed.url}/session/peek`, jar.copy())).body.views, 2);
    assert.deepEqual((await send(`${removed.url}/token`, jar.copy())).body.token, 'from-new');
  });

  it('a signed-only session from before the change is read once and rewritten encrypted', async () => {
    const jar = new Jar();
    await send(`${signedOnly.url}/session`, jar);
    await send(`${signedOnly.url}/session`, jar);
    assert.deepEqual([...jar.keys()].sort(), ['CLUTCH_SESS', 'CLUTCH_SESS.sig']);
    // encrypt: false is readable, as documented — and the check above would see it.
    assert.ok(readings(jar.get('CLUTCH_SESS')!).includes(ROLE));
    const forged = jar.copy();
    forged.set('CLUTCH_SESS', sessionOf(1000));
    const r = await send(`${main.url}/session/peek`, jar);
    assert.equal(r.body.views, 2);
    assert.ok(
      r.setCookie.some((c) => /^CLUTCH_SESS\.sig=;/.test(c)),
      `the stale .sig is emptied: ${r.setCookie.join(' | ')}`,
    );
    assert.deepEqual([...jar.keys()], ['CLUTCH_SESS']);
    assert.ok(!readings(jar.get('CLUTCH_SESS')!).includes(ROLE), 'now encrypted');
    assert.equal((await send(`${main.url}/session`, jar)).body.views, 3);
    // Signed only still means signed: a changed value under the old signature is not read.
    assert.equal((await send(`${main.url}/session/peek`, forged)).body.views, null);
  });

  it("reads egg's own cookies, encrypted and signed, when config.cookies.readEggCookies is on, and writes the session in Clutch's format", async () => {
    const keys = ['new-key', 'old-key'];
    const encrypted = eggCookies('EGG_SESS', sessionOf(41), keys, { encrypt: true });
    assert.deepEqual([...encrypted.keys()], ['EGG_SESS'], "egg's encrypted cookie has no .sig");
    const jar = new Jar([...encrypted, ...eggCookies('token', 'egg-token', keys, { encrypt: true }), ...eggCookies('remember', 'egg-me', keys)]);
    assert.ok(jar.has('remember.sig'));
    const egg = jar.copy();
    const peek = await send(`${fromEgg.url}/session/peek`, jar);
    assert.equal(peek.body.views, 41);
    assert.ok(
      peek.setCookie.some((c) => c.startsWith('EGG_SESS=')),
      'rewritten at once',
    );
    assert.equal((await send(`${fromEgg.url}/token`, jar)).body.token, 'egg-token');
    assert.equal((await send(`${fromEgg.url}/remember`, jar)).body.remember, 'egg-me', "egg's HMAC-SHA256 signature");
    assert.equal((await send(`${fromEgg.url}/remember`, jar)).body.remember, 'egg-me', 'and its .sig was left in place');
    assert.equal((await send(`${fromEgg.url}/session`, jar)).body.views, 42);
    // Without the option, egg's formats are not read.
    assert.equal((await send(`${main.url}/token`, egg.copy())).body.token, null);
    assert.equal((await send(`${main.url}/remember`, egg.copy())).body.remember, null);
    // The rewritten session is Clutch's own: read where egg's format is not.
    const rewritten = new Jar([['CLUTCH_SESS', jar.get('EGG_SESS')!]]);
    assert.equal((await send(`${main.url}/session/peek`, rewritten)).body.views, null, 'bound to its cookie name');
    // egg-session with encrypt: false (signed with egg's HMAC-SHA256): read, then written encrypted.
    const signed = new Jar(eggCookies('EGG_SESS', sessionOf(7), keys));
    assert.deepEqual([...signed.keys()].sort(), ['EGG_SESS', 'EGG_SESS.sig']);
    const r = await send(`${fromEgg.url}/session/peek`, signed);
    assert.equal(r.body.views, 7);
    assert.deepEqual([...signed.keys()], ['EGG_SESS'], `encrypted, its .sig emptied: ${r.setCookie.join(' | ')}`);
    assert.ok(!readings(signed.get('EGG_SESS')!).includes(ROLE));
    assert.equal((await send(`${fromEgg.url}/session`, signed)).body.views, 8);
  });

  it("deletes as egg does: a signed cookie's .sig is emptied; the encrypted session is emptied", async () => {
    const jar = new Jar();
    await send(`${main.url}/remember/set`, jar);
    assert.deepEqual([...jar.keys()].sort(), ['remember', 'remember.sig']);
    const del = await send(`${main.url}/remember/delete`, jar);
    const expired = (name: string) => del.setCookie.find((c) => c.startsWith(`${name}=`)) ?? '';
    assert.match(expired('remember'), /^remember=;.*expires=Thu, 01 Jan 1970/);
    assert.match(expired('remember.sig'), /^remember\.sig=;.*expires=Thu, 01 Jan 1970/);
    // The signed-only session's logout, and the encrypted one's.
    const legacy = new Jar();
    await send(`${signedOnly.url}/session`, legacy);
    const out = await send(`${signedOnly.url}/logout`, legacy);
    assert.ok(
      out.setCookie.some((c) => /^CLUTCH_SESS\.sig=;.*expires=Thu, 01 Jan 1970/.test(c)),
      out.setCookie.join(' | '),
    );
    const current = new Jar();
    await send(`${main.url}/session`, current);
    const gone = await send(`${main.url}/logout`, current);
    assert.deepEqual(
      gone.setCookie.map((c) => c.split(';')[0]),
      ['CLUTCH_SESS='],
    );
    assert.equal(current.size, 0);
  });

  it('config.cookies.readEggCookies of the wrong kind fails the start', async () => {
    const r = await runApp(['start', fixture('cookies'), '--port', '0', '--workers', '1', '--title', `cookies-bad-${process.pid}`], 30_000, {
      COOKIES_READ_EGG: 'yes',
    });
    assert.equal(r.code, 1);
    assert.match(`${r.stdout}${r.stderr}`, /config\.cookies\.readEggCookies must be true or false, got "yes".*\[CLUTCH_ERR_CONFIG_INVALID\]/);
  });
});
