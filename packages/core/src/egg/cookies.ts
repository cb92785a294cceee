import type { Logger } from '@clutch/cluster';
import { RepeatFilter } from '@clutch/cluster/repeat-filter';
import type Koa from 'koa';
import type { Context } from 'koa';
import { CoreErrorCode } from '../errors.js';
import type { CookieCipher } from './cookie-cipher.js';
import type { EggVerify } from './egg-cookie-format.js';

const WRAPPED = Symbol('clutch.cookies');
const STALE = Symbol('clutch.staleCookies');

/**
 * An option only the session passes: a value of that name that does not decrypt may be one written
 * before the session was encrypted (signed only), read once if its signature holds.
 */
export const SIGNED_FALLBACK = Symbol('clutch.signedFallback');

/** egg's options on top of the cookies package's. */
export interface EggCookieOptions {
  /** Encrypted and authenticated (then not signed: the encryption already refuses a changed value). */
  encrypt?: boolean;
  signed?: boolean;
  [SIGNED_FALLBACK]?: true;
}

type Cookies = Context['cookies'];
type GetOptions = Partial<NonNullable<Parameters<Cookies['get']>[1]>> & EggCookieOptions;
type SetOptions = Partial<NonNullable<Parameters<Cookies['set']>[2]>> & EggCookieOptions;
type Stale = Context & { [STALE]?: Set<string> };

/**
 * `ctx.cookies` as egg's: signed by default when the app has keys (the `cookies` package signs only
 * when given options, so a plain `set('a', 'b')` gets `{}` and signing then defaults to the keys
 * being there; `{ signed: false }` opts out); `{ encrypt: true }` encrypted by `cipher`; and a signed
 * cookie deleted with its `.sig` empty, as egg-cookies does (the package would sign the empty value).
 * A value that does not decrypt reads as absent, said once per burst in the log, never thrown.
 * With `eggVerify`, a value egg signed is read too (config.cookies.readEggCookies).
 */
export function eggCookies(app: Koa, cipher: CookieCipher, logger: Logger, eggVerify?: EggVerify): void {
  const koa = Object.getOwnPropertyDescriptor(app.context, 'cookies') ?? Object.getOwnPropertyDescriptor(Object.getPrototypeOf(app.context), 'cookies');
  if (!koa?.get) return;
  // A client can send a broken value on every request: one line per cookie name per window.
  const refused = new RepeatFilter({ windowMs: 10_000, perKey: 1, total: 10, maxKeys: 100 });
  const unreadable = (name: string) => {
    const summary = (n: number, ms: number) => logger.warn('%d more values of cookie "%s" did not decrypt in the last %ds', n, name, ms / 1000);
    if (refused.admit(name, summary))
      logger.warn(
        '[%s] cookie "%s" did not decrypt with any of config.keys (changed, another app\'s, or under a key since removed): read as absent',
        CoreErrorCode.COOKIE_UNREADABLE,
        name,
      );
  };
  // eslint-disable-next-line @typescript-eslint/unbound-method -- Koa's accessor, called with each context as `this`
  const { get: koaGet, set: koaSet } = koa;
  Object.defineProperty(app.context, 'cookies', {
    configurable: true,
    get(this: Stale) {
      const cookies = Reflect.apply(koaGet, this, []) as Cookies & { [WRAPPED]?: true };
      if (cookies[WRAPPED]) return cookies;
      // eslint-disable-next-line @typescript-eslint/unbound-method -- called with `this` given
      const { get, set } = cookies;
      // The package reads a cookie's `.sig` with `this.get(name)` and no options: that call must
      // stay the package's own, or it would look for `.sig.sig`.
      const own = Object.create(cookies, { get: { value: get }, set: { value: set } }) as Cookies;
      const plain = (name: string) => get.call(own, name, { signed: false });
      const stale = (name: string) => (this[STALE] ??= new Set()).add(name);
      // egg's signature is looked at first: the package, failing to verify it, would delete the .sig.
      const signed = (name: string, options: GetOptions) => {
        const value = eggVerify && plain(name);
        const signature = value && plain(`${name}.sig`);
        if (value && signature && eggVerify(`${name}=${value}`, signature)) {
          stale(name);
          return value;
        }
        return get.call(own, name, options as Parameters<typeof get>[1]);
      };
      cookies.get = (name, options: GetOptions = {}) => {
        if (!options.encrypt) return options.signed === false ? plain(name) : signed(name, options);
        const value = plain(name);
        if (!value) return undefined;
        const decrypted = cipher.decrypt(name, value);
        if (decrypted) {
          if (decrypted.stale) stale(name);
          return decrypted.value;
        }
        if (options[SIGNED_FALLBACK] && options.signed !== false) {
          const value = signed(name, { signed: true });
          if (value !== undefined) {
            stale(name);
            return value;
          }
        }
        unreadable(name);
        return undefined;
      };
      cookies.set = (name, value, options: SetOptions = {}) => {
        if (options.encrypt) {
          set.call(own, name, value ? cipher.encrypt(name, value) : '', { ...options, signed: false });
          // A signed value of this name (the session before it was encrypted) would leave its
          // `.sig` in the browser: it goes, emptied as egg empties one.
          if (plain(`${name}.sig`) !== undefined) set.call(own, `${name}.sig`, '', { ...options, signed: false });
        } else if (!value && options.signed !== false) {
          set.call(own, name, '', { ...options, signed: false });
          set.call(own, `${name}.sig`, '', { ...options, signed: false });
        } else {
          set.call(own, name, value, options);
        }
        return cookies;
      };
      cookies[WRAPPED] = true;
      return cookies;
    },
    ...(koaSet ? { set: koaSet } : {}),
  });
}

/** True when this request read cookie `name` in a form that should be written again (an old key, egg's format, signed only). */
export function isStale(ctx: Context, name: string): boolean {
  return (ctx as Stale)[STALE]?.has(name) ?? false;
}

// egg's `encrypt` option, typed on ctx.cookies as on egg's (the package's module is its namespace).
declare module 'cookies' {
  interface GetOption {
    /** Decrypt a value set with `{ encrypt: true }`; one that does not decrypt reads as undefined. `signed` is then moot (an encrypted value is not signed). */
    encrypt?: boolean;
  }
  interface SetOption {
    /** Encrypt and authenticate the value (AES-256-GCM under the first of config.keys); not signed then. */
    encrypt?: boolean;
  }
}
