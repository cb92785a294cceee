import type { LegacyDecrypt } from './cookie-cipher.js';

/** egg-cookies' signature check: true when `signature` is egg's for `data` under one of the keys. */
export type EggVerify = (data: string, signature: string) => boolean;

/**
 * Reads cookies as egg wrote them, for `config.cookies.readEggCookies` while a deployment moves
 * from egg: its signed cookies (HMAC-SHA256, where the `cookies` package Koa uses signs with
 * HMAC-SHA1, so none of egg's signatures would hold) and its encrypted ones (`{ encrypt: true }`
 * and egg-session's cookie). The formats are egg-cookies' own, so egg-cookies' own Keygrip reads
 * them rather than a copy of it. Its encryption (AES-256-CBC under a key and IV derived from each
 * config key) is not authenticated — a value can be altered without a key — which is why this is
 * off by default; every value read this way is stale, and the session is written again at once in
 * Clutch's format.
 */
export async function eggFormat(keys: readonly string[]): Promise<{ decrypt: LegacyDecrypt; verify: EggVerify }> {
  const { Keygrip } = await import('@eggjs/cookies');
  const grip = new Keygrip([...keys]);
  return {
    decrypt: (value) => {
      // egg-cookies' base64 is url-safe with padding; Node's base64 decoder reads both alphabets.
      const decrypted = grip.decrypt(Buffer.from(value, 'base64'));
      return decrypted ? { value: decrypted.value.toString('utf8'), stale: true } : null;
    },
    verify: (data, signature) => grip.verify(data, signature) >= 0,
  };
}
