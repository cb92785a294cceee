import type { Application } from './application.js';
import { ClutchError, CoreErrorCode } from './errors.js';
import { loadSchedules } from './loader/schedules.js';
import { SCHEDULE_ACTION, type ScheduleRun } from './scheduler.js';

/**
 * The worker's half of the schedules: the agent times them (scheduler.ts); this worker loads the
 * tasks and runs one when the agent asks, with an anonymous context, answering true once it is done.
 * It also guards against overlap on its own: an agent that replaced another (a reload) does not know
 * about runs the old one started, so a task still running here answers false (skipped).
 */
export async function serveSchedules(app: Application): Promise<void> {
  const tasks = new Map((await loadSchedules(app.units)).map((s) => [s.key, s]));
  const running = new Set<string>();
  app.messenger.handle(SCHEDULE_ACTION, async ({ key, tick, token }: ScheduleRun) => {
    const schedule = tasks.get(key);
    if (!schedule) throw new ClutchError(CoreErrorCode.SCHEDULE_INVALID, `No schedule ${key} in this worker`);
    if (running.has(key)) return false;
    running.add(key);
    try {
      const ctx = app.createAnonymousContext();
      ctx.schedule = { name: key, tick: tick ?? Date.now(), token: token ?? null };
      await schedule.task(ctx);
    } finally {
      running.delete(key);
    }
    return true;
  });
}
