import type Koa from 'koa';
import type { Middleware } from 'koa';
import type { SessionConfig } from '../config.js';
import { ClutchError, CoreErrorCode } from '../errors.js';

/**
 * Built-in plugin **session**: koa-session's signed cookie sessions (`ctx.session`). The session is
 * in the cookie, so every worker — and every host — reads the same one. Without `config.keys` there
 * is nothing to sign with: the start goes on, and reading `ctx.session` throws CLUTCH_ERR_KEYS_MISSING.
 */
export async function session(config: SessionConfig, app: Koa): Promise<Middleware | null> {
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
  const { default: createSession } = await import('koa-session');
  return createSession(config as Parameters<typeof createSession>[0], app);
}

declare module 'koa' {
  interface DefaultContext {
    /** The request's session (built-in plugin session; koa-session). null once set to null. */
    session: Record<string, unknown> | null;
  }
}
