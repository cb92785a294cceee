import type { LegacyDecrypt } from './cookie-cipher.js';

/**
 * Reads values egg encrypted (`{ encrypt: true }` cookies and egg-session's cookie), for
 * `config.cookies.readEggEncrypted` while a deployment moves from egg. The format is egg-cookies'
 * own, so it is decrypted by egg-cookies' own Keygrip rather than a copy of it: AES-256-CBC under a
 * key and IV derived from each config key, base64url. It is not authenticated — a value can be
 * altered without a key — which is why this is off by default and every value read this way is
 * stale: the session is written again in Clutch's format at once.
 */
export async function eggDecrypt(keys: readonly string[]): Promise<LegacyDecrypt> {
  const { Keygrip } = await import('@eggjs/cookies');
  const grip = new Keygrip([...keys]);
  return (value) => {
    // egg-cookies' base64 is url-safe with padding; Node's base64 decoder reads both alphabets.
    const decrypted = grip.decrypt(Buffer.from(value, 'base64'));
    return decrypted ? { value: decrypted.value.toString('utf8'), stale: true } : null;
  };
}
