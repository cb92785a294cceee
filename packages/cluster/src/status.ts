import { readFile } from 'node:fs/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ChildHandle, ChildState } from './child-handle.js';
import type { LogHealth } from './log-sink.js';
import type { MemorySampler } from './memory-sample.js';
import type { RestartRecord } from './restart-log.js';
import type { RunRecord } from './run-stats.js';
import type { Vitals } from './watchdog.js';

/** A process's state as `app status` shows it: a worker is `ready` once it serves. */
export type StatusState = 'starting' | 'ready' | 'reloading' | 'stopping' | 'dead';

/** A child's state in the status view: booting, and a worker booted but not listening yet, are `starting`. */
export function statusState(handle: Pick<ChildHandle, 'role' | 'state'>): StatusState {
  const shown: Record<ChildState, StatusState> = {
    booting: 'starting',
    ready: handle.role === 'agent' ? 'ready' : 'starting',
    listening: 'ready',
    stopping: 'stopping',
    dead: 'dead',
  };
  return shown[handle.state];
}

/** One process as `app status` shows it. */
export interface ProcessStatus {
  pid: number;
  state: StatusState;
  /** Milliseconds since the process was forked. */
  uptime: number;
  /** How many times this slot's process was replaced — crashed, stalled, over memory (reloads do not count). */
  restarts: number;
  /** The last replacement of this slot's process and why, or null. */
  lastRestart: RestartRecord | null;
  /** Resident set size in bytes; null where it cannot be read. */
  rss: number | null;
  /** V8 heap in use, bytes; null before the first heartbeat. */
  heapUsed: number | null;
  /** CPU use over the last heartbeat interval, percent of one core; null before two heartbeats. */
  cpu: number | null;
  /** Event-loop delay over the last heartbeat interval, ms; null before the first heartbeat. */
  loopDelay: { mean: number; p99: number; max: number } | null;
  /** Log lines the process could not write (a full or read-only disk), and the last write error. */
  logs: LogHealth;
  /** False while the process misses its heartbeats (frozen or blocked): a worker then gets no new connection. */
  responsive: boolean;
  /** A worker with load shedding on (config.cluster.overload): whether it answers 503 now, and its 503s so far; null otherwise. */
  shed: { active: boolean; total: number } | null;
}

export interface ClusterStatus {
  master: ProcessStatus & {
    title: string;
    baseDir: string;
    env: string;
    url: string | null;
    /** The health port's URL, when there is one. */
    health: string | null;
    /** Connections waiting in the master for a worker. */
    waitingConnections: number;
  };
  agent: ProcessStatus | null;
  workers: Array<ProcessStatus & { slot: number }>;
  /** The agent's schedules that have run: runs, failures, the last run. */
  schedules: RunRecord[];
  /** Whether this cluster leads (config.cluster.leader), as its agent last said; null while no agent is up. */
  leader: { leading: boolean; token: number | null; store: string } | null;
}

/** RSS of another process, from /proc on Linux; null elsewhere or if it just exited. */
export async function rssOf(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** A child as status shows it, from its handle, its vitals and its slot's restarts. */
export async function childStatus(
  handle: ChildHandle,
  vitals: Vitals | undefined,
  restarts: number,
  lastRestart: RestartRecord | null,
): Promise<ProcessStatus> {
  const beat = vitals?.last ?? null;
  return {
    pid: handle.pid,
    state: statusState(handle),
    uptime: Date.now() - handle.startedAt,
    restarts,
    lastRestart,
    rss: (await rssOf(handle.pid)) ?? beat?.rss ?? null,
    heapUsed: beat?.heapUsed ?? null,
    cpu: beat && vitals!.cpuPercent !== undefined ? round(vitals!.cpuPercent) : null,
    loopDelay: beat ? { mean: round(beat.loop.mean, 2), p99: round(beat.loop.p99, 2), max: round(beat.loop.max, 2) } : null,
    logs: handle.logHealth,
    responsive: vitals?.responsive ?? true,
    shed: beat?.shed ?? null,
  };
}

/** The master's own figures, as a child's heartbeat carries them. */
export interface OwnSample {
  cpu: number;
  /** Cumulative CPU seconds (user + system). */
  cpuSeconds: number;
  loopDelay: { mean: number; p99: number; max: number };
  heapUsed: number;
  rss: number;
}

/** The master's own CPU use and event-loop delay, sampled once a second as the children's heartbeats are. */
export class OwnVitals {
  readonly #delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  #cpu = process.cpuUsage();
  #at = Date.now();
  #latest: OwnSample;
  readonly #timer: NodeJS.Timeout;
  readonly #memory: MemorySampler;

  constructor(memory: MemorySampler) {
    this.#memory = memory;
    this.#delay.enable();
    this.#latest = this.#sample();
    this.#timer = setInterval(() => (this.#latest = this.#sample()), 1_000).unref();
  }

  get latest(): OwnSample {
    return this.#latest;
  }

  #sample(): OwnSample {
    const now = Date.now();
    const total = process.cpuUsage();
    const used = total.user + total.system - (this.#cpu.user + this.#cpu.system);
    const wall = Math.max(1, now - this.#at) * 1000;
    this.#cpu = total;
    this.#at = now;
    const ms = (ns: number) => round(Number.isFinite(ns) ? ns / 1e6 : 0, 2);
    const loopDelay = { mean: ms(this.#delay.mean), p99: ms(this.#delay.percentile(99)), max: ms(this.#delay.max) };
    this.#delay.reset();
    const mem = this.#memory.sample();
    return { cpu: round((100 * used) / wall), cpuSeconds: (total.user + total.system) / 1e6, loopDelay, heapUsed: mem.heapUsed, rss: mem.rss };
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#delay.disable();
  }
}
