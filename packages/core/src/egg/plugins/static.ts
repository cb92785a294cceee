import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Middleware } from 'koa';

/**
 * Built-in plugin **static**: GET and HEAD under `prefix` are files of `dir` (the first folder that
 * has the file), sent by @koa/send — which refuses paths out of the folder, hidden files and
 * directories. What no folder has goes on to the app (a 404 unless a route serves it). A folder
 * that is not there is made, as egg-static makes it, so a project gains its app/public by serving.
 */
export function staticFiles(config: StaticConfig, baseDir: string): Middleware {
  const prefix = config.prefix.endsWith('/') ? config.prefix : `${config.prefix}/`;
  const roots = (Array.isArray(config.dir) ? config.dir : [config.dir]).map((d) => resolve(baseDir, d));
  for (const root of roots) mkdirSync(root, { recursive: true });
  let send: Promise<typeof import('@koa/send').send> | null = null;
  // Not async: a request outside the prefix passes through without a promise of its own.
  return (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !ctx.path.startsWith(prefix)) return next();
    return serve(ctx, next);
  };
  async function serve(ctx: Parameters<Middleware>[0], next: () => Promise<unknown>): Promise<unknown> {
    send ??= import('@koa/send').then((m) => m.send);
    const file = ctx.path.slice(prefix.length);
    for (const root of roots) {
      try {
        // undefined: a folder or a hidden file, which are not served.
        const sent = await (
          await send
        )(ctx, file, { root, maxage: config.maxAge * 1000, index: false, gzip: config.gzip !== false, brotli: config.brotli !== false });
        if (sent) return;
      } catch (err) {
        // Not in this folder: try the next, then the app. A path out of the folder is @koa/send's 403.
        if ((err as { status?: number }).status !== 404) throw err;
      }
    }
    return next();
  }
}

export interface StaticConfig {
  /** The URL prefix (default `/public/`). */
  prefix: string;
  /** Where the files are: a folder, or several searched in order (default `app/public`). */
  dir: string | string[];
  /** Cache-Control max-age in seconds (default: a year in env prod, else 0). */
  maxAge: number;
  /** Serve `<file>.gz` / `.br` when the client accepts them (default true). */
  gzip?: boolean;
  brotli?: boolean;
}

declare module '../../config.js' {
  interface FrameworkConfig {
    /** Built-in plugin **static**: files of `dir` served under `prefix`. */
    static: StaticConfig;
  }
}
