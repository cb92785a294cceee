import { basename, join, relative } from 'node:path';
import type { Cron } from 'croner';
import type { Context } from '../context.js';
import { ClutchError, CoreErrorCode } from '../errors.js';
import { parseInterval, type Schedule, type ScheduleDefinition, type ScheduleOptions } from '../schedule.js';
import { importDefault } from './import-module.js';
import { listModules } from './list-modules.js';
import { isPlainObject } from './merge-config.js';
import type { LoadUnit } from './plugins.js';

function bad(file: string, why: string): never {
  throw new ClutchError(CoreErrorCode.SCHEDULE_INVALID, `${file}: ${why}`);
}

/**
 * egg's class form: `class extends Subscription { static get schedule() { … } async subscribe() { … } }`
 * becomes `{ schedule, task }`, a new instance per run.
 */
function fromSubscription(exported: unknown): unknown {
  if (typeof exported !== 'function') return exported;
  const Cls = exported as (new (ctx: Context) => { subscribe?: (ctx: Context) => unknown }) & { schedule?: unknown };
  if (typeof Cls.prototype?.subscribe !== 'function') return exported;
  return {
    schedule: Cls.schedule,
    task: (ctx: Context) => {
      const instance = new Cls(ctx);
      return instance.subscribe!(ctx);
    },
  };
}

async function check(unit: LoadUnit, file: string, loaded: unknown): Promise<Schedule> {
  const exported = fromSubscription(loaded);
  if (!isPlainObject(exported)) bad(file, 'must export default { schedule: { … }, task(ctx) { … } } or a class extending Subscription');
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
      cron = new Cron(eggCron(String(opts.cron)), { paused: true });
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

/** The largest value of each cron field: with seconds first (6 fields), or without (5). */
const FIELD_MAX = { 6: [59, 59, 23, 31, 12, 7], 5: [59, 23, 31, 12, 7] } as const;

/**
 * egg's cron (cron-parser) takes `N/step` — from N to the field's end, every step: `25/30 * * * * *`
 * is seconds 25 and 55. croner refuses it, so it is written as the range croner reads the same way.
 */
export function eggCron(expression: string): string {
  const fields = expression.trim().split(/\s+/);
  const max = fields.length === 6 ? FIELD_MAX[6] : fields.length === 5 ? FIELD_MAX[5] : null;
  if (!max) return expression;
  return fields
    .map((field, i) => field.replace(/(^|,)(\d+)\/(\d+)(?=,|$)/g, (_, sep: string, from: string, step: string) => `${sep}${from}-${max[i]}/${step}`))
    .join(' ');
}
