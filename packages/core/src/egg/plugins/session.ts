import { createRequire } from 'node:module';
import type Koa from 'koa';
import type { Middleware } from 'koa';
import { ClutchError, CoreErrorCode } from '../../errors.js';
import { isStale, SIGNED_FALLBACK } from '../cookies.js';

/**
 * Built-in plugin **session**: koa-session's cookie sessions (`ctx.session`). The session is in the
 * cookie, so every worker — and every host — reads the same one. It is encrypted, as egg-session's
 * (`config.session.encrypt: true`, the default: the cookie's options go to `ctx.cookies`, which
 * encrypts); `encrypt: false` keeps a signed cookie anyone holding it can read. Without
 * `config.keys` there is nothing to sign or encrypt with: the start goes on, and reading
 * `ctx.session` throws CLUTCH_ERR_KEYS_MISSING.
 */
export function session(config: SessionConfig, app: Koa): Middleware | null {
  if (!app.keys || (Array.isArray(app.keys) && app.keys.length === 0)) {
    Object.defineProperty(app.context, 'session', {
      configurable: true,
      get() {
        throw new ClutchError(
          CoreErrorCode.KEYS_MISSING,
          "ctx.session needs config.keys (the keys its cookie is encrypted or signed with), e.g. keys: 'a-long-random-string'",
        );
      },
    });
    return null;
  }
  // koa-session (and the zod it validates its options with) costs ~65 ms and ~12 MB at start-up,
  // so it loads when first needed: the first request through this middleware, or the first read
  // of ctx.session — even by a middleware that runs before this one (`app.use` in app.ts). It is
  // CommonJS too, so it loads synchronously and no request ever sees ctx.session missing.
  // A session written before it was encrypted (signed only) is read once, then written encrypted:
  // an upgrade logs nobody out.
  const options: SessionConfig & { [SIGNED_FALLBACK]?: true } = config.encrypt ? { ...config, [SIGNED_FALLBACK]: true } : { ...config };
  const TOUCHED = Symbol('clutch.sessionTouched');
  type Touched = Koa.Context & { [TOUCHED]?: true };
  let mw: Middleware | null = null;
  const load = (): Middleware => {
    if (mw) return mw;
    const createSession = (createRequire(import.meta.url)('koa-session') as typeof import('koa-session')).default;
    // It defines ctx.session on app.context in place of the stand-in below; that is wrapped in
    // turn, so a request that reads or writes its session is known.
    mw = createSession(options as Parameters<typeof createSession>[0], app);
    const real = Object.getOwnPropertyDescriptor(app.context, 'session')!;
    Object.defineProperty(app.context, 'session', {
      configurable: true,
      get(this: Touched) {
        this[TOUCHED] = true;
        const value = real.get!.call(this) as { _requireSave?: boolean } | null;
        // Read under an old key, in egg's format or signed only: saved again now, in the current one.
        if (value && isStale(this, config.key)) value._requireSave = true;
        return value;
      },
      set(this: Touched, value: unknown) {
        this[TOUCHED] = true;
        real.set!.call(this, value);
      },
    });
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
  const cookie = `${config.key}=`;
  const done = () => Promise.resolve();
  // The fast path: a request that brings no session cookie and never touches ctx.session has
  // nothing to load or save — koa-session's work (a session object, a commit) is skipped. One that
  // touches it is committed after the app, exactly as koa-session's own middleware would.
  return (ctx: Touched, next) => {
    if (options.store || ctx.get('cookie').includes(cookie)) return load()(ctx, next);
    // As koa-session's: committed after the app even when it threw (finally).
    return next().finally(() => (ctx[TOUCHED] ? load()(ctx, done) : undefined));
  };
}

export interface SessionConfig {
  /** The cookie's name (default `CLUTCH_SESS`). */
  key: string;
  /** ms, or `'session'` for a browser-session cookie (default one day). */
  maxAge: number | 'session';
  httpOnly: boolean;
  signed: boolean;
  /** Encrypt the cookie (default true, as egg-session's); false leaves it signed and readable. */
  encrypt?: boolean;
  /** Renew the cookie on every response / when half of maxAge has passed. */
  rolling?: boolean;
  renew?: boolean;
  sameSite?: 'strict' | 'lax' | 'none' | boolean | null;
  secure?: boolean;
  [option: string]: unknown;
}

declare module '../../config.js' {
  interface FrameworkConfig {
    /** Built-in plugin **session**: koa-session's options (encrypted cookie sessions). */
    session: SessionConfig;
  }
}

declare module 'koa' {
  interface DefaultContext {
    /** The request's session (built-in plugin session; koa-session). null once set to null. */
    session: Record<string, unknown> | null;
  }
}
