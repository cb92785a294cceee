import { extname } from 'node:path';
import type { Context, Middleware } from 'koa';

/** What a path of `config.siteFile` answers: a URL to redirect to, the bytes themselves, or a function of ctx giving either. */
export type SiteFileEntry = string | Buffer | ((ctx: Context) => string | Buffer | null | undefined | Promise<string | Buffer | null | undefined>);

/**
 * egg's siteFile middleware: `config.siteFile = { '/favicon.ico': 'https://…/favicon.png' }` —
 * a GET or HEAD of that path is redirected to the URL (302), or answered with the bytes (a Buffer,
 * cached for `config.siteFileMaxAge` seconds, a day by default as egg's). An entry that gives
 * nothing goes on to the app. egg's default points /favicon.ico at egg's own logo; Clutch's has no
 * entry.
 */
export function siteFile(entries: Record<string, SiteFileEntry>, maxAge: number): Middleware {
  const paths = new Map(Object.entries(entries));
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !paths.has(ctx.path)) return next();
    const entry = paths.get(ctx.path)!;
    const content = typeof entry === 'function' ? await entry(ctx) : entry;
    if (content === null || content === undefined || content === '') return next();
    if (typeof content === 'string') return ctx.redirect(content);
    ctx.set('Cache-Control', `public, max-age=${maxAge}`);
    ctx.type = extname(ctx.path);
    ctx.body = content;
  };
}

declare module '../../config.js' {
  interface FrameworkConfig {
    /** egg's siteFile: paths like /favicon.ico answered with a redirect or bytes (default none). */
    siteFile: Record<string, SiteFileEntry>;
    /** Cache-Control max-age of siteFile bytes, seconds (default a day). */
    siteFileMaxAge: number;
  }
}
