import type { RestartReason } from './reload.js';
import { RunStats } from './run-stats.js';

/** A process slot: a worker's slot number, or the agent's. */
export type SlotKey = number | 'agent';

export interface RestartRecord {
  reason: RestartReason;
  /** When the replacement was started (ms since epoch). */
  at: number;
}

/**
 * Every replacement of a process and why, in one place: `app status` shows per slot how often its
 * process was replaced (reloads aside) and the last reason; /metrics counts them by role and reason.
 */
export class RestartLog {
  readonly #count = new Map<SlotKey, number>();
  readonly #last = new Map<SlotKey, RestartRecord>();
  readonly #totals = new Map<string, number>();
  #reloads = 0;

  record(slot: SlotKey, reason: RestartReason): void {
    if (reason !== 'reload') this.#count.set(slot, (this.#count.get(slot) ?? 0) + 1);
    this.#last.set(slot, { reason, at: Date.now() });
    const key = `${slot === 'agent' ? 'agent' : 'worker'}\0${reason}`;
    this.#totals.set(key, (this.#totals.get(key) ?? 0) + 1);
  }

  /** Every reload, by what it replaced, with its duration and outcome (clutch_reload_* in /metrics). */
  readonly reloadRuns = new RunStats('clutch_reload', 'replaced', 'reloads');

  /** A reload ended: `ok`, it finished (whatever it replaced); else it failed and the old processes serve. */
  reloaded(replaced: string, ms: number, ok = true): void {
    if (ok) this.#reloads++;
    this.reloadRuns.record(replaced, ms, ok);
  }

  /** Replacements of this slot's process, reloads not counted. */
  restarts(slot: SlotKey): number {
    return this.#count.get(slot) ?? 0;
  }

  last(slot: SlotKey): RestartRecord | null {
    return this.#last.get(slot) ?? null;
  }

  /** Replacements by role and reason, for /metrics. */
  totals(): Array<{ role: 'agent' | 'worker'; reason: RestartReason; count: number }> {
    return [...this.#totals].map(([key, count]) => {
      const [role, reason] = key.split('\0') as ['agent' | 'worker', RestartReason];
      return { role, reason, count };
    });
  }

  get reloads(): number {
    return this.#reloads;
  }
}
