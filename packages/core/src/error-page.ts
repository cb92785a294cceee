import type { Socket } from 'node:net';
import { http } from '@clutch/cluster/node-http';
import type { Context, Middleware } from 'koa';
import type { RequestErrorLog } from './request-errors.js';

const { STATUS_CODES } = http;

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

/** How long a connection whose request body was not read stays half-open after its response. */
const LINGER_MS = 1500;
/** How much of that body is read and dropped meanwhile, at most; past it the socket is paused. */
const LINGER_BYTES = 4 * 1024 * 1024;

/**
 * Closes a connection whose request body was not read as nginx's lingering close does. Node's
 * server destroys the socket as soon as the response is flushed (`socket.destroySoon()`); with
 * the body's bytes still unread, the kernel answers with a RST, which can reach the client before
 * it has read the response — it then sees a reset instead of the 413. Here the socket sends its
 * FIN, reads and drops a bounded part of what still comes (then stops reading, so the sender's
 * window fills), and is destroyed when the client ends or after LINGER_MS.
 */
function lingerOnClose(socket: Socket): void {
  (socket as Socket & { destroySoon: () => void }).destroySoon = () => {
    let dropped = 0;
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped >= LINGER_BYTES) socket.pause();
    });
    socket.once('end', () => socket.destroy());
    socket.end();
    socket.resume();
  };
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
      // response (a lingering close, so that the client still reads it) ends that.
      if (!ctx.req.complete && ctx.req.httpVersionMajor === 1) {
        ctx.set('connection', 'close');
        lingerOnClose(ctx.req.socket);
      }
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
