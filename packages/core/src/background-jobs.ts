import { withTimeout } from '@clutch/cluster/with-timeout';
import type Koa from 'koa';
import type { Context } from 'koa';
import type { Context as ClutchContext } from './context.js';
import { ANONYMOUS } from './context-logger.js';

type Ctx = Context & { [ANONYMOUS]?: boolean };

/** One runInBackground job: after the response, its outcome logged with the request. */
function background(ctx: Ctx, fn: (ctx: ClutchContext) => unknown): Promise<void> {
  const name = fn.name || 'anonymous';
  return new Promise<void>((resolve) => {
    const run = () => {
      const began = performance.now();
      const ms = () => Math.round(performance.now() - began);
      Promise.resolve()
        .then(() => fn(ctx as unknown as ClutchContext))
        .then(
          () => ctx.logger.debug('background job %s done in %dms', name, ms()),
          (err: unknown) => ctx.logger.error('background job %s failed after %dms: %s', name, ms(), err),
        )
        .finally(resolve);
    };
    // After the response: 'close' comes once it is sent (or the client went away).
    if (ctx[ANONYMOUS] || ctx.res.writableFinished || ctx.res.destroyed) setImmediate(run);
    else ctx.res.once('close', run);
  });
}

/**
 * `ctx.runInBackground(fn)`: a job that runs once the response is sent and whose failure is logged
 * with the request (never thrown at the client). The jobs not yet settled are kept, so a stop lets
 * them finish before beforeClose.
 */
export class BackgroundJobs {
  readonly #pending = new Set<Promise<void>>();

  /** Defines `ctx.runInBackground` on the contexts of `app`, its jobs kept here. */
  attach(app: Koa): void {
    const add = (job: Promise<void>) => {
      this.#pending.add(job);
      void job.finally(() => this.#pending.delete(job));
    };
    Object.defineProperty(app.context, 'runInBackground', {
      configurable: true,
      value(this: Ctx, fn: (ctx: ClutchContext) => unknown): void {
        add(background(this, fn));
      },
    });
  }

  /** Resolves once every job has settled, or after `ms`; how many were still running. */
  async settle(ms: number): Promise<number> {
    if (this.#pending.size === 0) return 0;
    // Past `ms` the stop goes on: the jobs still running are counted, not waited for.
    await withTimeout(Promise.allSettled([...this.#pending]), ms, () => new Error('late')).catch(() => {});
    return this.#pending.size;
  }
}

declare module 'koa' {
  interface DefaultContext {
    /** Runs `fn(ctx)` after the response is sent; a failure is logged, never thrown. A stop waits for it. */
    runInBackground(fn: (ctx: ClutchContext) => unknown): void;
  }
}
