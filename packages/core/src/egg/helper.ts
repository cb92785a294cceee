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
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

declare module 'koa' {
  interface DefaultContext {
    /** The request's helper (app/extend/helper). */
    helper: Helper;
  }
}
