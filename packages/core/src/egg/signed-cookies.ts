import type Koa from 'koa';
import type { Context } from 'koa';
import { ClutchError, CoreErrorCode } from '../errors.js';

const SIGNING = Symbol('clutch.signing');

/**
 * `ctx.cookies` signed by default when the app has keys, as egg's: the `cookies` package signs and
 * verifies only when it is given options, so a plain `ctx.cookies.set('a', 'b')` / `get('a')` gets
 * `{}` — `signed` then defaults to the keys being there. `{ signed: false }` still opts out.
 */
export function signCookiesByDefault(app: Koa): void {
  const koa = Object.getOwnPropertyDescriptor(app.context, 'cookies') ?? Object.getOwnPropertyDescriptor(Object.getPrototypeOf(app.context), 'cookies');
  if (!koa?.get) return;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- Koa's accessor, called with each context as `this`
  const { get: koaGet, set: koaSet } = koa;
  Object.defineProperty(app.context, 'cookies', {
    configurable: true,
    get(this: Context) {
      const cookies = Reflect.apply(koaGet, this, []) as Context['cookies'] & { [SIGNING]?: true };
      if (!cookies[SIGNING]) {
        // eslint-disable-next-line @typescript-eslint/unbound-method -- called with `this` given
        const { get, set } = cookies;
        // The package reads a cookie's `.sig` with `this.get(name)` and no options: that call must
        // stay the package's own, or it would look for `.sig.sig`.
        const own = Object.create(cookies, { get: { value: get }, set: { value: set } }) as typeof cookies;
        cookies.get = (name, options = {} as Parameters<typeof get>[1]) => get.call(own, name, options);
        cookies.set = (name, value, options = {}) => {
          if ((options as { encrypt?: unknown }).encrypt) {
            throw new ClutchError(
              CoreErrorCode.NOT_PROVIDED,
              `ctx.cookies.set('${name}', …, { encrypt: true }) is egg's; Clutch signs cookies but does not encrypt them: keep secrets server-side (docs/coming-from-egg.md)`,
            );
          }
          set.call(own, name, value, options);
          return cookies;
        };
        cookies[SIGNING] = true;
      }
      return cookies;
    },
    ...(koaSet ? { set: koaSet } : {}),
  });
}
