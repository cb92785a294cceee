import type { Context } from 'koa';
import type { PathRule } from './config.js';
import { ClutchError, CoreErrorCode } from './errors.js';

/**
 * A `match`/`ignore` option as a test of the request: a string is a path and what is under it, a RegExp is tested
 * on the path (without the g and y flags, which make `test` stateful), a function is given the
 * context; a list matches when one of them does. Anything else fails the start with `code`, naming
 * `label`. Every path option is read this way: a middleware's match/ignore, the body parser's,
 * `security.csrf.ignore`.
 */
export function ruleTest(rule: PathRule | PathRule[], label: string, code: CoreErrorCode = CoreErrorCode.MIDDLEWARE_INVALID): (ctx: Context) => boolean {
  const tests = (Array.isArray(rule) ? rule : [rule]).map((r: unknown): ((ctx: Context) => boolean) => {
    if (typeof r === 'string') {
      // A path and what is under it, as egg's path matching: '/public' is /public and /public/…, never /publicity.
      const under = r.endsWith('/') ? r : `${r}/`;
      return (ctx) => ctx.path === r || ctx.path.startsWith(under);
    }
    if (r instanceof RegExp) {
      const re = /[gy]/.test(r.flags) ? new RegExp(r.source, r.flags.replace(/[gy]/g, '')) : r;
      return (ctx) => re.test(ctx.path);
    }
    if (typeof r === 'function') return (ctx) => Boolean((r as (ctx: Context) => unknown)(ctx));
    throw new ClutchError(code, `${label} must be a path, a RegExp, a function (ctx) => boolean, or a list of them; got ${String(r)}`);
  });
  return (ctx) => tests.some((t) => t(ctx));
}
