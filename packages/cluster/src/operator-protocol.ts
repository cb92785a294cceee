/** The messages of the operator tools — `app profile`, the dashboard's schedules — between the master and a child (protocol.ts carries them in its unions). */
import type { ProfileKind } from './control.js';
import type { SerializedError } from './errors.js';

/** Child → master: part of the profile asked for by `profile` order `id`; the last has `done` (and `error` if it failed). */
export interface ProfileDataMessage {
  clutch: 'profile-data';
  id: number;
  chunk?: string;
  done?: boolean;
  error?: SerializedError;
}
/** Master → child: take a CPU profile (for `durationMs`) or a heap snapshot of yourself, and send it back (ProfileDataMessage). */
export interface ProfileMessage {
  clutch: 'profile';
  id: number;
  kind: ProfileKind;
  durationMs: number;
}
/** One schedule as the agent last ran it, for the dashboard. */
export interface ScheduleState {
  /** The schedule's file, relative to its unit (`app/schedule/clean.ts`). */
  key: string;
  type: 'worker' | 'all' | 'cluster';
  /** `every 10000 ms`, or the cron expression. */
  when: string;
  runs: number;
  failures: number;
  /** The last run: when it began (ms since epoch), how long it took, and the first failure's message. */
  last: { at: number; ms: number; ok: boolean; error?: string } | null;
  /** When the next tick is due (ms since epoch), or null. */
  next: number | null;
}
/** Agent → master: the schedules and their last runs (after each run), shown by the dashboard. */
export interface SchedulesMessage {
  clutch: 'schedules';
  schedules: ScheduleState[];
}
