import type Koa from 'koa';
import type { Context, Middleware } from 'koa';
import { timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import type Tokens from 'csrf';
import type { PathRule } from '../../config.js';
import { ClutchError, CoreErrorCode } from '../../errors.js';
import { ruleTest } from '../../path-rules.js';

/** Methods that change nothing: never checked (RFC 9110 §9.2.1). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const SECRET = Symbol('clutch.csrfSecret');

type WithSecret = Context & { [SECRET]?: string };

/**
 * Built-in plugin **security**, as egg's: every unsafe request (POST, PUT, PATCH, DELETE, …) must
 * carry a CSRF token — in the `x-csrf-token` header, the `_csrf` query parameter or the `_csrf` body
 * field — made from a secret kept in a cookie, or that cookie's value itself (a page script reads
 * `csrfToken` and sends it, egg's AJAX way); else a 403 with CLUTCH_ERR_CSRF_INVALID. `ctx.csrf`
 * is a fresh token for the page or the client to send back. The tokens are the `csrf` package's
 * (pillarjs: a salted hash of the secret, compared in constant time). Every response also gets the
 * safe default headers configured.
 */
export function security(config: SecurityConfig, app: Koa): Middleware {
  // The csrf package is loaded the first time a token is made or checked (a worker serving only
  // GETs never needs it); it is CommonJS, so it loads synchronously, as `ctx.csrf` needs.
  let made: Tokens | null = null;
  const tokens = {
    get: (): Tokens => (made ??= new (createRequire(import.meta.url)('csrf') as typeof Tokens)()),
  };
  const csrf = config.csrf;
  // Paths as every match/ignore option reads them: '/api' is /api and what is under it, never /apiadmin.
  const ignored = csrf.ignore === undefined ? () => false : ruleTest(csrf.ignore, 'config.security.csrf.ignore', CoreErrorCode.CONFIG_INVALID);
  // As egg-security's default (useSession: false): the secret's cookie is readable by the page's
  // scripts, which send it back as the x-csrf-token header; another site can neither read it nor
  // set a header, so the double submit holds (docs/coming-from-egg.md).
  const cookie = { httpOnly: false, sameSite: 'lax' as const, signed: false, overwrite: true };
  const secretOf = (ctx: WithSecret): string | undefined => (ctx[SECRET] ??= ctx.cookies.get(csrf.cookieName, { signed: false }) || undefined);
  Object.defineProperties(app.context, {
    csrf: {
      configurable: true,
      get(this: WithSecret) {
        let secret = secretOf(this);
        if (!secret) {
          secret = this[SECRET] = tokens.get().secretSync();
          this.cookies.set(csrf.cookieName, secret, cookie);
        }
        return tokens.get().create(secret);
      },
    },
    /** A new secret (after a login, say): tokens made before it stop passing. */
    rotateCsrfSecret: {
      configurable: true,
      value(this: WithSecret) {
        this[SECRET] = tokens.get().secretSync();
        this.cookies.set(csrf.cookieName, this[SECRET], cookie);
      },
    },
    /**
     * egg's `ctx.assertCsrf()`: throws the 403 unless the request carries a valid token. The
     * middleware calls it on every unsafe request, so a test can pass it (`app.mockCsrf()`).
     */
    assertCsrf: {
      configurable: true,
      writable: true,
      value(this: WithSecret) {
        const body = (this.request as { body?: unknown }).body;
        const fromBody = body && typeof body === 'object' ? (body as Record<string, unknown>)[csrf.bodyName] : undefined;
        const token = this.get(csrf.headerName) || this.query[csrf.queryName] || fromBody;
        const secret = secretOf(this);
        // The cookie's own value is a token too (egg-security's AJAX form: token === secret).
        if (!secret || typeof token !== 'string' || !token || (!sameSecret(secret, token) && !tokens.get().verify(secret, token))) {
          const why = !secret ? 'no CSRF secret cookie (read ctx.csrf on a page first)' : !token ? 'no CSRF token' : 'an invalid CSRF token';
          this.throw(
            403,
            new ClutchError(
              CoreErrorCode.CSRF_INVALID,
              `${this.method} ${this.path}: ${why}; send ctx.csrf as the ${csrf.headerName} header or the ${csrf.bodyName} field`,
            ),
            { expose: true },
          );
        }
      },
    },
  });
  const headers: Array<[string, string]> = [];
  if (config.xframe.enable) headers.push(['X-Frame-Options', config.xframe.value]);
  if (config.nosniff.enable) headers.push(['X-Content-Type-Options', 'nosniff']);
  if (config.noopen.enable) headers.push(['X-Download-Options', 'noopen']);
  if (config.xssProtection.enable) headers.push(['X-XSS-Protection', config.xssProtection.value]);
  if (config.hsts.enable)
    headers.push(['Strict-Transport-Security', `max-age=${config.hsts.maxAge}${config.hsts.includeSubdomains ? '; includeSubDomains' : ''}`]);
  return (ctx: WithSecret, next) => {
    for (const [name, value] of headers) ctx.set(name, value);
    if (!csrf.enable || SAFE_METHODS.has(ctx.method) || ignored(ctx)) return next();
    ctx.assertCsrf();
    return next();
  };
}

/** The token is the secret itself, compared in constant time. */
function sameSecret(secret: string, token: string): boolean {
  const a = Buffer.from(secret);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

declare module 'koa' {
  interface DefaultContext {
    /** A CSRF token for this client (built-in plugin security): send it back as `x-csrf-token` or `_csrf`. */
    readonly csrf: string;
    /** Makes a new CSRF secret: tokens made before stop passing. */
    rotateCsrfSecret(): void;
    /** egg's: throws a 403 (CLUTCH_ERR_CSRF_INVALID) unless the request carries a valid CSRF token. */
    assertCsrf(): void;
  }
}

export interface SecurityConfig {
  csrf: {
    enable: boolean;
    /** Where the token may come from: a header, a query parameter, a body field. */
    headerName: string;
    queryName: string;
    bodyName: string;
    /** The cookie holding the secret the tokens are made from. */
    cookieName: string;
    /** Paths not checked (a prefix string or a RegExp, or a list of them), e.g. a webhook. */
    ignore?: PathRule | PathRule[];
  };
  /** X-Frame-Options (default SAMEORIGIN). */
  xframe: { enable: boolean; value: string };
  /** X-Content-Type-Options: nosniff. */
  nosniff: { enable: boolean };
  /** X-Download-Options: noopen. */
  noopen: { enable: boolean };
  /** X-XSS-Protection (default `0`: the filter browsers had is itself a risk; CSP replaces it). */
  xssProtection: { enable: boolean; value: string };
  /** Strict-Transport-Security; off by default (turn it on behind TLS). */
  hsts: { enable: boolean; maxAge: number; includeSubdomains: boolean };
}

declare module '../../config.js' {
  interface FrameworkConfig {
    /** Built-in plugin **security**: CSRF on unsafe methods, and safe default headers. */
    security: SecurityConfig;
  }
}
