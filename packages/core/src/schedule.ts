import type { Cron } from 'croner';
import type { Context } from './context.js';
import { RequestScoped } from './request-scoped.js';

/**
 * How a task runs: in one worker (rotating) or in every worker of this host; or `'cluster'`: in one
 * worker of the leader's cluster, at most once per tick across every host (config.cluster.leader).
 */
export type ScheduleType = 'worker' | 'all' | 'cluster';

export interface ScheduleOptions {
  /** Milliseconds, or a string like '500ms', '10s', '5m', '1h', '1d'. */
  interval?: number | string;
  /** A standard cron expression (5 fields, or 6 with seconds first). */
  cron?: string;
  type: ScheduleType;
  /** Run once as soon as the cluster is ready, then on schedule. */
  immediate?: boolean;
  /** true: loaded and checked, but never run. */
  disable?: boolean;
}

/**
 * app/schedule/<name>.ts.
 *
 * @example
 * export default defineSchedule({
 *   schedule: { interval: '1m', type: 'worker' },
 *   async task(ctx) { await ctx.service.cache.refresh(); },
 * });
 */
export interface ScheduleDefinition {
  schedule: ScheduleOptions;
  task(ctx: Context): unknown;
}

/** Identity, for type inference in schedule files. */
export function defineSchedule(definition: ScheduleDefinition): ScheduleDefinition {
  return definition;
}

/** A checked schedule, keyed by its file relative to its unit (`app/schedule/clean.ts`). */
export interface Schedule {
  key: string;
  file: string;
  type: ScheduleType;
  interval: number | null;
  cron: Cron | null;
  immediate: boolean;
  disable: boolean;
  task: (ctx: Context) => unknown;
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** '10s' → 10000. Hand-written: five units, and anything else is an error naming the file. */
export function parseInterval(value: number | string): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
  if (!m) return null;
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  return ms > 0 ? ms : null;
}

/**
 * egg's class form of a schedule: `static schedule` says when, `subscribe()` is the task, run on a
 * new instance each time (with `this.ctx`, `this.app`, `this.service`, as a controller's).
 *
 * @example
 * export default class Cleanup extends Subscription {
 *   static get schedule() { return { interval: '1m', type: 'worker' } as const; }
 *   async subscribe() { await this.service.cache.prune(); }
 * }
 */
export abstract class Subscription extends RequestScoped {
  abstract subscribe(ctx: Context): unknown;
}
