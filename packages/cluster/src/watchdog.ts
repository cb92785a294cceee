import { takesMessages, type ChildHandle } from './child-handle.js';
import type { HeartbeatMessage } from './protocol.js';

/** What the master last heard from a process, and what it makes of it. */
export interface Vitals {
  /** The last heartbeat (its figures), or null before the first. */
  last: HeartbeatMessage | null;
  /** When the last heartbeat came (ms since epoch); the boot's end before the first. */
  heardAt: number;
  /** CPU use over the last heartbeat interval, percent of one core. */
  cpuPercent: number;
  /** Heartbeats in a row with RSS over the limit. */
  overMemory: number;
  /** Set once the watchdog has acted on this process: it is not acted on twice. */
  flagged: 'stalled' | 'memory' | null;
}

export interface WatchdogOptions {
  /** A process silent this long (ms) is stalled; 0 turns stall detection off. */
  stallTimeout: number;
  /** A worker whose RSS stays above this (bytes) is recycled; undefined turns it off. */
  maxMemory: number | undefined;
  /** Heartbeats in a row over `maxMemory` before a worker counts as over it (a spike is not a leak). */
  memorySamples?: number;
  onStall(handle: ChildHandle, silentMs: number): void;
  onMemory(handle: ChildHandle, rss: number): void;
}

/**
 * The master's watchdog: every process proves with heartbeats that its event loop turns. A
 * process that booted and then goes silent for `stallTimeout` is reported stalled — whatever the
 * cause: a busy loop, SIGSTOP, a native deadlock — and a worker whose RSS stays above `maxMemory`
 * is reported over it. It decides; the master replaces.
 */
export class Watchdog {
  readonly #options: WatchdogOptions;
  readonly #vitals = new Map<ChildHandle, Vitals>();
  #timer: NodeJS.Timeout | null = null;

  constructor(options: WatchdogOptions) {
    this.#options = { memorySamples: 3, ...options };
  }

  /** Changes the limits (the project's config arrives with the agent). */
  configure(limits: { stallTimeout?: number; maxMemory?: number | undefined }): void {
    if (limits.stallTimeout !== undefined) this.#options.stallTimeout = limits.stallTimeout;
    if ('maxMemory' in limits) this.#options.maxMemory = limits.maxMemory;
  }

  get stallTimeout(): number {
    return this.#options.stallTimeout;
  }

  /** How often a child sends a heartbeat: often enough that a stall is seen within a fraction of the stall timeout, and at least once a second (status and metrics). */
  get heartbeatMs(): number {
    const stall = this.#options.stallTimeout;
    return stall > 0 ? Math.max(50, Math.min(1_000, Math.floor(stall / 4))) : 1_000;
  }

  /** Starts watching a process that has booted: its silence counts from now. */
  watch(handle: ChildHandle): void {
    const vitals = this.#vitals.get(handle);
    if (vitals) vitals.heardAt = Date.now();
    else this.#vitals.set(handle, { last: null, heardAt: Date.now(), cpuPercent: 0, overMemory: 0, flagged: null });
    this.#timer ??= setInterval(() => this.#check(), 250).unref();
  }

  /** The process is gone (or leaving on purpose): it is watched no more. */
  forget(handle: ChildHandle): void {
    this.#vitals.delete(handle);
  }

  beat(handle: ChildHandle, message: HeartbeatMessage): void {
    let vitals = this.#vitals.get(handle);
    if (!vitals) {
      // Beats before the boot ends only feed the figures; watching starts with watch().
      vitals = { last: null, heardAt: 0, cpuPercent: 0, overMemory: 0, flagged: null };
      this.#vitals.set(handle, vitals);
    }
    const now = Date.now();
    if (vitals.last && vitals.heardAt > 0) {
      const used = message.cpu.user + message.cpu.system - (vitals.last.cpu.user + vitals.last.cpu.system);
      const wall = (now - vitals.heardAt) * 1000;
      vitals.cpuPercent = wall > 0 ? Math.max(0, (100 * used) / wall) : 0;
    }
    vitals.last = message;
    if (vitals.heardAt > 0 || this.#watched(handle)) vitals.heardAt = now;
    const max = this.#options.maxMemory;
    if (handle.role === 'worker' && max !== undefined && message.rss > max) vitals.overMemory++;
    else vitals.overMemory = 0;
    if (vitals.overMemory >= this.#options.memorySamples! && vitals.flagged === null && this.#inService(handle)) {
      vitals.flagged = 'memory';
      this.#options.onMemory(handle, message.rss);
    }
  }

  vitals(handle: ChildHandle): Vitals | undefined {
    return this.#vitals.get(handle);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #watched(handle: ChildHandle): boolean {
    return (this.#vitals.get(handle)?.heardAt ?? 0) > 0;
  }

  #inService(handle: ChildHandle): boolean {
    return takesMessages(handle.state) && !handle.retired;
  }

  #check(): void {
    const timeout = this.#options.stallTimeout;
    if (timeout <= 0) return;
    const now = Date.now();
    for (const [handle, vitals] of this.#vitals) {
      if (vitals.flagged !== null || vitals.heardAt === 0 || !this.#inService(handle)) continue;
      const silent = now - vitals.heardAt;
      if (silent > timeout) {
        vitals.flagged = 'stalled';
        this.#options.onStall(handle, silent);
      }
    }
  }
}
