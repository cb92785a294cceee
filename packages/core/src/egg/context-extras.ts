import type { Logger } from '@clutch/cluster';
import type Koa from 'koa';
import type { Context } from 'koa';
import { ClutchError, CoreErrorCode } from '../errors.js';
import { curl } from './httpclient.js';

/**
 * What egg's context has and Koa's lacks: `ctx.coreLogger`, `ctx.curl` and `ctx.httpclient`,
 * `ctx.isAjax`, `ctx.acceptJSON`.
 */
export function contextExtras(app: Koa): void {
  Object.defineProperties(app.context, {
    /** egg's: Clutch has one logger per process, so the core logger is the context logger. */
    coreLogger: {
      configurable: true,
      get(this: Context): Logger {
        return this.logger;
      },
    },
    curl: { configurable: true, writable: true, value: curl },
    httpclient: { configurable: true, writable: true, value: { request: curl, curl } },
    /** egg's: the request came from XMLHttpRequest. */
    isAjax: {
      configurable: true,
      get(this: Context): boolean {
        return this.get('x-requested-with') === 'XMLHttpRequest';
      },
    },
    /** egg's: the client wants JSON — a `.json` path, a JSON response type set, or Accept preferring it. */
    acceptJSON: {
      configurable: true,
      get(this: Context): boolean {
        return this.path.endsWith('.json') || (this.response.type ?? '').includes('json') || this.accepts('html', 'text', 'json') === 'json';
      },
    },
  });
}

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

/**
 * egg's names that Clutch does not have: reading one fails with CLUTCH_ERR_NOT_PROVIDED saying what
 * to use instead — never an `undefined` that fails later. An app/extend that defines the name wins.
 */
const I18N = 'add an i18n library (koa-i18n, i18next) as middleware';
export const NOT_PROVIDED = {
  /** On the app and every context. */
  app: {
    runSchedule: "call the task's function directly, or run it from a route in a test",
    i18n: I18N,
    __: I18N,
    gettext: I18N,
    jsonp: 'add koa-jsonp as middleware',
    watcher: 'app dev restarts the cluster on a change; watch files yourself with fs.watch',
    getLogger: 'use app.logger (or ctx.logger): Clutch has one logger per process',
  },
  context: {
    unsafeRedirect: 'use ctx.redirect (Koa), checking the target yourself',
  },
  request: {
    files: "egg's multipart file mode is not there: read uploads with ctx.getFileStream() or ctx.multipart()",
  },
  helper: {
    shtml: 'nunjucks escapes by default; sanitize HTML with a library (sanitize-html, DOMPurify)',
    surl: 'encode with encodeURI / encodeURIComponent',
    sjs: 'pass data to scripts as JSON (JSON.stringify) in a data- attribute',
  },
} satisfies Record<string, Record<string, string>>;

export function notProvided(targets: Array<[object, string, Record<string, string>]>): void {
  for (const [target, label, names] of targets) {
    for (const [name, instead] of Object.entries(names)) {
      if (Object.prototype.hasOwnProperty.call(target, name)) continue;
      Object.defineProperty(target, name, {
        configurable: true,
        get() {
          throw new ClutchError(CoreErrorCode.NOT_PROVIDED, `${label}.${name} is egg's; Clutch does not provide it: ${instead} (docs/coming-from-egg.md)`);
        },
        // A library that brings its own (koa-i18n sets ctx.i18n) just sets it.
        set(this: object, value: unknown) {
          Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true });
        },
      });
    }
  }
}

declare module 'koa' {
  interface DefaultContext {
    /** egg's `ctx.curl(url, options)`, on Node's fetch (see CurlOptions). */
    curl: typeof import('./httpclient.js').curl;
    /** egg's `ctx.httpclient.request(url, options)`, the same client as ctx.curl. */
    httpclient: { request: typeof import('./httpclient.js').curl; curl: typeof import('./httpclient.js').curl };
    /** egg's: the same logger as ctx.logger. */
    readonly coreLogger: Logger;
    /** egg's: `X-Requested-With: XMLHttpRequest`. */
    readonly isAjax: boolean;
    /** egg's: a `.json` path, a JSON response type, or an Accept that prefers JSON. */
    readonly acceptJSON: boolean;
  }
}
