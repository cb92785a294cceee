import type { Logger } from '@clutch/cluster';
import type Koa from 'koa';
import type { Context, Middleware } from 'koa';

/** Methods no built-in checks (RFC 9110 §9.2.1): answering them early skips nothing that guards. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const REACHED = Symbol('clutch.builtinsReached');

type Marked = Context & { [REACHED]?: true };

/**
 * `app.use()` in app.js runs before the built-in middleware, as egg's does (its loader mounts them
 * after app.js). A middleware there that answers an unsafe request itself skips the security
 * plugin's CSRF check, the body parser and the session without a word; this says so, once per
 * middleware, the first time it happens. `early` is how many middleware came before the built-ins
 * (the error page first); the first built-in marks each request that reaches it.
 */
export function watchEarlyMiddleware(app: Koa, early: number, logger: Logger): void {
  if (early <= 1 || app.middleware.length <= early) return;
  const first = app.middleware[early]!;
  app.middleware[early] = (ctx: Marked, next) => {
    ctx[REACHED] = true;
    return first(ctx, next);
  };
  for (let i = 1; i < early; i++) {
    const mw = app.middleware[i]! as Middleware;
    const name = mw.name || `#${i} (anonymous)`;
    let warned = false;
    app.middleware[i] = async (ctx: Marked, next) => {
      await mw(ctx, next);
      if (warned || ctx[REACHED] || SAFE_METHODS.has(ctx.method)) return;
      warned = true;
      logger.warn(
        'the middleware %s, app.use()d before the built-in middleware (in app.js), answered %s %s itself: the security plugin did not check its CSRF token, and the body parser and the session did not run. To run it after them, list it in config.middleware (app/middleware) or app.use() it in didLoad (docs/coming-from-egg.md)',
        name,
        ctx.method,
        ctx.path,
      );
    };
  }
}
