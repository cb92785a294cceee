import type { Logger } from '@clutch/cluster';
import type Koa from 'koa';
import type { Context } from 'koa';
import { curl, type HttpClient } from './httpclient.js';

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

declare module 'koa' {
  interface DefaultContext {
    /** egg's `ctx.curl(url, options)`, on Node's fetch (see CurlOptions). */
    curl: typeof curl;
    /** egg's `ctx.httpclient.request(url, options)`, the same client as ctx.curl. */
    httpclient: HttpClient;
    /** egg's: the same logger as ctx.logger. */
    readonly coreLogger: Logger;
    /** egg's: `X-Requested-With: XMLHttpRequest`. */
    readonly isAjax: boolean;
    /** egg's: a `.json` path, a JSON response type, or an Accept that prefers JSON. */
    readonly acceptJSON: boolean;
  }
}
