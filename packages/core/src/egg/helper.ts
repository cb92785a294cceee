import { createRequire } from 'node:module';
import type { Application } from '../application.js';
import type { Context } from '../context.js';

/**
 * `ctx.helper`: one per request, made the first time it is read, with app/extend/helper of every
 * unit on its prototype (`this.ctx` and `this.app` at hand, as egg's). A TypeScript project declares
 * what its helper file adds:
 *
 * @example
 * declare module '@clutch/core' {
 *   interface Helper { money(cents: number): string }
 * }
 */
export class Helper {
  readonly ctx: Context;
  readonly app: Application;
  constructor(ctx: Context) {
    this.ctx = ctx;
    this.app = ctx.app;
  }

  /** egg's `helper.escape`: text made safe inside HTML (& < > " ' escaped). */
  escape(text: unknown): string {
    return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
  }

  /**
   * egg's `helper.shtml`: HTML from a user with what could run removed — scripts, event handlers,
   * `javascript:` URLs — and the safe tags kept, by the xss package, as egg-security's shtml does.
   * `config.helper.shtml.whiteList` replaces xss's list of tags and their attributes. Not a string:
   * returned as it is, as egg's.
   */
  shtml<T>(html: T): T | string {
    if (typeof html !== 'string') return html;
    // CommonJS, loaded the first time it is needed (a worker that sanitizes nothing never loads it).
    const { filterXSS } = createRequire(import.meta.url)('xss') as typeof import('xss');
    const whiteList = (this.app.config.helper as HelperConfig | undefined)?.shtml?.whiteList;
    return filterXSS(html, whiteList ? { whiteList } : {});
  }
}

/** egg's `config.helper`: the sanitizer's options. */
export interface HelperConfig {
  shtml?: { whiteList?: Record<string, string[]> };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

declare module 'koa' {
  interface DefaultContext {
    /** The request's helper (app/extend/helper). */
    helper: Helper;
  }
}
