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
  // koa-session (and the zod it validates its options with) costs ~65 ms and ~12 MB at start-up:
  // it is imported on the first request instead, and is then what every request goes through.
  // Its context getters land on app.context, so they reach the request that loaded it too.
  let loaded: Promise<Middleware> | null = null;
  return (ctx, next) => {
    loaded ??= import('koa-session').then(({ default: createSession }) => {
      const { encrypt: _encrypt, ...options } = config;
      return createSession(options as Parameters<typeof createSession>[0], app);
    });
    return loaded.then((mw) => mw(ctx, next));
  };
}

declare module 'koa' {
  interface DefaultContext {
    /** The request's session (built-in plugin session; koa-session). null once set to null. */
    session: Record<string, unknown> | null;
  }
}
