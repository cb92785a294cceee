import { createRequire } from 'node:module';
import type { Logger } from '@clutch/cluster';
import type Koa from 'koa';
import type { Middleware } from 'koa';
import type { SessionConfig } from '../config.js';
import { ClutchError, CoreErrorCode } from '../errors.js';

/**
 * Built-in plugin **session**: koa-session's signed cookie sessions (`ctx.session`). The session is
 * in the cookie, so every worker — and every host — reads the same one. Without `config.keys` there
 * is nothing to sign with: the start goes on, and reading `ctx.session` throws CLUTCH_ERR_KEYS_MISSING.
 */
export function session(config: SessionConfig, app: Koa, logger?: Logger): Middleware | null {
  // egg encrypts its session cookie; koa-session signs it. Said once at the start, not dropped unsaid.
  if (config.encrypt)
    logger?.warn(
      "config.session.encrypt is egg's: Clutch signs the session cookie (tampering is refused) but does not encrypt it; keep secrets out of the session",
    );
  if (!app.keys || (Array.isArray(app.keys) && app.keys.length === 0)) {
    Object.defineProperty(app.context, 'session', {
      configurable: true,
      get() {
        throw new ClutchError(
          CoreErrorCode.KEYS_MISSING,
          "ctx.session needs config.keys (the keys its cookie is signed with), e.g. keys: 'a-long-random-string'",
        );
      },
    });
    return null;
  }
  // koa-session (and the zod it validates its options with) costs ~65 ms and ~12 MB at start-up,
  // so it loads when first needed: the first request through this middleware, or the first read
  // of ctx.session — even by a middleware that runs before this one (`app.use` in app.ts). It is
  // CommonJS too, so it loads synchronously and no request ever sees ctx.session missing.
  const { encrypt: _encrypt, ...options } = config;
  let mw: Middleware | null = null;
  const load = (): Middleware => {
    if (!mw) {
      const createSession = (createRequire(import.meta.url)('koa-session') as typeof import('koa-session')).default;
      // It defines ctx.session (and ctx.sessionOptions) on app.context, in place of the stand-in below.
      mw = createSession(options as Parameters<typeof createSession>[0], app);
    }
    return mw;
  };
  Object.defineProperty(app.context, 'session', {
    configurable: true,
    get(this: Koa.Context) {
      load();
      return this.session;
    },
    set(this: Koa.Context, value: unknown) {
      load();
      this.session = value as Koa.Context['session'];
    },
  });
  return (ctx, next) => load()(ctx, next);
}

/**
 * Checks config.session's common options at the start: koa-session checks them only when it loads,
 * on the first request, where a mistake would be a 500 on every request.
 */
export function checkSessionConfig(config: Record<string, unknown>, fail: (path: string, expected: string, value: unknown) => never): void {
  const { key, maxAge, sameSite } = config;
  if (typeof key !== 'string' || key === '') fail('session.key', 'a cookie name', key);
  if (maxAge !== 'session' && (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge <= 0))
    fail('session.maxAge', "a number of ms or 'session'", maxAge);
  for (const flag of ['httpOnly', 'signed', 'rolling', 'renew', 'secure', 'overwrite', 'autoCommit', 'encrypt'] as const)
    if (config[flag] !== undefined && typeof config[flag] !== 'boolean') fail(`session.${flag}`, 'true or false', config[flag]);
  if (
    sameSite !== undefined &&
    sameSite !== null &&
    typeof sameSite !== 'boolean' &&
    !(typeof sameSite === 'string' && ['strict', 'lax', 'none'].includes(sameSite))
  )
    fail('session.sameSite', "'strict', 'lax', 'none', a boolean or null", sameSite);
}

declare module 'koa' {
  interface DefaultContext {
    /** The request's session (built-in plugin session; koa-session). null once set to null. */
    session: Record<string, unknown> | null;
  }
}
