import { STATUS_CODES } from 'node:http';
import type { Context, Middleware } from 'koa';
import type { RequestErrorLog } from './request-errors.js';

interface HttpishError extends Error {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  code?: string;
  headers?: Record<string, string>;
  /** What a validation found wrong (egg-validate's `ctx.throw(422, …, { errors })`): sent with an exposed 4xx, as egg-onerror does. */
  errors?: unknown;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The first middleware of every app: turns a thrown error into a response, as JSON or HTML
 * depending on Accept. A 4xx shows the error's message when the error allows it (`expose`, as
 * `ctx.throw(400, …)` sets) or details are on. A 5xx shows the message and the stack only with
 * `showDetails` (env local and unittest by default); in prod it says "Internal Server Error" and
 * nothing else, and is logged.
 */
export function errorPage(options: { showDetails: () => boolean; log: RequestErrorLog }): Middleware {
  return async (ctx: Context, next) => {
    try {
      await next();
      // Nothing answered: a 404 gets the same page as any error, in the format the client accepts.
      if (ctx.status === 404 && ctx.body == null) ctx.throw(404);
    } catch (caught) {
      const err = (caught instanceof Error ? caught : new Error(String(caught))) as HttpishError;
      let status = err.status ?? err.statusCode ?? 500;
      if (!Number.isInteger(status) || status < 400 || status > 599) status = 500;
      if (status >= 500) options.log.error(err, '%s %s → %d: %s', ctx.method, ctx.path, status, err);
      if (ctx.headerSent || !ctx.writable) return;
      // Koa's rule: a message is for the client only when the error says so (`expose`, which
      // ctx.throw sets for 4xx) — or, for a 5xx, when details are on (env local, unittest).
      const showDetails = options.showDetails();
      const details = status < 500 ? err.expose === true || showDetails : showDetails;
      const message = details ? err.message : (STATUS_CODES[status] ?? 'Error');
      const stack = status >= 500 && showDetails ? err.stack : undefined;
      ctx.status = status;
      ctx.remove('content-length');
      // A body not read (a 413 refused on its Content-Length, say): keep-alive would make Node read
      // and discard all of it to reuse the connection — 200 MB for a 200 MB upload. Closing after the
      // response ends that at once.
      if (!ctx.req.complete) ctx.set('connection', 'close');
      if (err.headers && status < 500) ctx.set(err.headers);
      if (ctx.accepts('json', 'html') === 'html') {
        ctx.type = 'html';
        ctx.body = `<!doctype html><html><head><title>${status} ${escapeHtml(STATUS_CODES[status] ?? 'Error')}</title></head><body><h1>${status} ${escapeHtml(message)}</h1>${stack ? `<pre>${escapeHtml(stack)}</pre>` : ''}</body></html>`;
      } else {
        const errors = status < 500 && details && err.errors !== undefined ? { errors: err.errors } : {};
        ctx.body = { error: { status, message, ...(err.code && details ? { code: err.code } : {}), ...errors, ...(stack ? { stack } : {}) } };
      }
    }
  };
}
