import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** The first byte of every value: a later format can be told apart from this one. */
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const INFO = 'clutch cookie encryption v1';

/** What a value decrypted to; `stale` when it should be written again (under a key that no longer encrypts, or in egg's format). */
export interface Decrypted {
  value: string;
  stale: boolean;
}

/** Decrypts a value in another format (egg's) with the same keys, or says it cannot. */
export type LegacyDecrypt = (value: string) => Decrypted | null;

/**
 * The encryption of `{ encrypt: true }` cookies and of the session: AES-256-GCM, authenticated, with
 * a fresh IV per value, so a value can neither be read nor changed without a key. One AES key is
 * derived from each of config.keys by HKDF-SHA256 (the keys are strings of any length; GCM needs
 * 32 bytes, and a key used to sign must not be the AES key itself). The first key encrypts, every
 * key decrypts, so keys rotate as egg's do.
 *
 * A value is base64url(version ‖ IV ‖ ciphertext ‖ tag), and the version and the cookie's name are
 * authenticated with it: a value copied into a cookie of another name does not decrypt.
 */
export class CookieCipher {
  readonly #keys: Buffer[];
  readonly #legacy: LegacyDecrypt | null;

  constructor(keys: readonly string[], legacy: LegacyDecrypt | null = null) {
    if (keys.length === 0) throw new TypeError('CookieCipher needs at least one key');
    this.#keys = keys.map((k) => Buffer.from(hkdfSync('sha256', k, '', INFO, 32)));
    this.#legacy = legacy;
  }

  encrypt(name: string, value: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys[0]!, iv);
    cipher.setAAD(aad(name));
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The value, or null when no key authenticates it (tampered, foreign, or under a key since removed). */
  decrypt(name: string, value: string): Decrypted | null {
    return this.#decrypt(name, value) ?? this.#legacy?.(value) ?? null;
  }

  #decrypt(name: string, value: string): Decrypted | null {
    const raw = Buffer.from(value, 'base64url');
    if (raw.length < 1 + IV_BYTES + TAG_BYTES || raw[0] !== VERSION) return null;
    const iv = raw.subarray(1, 1 + IV_BYTES);
    const body = raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    for (let index = 0; index < this.#keys.length; index++) {
      const decipher = createDecipheriv('aes-256-gcm', this.#keys[index]!, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(name));
      decipher.setAuthTag(tag);
      try {
        return { value: Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8'), stale: index > 0 };
      } catch {
        // Not this key (final() refuses a tag it cannot authenticate): the next one.
      }
    }
    return null;
  }
}

function aad(name: string): Buffer {
  return Buffer.concat([Buffer.of(VERSION), Buffer.from(name, 'utf8')]);
}
