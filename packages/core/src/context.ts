import type { Context as KoaContext } from 'koa';
import type { Application } from './application.js';

/**
 * A request's context, as Koa builds it, with `ctx.app` known to be Clutch's Application (its
 * messenger, config, logger…) and `ctx.service` typed (see ServiceTree). Controllers, services and
 * schedule tasks receive it.
 */
export type Context = KoaContext & { app: Application };
