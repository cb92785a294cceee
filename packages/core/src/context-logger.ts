import type { Logger } from '@clutch/cluster';
import type Koa from 'koa';
import type { Context } from 'koa';

const LOGGER = Symbol('clutch.ctxLogger');
/** When the request began (performance.now()), set as its context is made. */
export const STARTED = Symbol('clutch.started');
/** A context made outside any request (schedules): no response to wait for. */
export const ANONYMOUS = Symbol('clutch.anonymous');

type Ctx = Context & { [LOGGER]?: Logger; [STARTED]?: number; [ANONYMOUS]?: boolean; schedule?: { name: string } };

/** The request as egg's context logger shows it: `[ip method path +ms]`. */
function prefix(ctx: Ctx): string {
  if (ctx[ANONYMOUS]) return ctx.schedule ? `[schedule ${ctx.schedule.name}]` : '[-]';
  const ms = ctx[STARTED] === undefined ? 0 : Math.round(performance.now() - ctx[STARTED]);
  return `[${ctx.ip || '-'} ${ctx.method} ${ctx.path} +${ms}ms]`;
}

/**
 * `ctx.logger`: the process's logger, each line beginning with the request (`[ip METHOD /path +ms]`,
 * or `[schedule <name>]` in a schedule's task), made the first time a request logs.
 */
export function contextLogger(app: Koa, logger: Logger): void {
  Object.defineProperty(app.context, 'logger', {
    configurable: true,
    get(this: Ctx): Logger {
      // egg's `ctx.logger.error(err)`: the error is an argument of the line, so its stack (or, in
      // JSON, its `err` record) is kept whole.
      const line = (m: string | Error, a: unknown[]): [string, ...unknown[]] =>
        typeof m === 'string' ? [`${prefix(this)} ${m}`, ...a] : [`${prefix(this)} %s`, m, ...a];
      return (this[LOGGER] ??= {
        debug: (m, ...a) => logger.debug(...line(m, a)),
        info: (m, ...a) => logger.info(...line(m, a)),
        warn: (m, ...a) => logger.warn(...line(m, a)),
        error: (m, ...a) => logger.error(...line(m, a)),
      });
    },
  });
}

declare module 'koa' {
  interface DefaultContext {
    /** The app's logger; each line begins with the request: `[ip method path +ms]`. */
    readonly logger: Logger;
  }
}
