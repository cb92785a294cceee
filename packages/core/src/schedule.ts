import { basename, join, relative } from 'node:path';
import type { Cron } from 'croner';
import type { Context } from './context.js';
import { ClutchError, CoreErrorCode } from './errors.js';
import { importDefault } from './import-module.js';
import { listModules } from './load-controllers.js';
import { isPlainObject } from './merge-config.js';
import type { LoadUnit } from './plugins.js';

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

function bad(file: string, why: string): never {
  throw new ClutchError(CoreErrorCode.SCHEDULE_INVALID, `${file}: ${why}`);
}

async function check(unit: LoadUnit, file: string, exported: unknown): Promise<Schedule> {
  if (!isPlainObject(exported)) bad(file, 'must export default { schedule: { … }, task(ctx) { … } }');
  const { schedule, task } = exported as Partial<ScheduleDefinition>;
  if (typeof task !== 'function') bad(file, 'has no task function');
  if (!isPlainObject(schedule)) bad(file, 'has no schedule object');
  const opts = schedule as unknown as ScheduleOptions;
  if (opts.type !== 'worker' && opts.type !== 'all' && opts.type !== 'cluster')
    bad(file, `schedule.type must be 'worker', 'all' or 'cluster', got ${JSON.stringify(opts.type)}`);
  if (opts.type === 'cluster' && opts.immediate)
    bad(file, "schedule.immediate is not for type 'cluster': its ticks are the scheduled times every host agrees on");
  if ((opts.interval === undefined) === (opts.cron === undefined)) bad(file, 'needs exactly one of schedule.interval and schedule.cron');
  let interval: number | null = null;
  let cron: Cron | null = null;
  if (opts.interval !== undefined) {
    interval = parseInterval(opts.interval);
    if (interval === null) bad(file, `schedule.interval ${JSON.stringify(opts.interval)} is not a positive duration (ms, or like '10s', '5m')`);
  } else {
    try {
      // croner is loaded only by projects that use cron.
      const { Cron } = await import('croner');
      cron = new Cron(String(opts.cron), { paused: true });
    } catch (err) {
      bad(file, `schedule.cron ${JSON.stringify(opts.cron)} is not a valid cron expression (${(err as Error).message})`);
    }
  }
  return {
    key: `${unit.name}:${relative(unit.path, file)}`,
    file,
    type: opts.type,
    interval,
    cron,
    immediate: opts.immediate === true,
    disable: opts.disable === true,
    task: task,
  };
}

/** Loads and checks app/schedule/* of every unit. A bad schedule is a start error naming its file. */
export async function loadSchedules(units: LoadUnit[]): Promise<Schedule[]> {
  const schedules: Schedule[] = [];
  for (const unit of units) {
    for (const file of await listModules(join(unit.path, 'app', 'schedule'))) {
      if (basename(file).startsWith('_')) continue;
      schedules.push(await check(unit, file, await importDefault(file)));
    }
  }
  return schedules;
}
