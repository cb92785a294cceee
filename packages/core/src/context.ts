import type { Context as KoaContext } from 'koa';
import type { Application } from './application.js';
import type { ServiceTree } from './service.js';

/** T without its index signatures: Koa's context has `[key: string]: any`, which would hide every typo. */
type WithoutIndex<T> = { [K in keyof T as string extends K ? never : number extends K ? never : symbol extends K ? never : K]: T[K] };

/**
 * A request's context, as Koa builds it, typed without Koa's `any` escape hatches: `ctx.app` is
 * Clutch's Application (messenger, config, logger…), `ctx.service` the declared services,
 * `ctx.params` the router's parameters, `ctx.state` a bag of unknowns. Controllers, services and
 * schedule tasks receive it.
 */
export type Context = Omit<WithoutIndex<KoaContext>, 'app' | 'service' | 'params' | 'state'> & {
  app: Application;
  service: ServiceTree;
  params: Record<string, string>;
  state: Record<string, unknown>;
  /**
   * In a schedule task: which run this is. `name` is the schedule (`<unit>:app/schedule/<file>`),
   * `tick` its scheduled time (ms since epoch), `token` the leader's fencing token for a
   * `type: 'cluster'` schedule — pass it with your writes so a store can refuse a stale leader's.
   */
  schedule?: { name: string; tick: number; token: number | null };
};
