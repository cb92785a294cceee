import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cookies as EggCookies } from '@eggjs/cookies';
import { CookieCipher } from '../../packages/core/src/egg/cookie-cipher.ts';
import { eggFormat } from '../../packages/core/src/egg/egg-cookie-format.ts';

describe('CookieCipher: what decrypts, and with which key', () => {
  const cipher = new CookieCipher(['new', 'old']);
  const old = new CookieCipher(['old']);

  it('round-trips, with a fresh IV each time; the first key encrypts, every key decrypts', () => {
    const a = cipher.encrypt('sid', 'user=7; role=admin');
    assert.notEqual(a, cipher.encrypt('sid', 'user=7; role=admin'), 'two encryptions of one value differ');
    assert.match(a, /^[A-Za-z0-9_-]+$/, 'base64url: a valid cookie value');
    assert.deepEqual(cipher.decrypt('sid', a), { value: 'user=7; role=admin', stale: false });
    assert.deepEqual(cipher.decrypt('sid', old.encrypt('sid', 'x')), { value: 'x', stale: true });
    assert.equal(old.decrypt('sid', a), null, 'written under "new": "old" alone cannot read it');
    assert.deepEqual(cipher.decrypt('sid', cipher.encrypt('sid', '')), { value: '', stale: false });
  });

  it('refuses every changed byte, another name, and what is not a value of its own', () => {
    const value = cipher.encrypt('sid', 'a value long enough to span blocks, 0123456789');
    const raw = Buffer.from(value, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const changed = Buffer.from(raw);
      changed[i] = changed[i]! ^ 1;
      assert.equal(cipher.decrypt('sid', changed.toString('base64url')), null, `byte ${i} changed`);
    }
    assert.equal(cipher.decrypt('sid', raw.subarray(0, raw.length - 1).toString('base64url')), null, 'truncated');
    assert.equal(cipher.decrypt('other', value), null, 'moved to another cookie');
    for (const junk of ['', 'abc', '%%%', 'A'.repeat(200)]) assert.equal(cipher.decrypt('sid', junk), null, junk);
    assert.equal(new CookieCipher(['someone-else']).decrypt('sid', value), null);
  });

  it("asks the legacy format (egg's) only for what its own does not decrypt, and marks it stale", async () => {
    let headers: string[] = [];
    const ctx = { secure: false, app: { emit: () => true }, get: () => '', response: { get: () => headers }, set: (_n: string, v: string[]) => (headers = v) };
    new EggCookies(ctx, ['old']).set('token', 'from egg', { encrypt: true });
    const egg = headers[0]!.split(';')[0]!.slice('token='.length);
    const withEgg = new CookieCipher(['new', 'old'], (await eggFormat(['new', 'old'])).decrypt);
    assert.deepEqual(withEgg.decrypt('token', egg), { value: 'from egg', stale: true });
    assert.equal(cipher.decrypt('token', egg), null, 'not without it');
    assert.deepEqual(withEgg.decrypt('token', withEgg.encrypt('token', 'own')), { value: 'own', stale: false });
  });
});
