import { takesMessages, type ChildHandle } from './child-handle.js';
import type { HeartbeatMessage } from './protocol.js';

/** What the master last heard from a process, and what it makes of it. */
export interface Vitals {
  /** The last heartbeat (its figures), or null before the first. */
  last: HeartbeatMessage | null;
  /** When the last heartbeat came (ms since epoch); the boot's end before the first; 0 while not watched. */
  heardAt: number;
  /**
   * How long the master has been awake and listening since the last heartbeat (or since watching
   * began), ms: time the master itself was frozen (SIGSTOP, a paused container, a VM stall) is not
   * counted, so on a resume nobody is taken for stalled. null while not watched.
   */
  silentMs: number | null;
  /** False once the process missed two heartbeats in a row: a worker gets no new connection until it answers again. */
  responsive: boolean;
  /** CPU use over the last heartbeat interval, percent of one core. */
  cpuPercent: number;
  /** Heartbeats in a row with RSS over the limit. */
  overMemory: number;
  /** Set once the watchdog has acted on this process: it is not acted on twice. */
  flagged: 'stalled' | 'memory' | null;
}

/** What the watchdog reports: the master's reactions (recycler.ts). */
export interface WatchdogReactions<H extends ChildHandle = ChildHandle> {
  onStall(handle: H, silentMs: number): void;
  /** Over the memory limit for `memorySamples` beats; false: not acted on now (asked again at the next beat over). */
  onMemory(handle: H, rss: number): boolean;
  /** The process missed two heartbeats: it may be frozen (SIGSTOP) or blocked; no new work for it until it answers. */
  onUnresponsive?(handle: H, silentMs: number): void;
  /** An unresponsive process sent a heartbeat again. */
  onResponsive?(handle: H): void;
}

export interface WatchdogOptions<H extends ChildHandle = ChildHandle> extends WatchdogReactions<H> {
  /** A process silent this long (ms) is stalled; 0 turns stall detection off. */
  stallTimeout: number;
  /** A worker whose RSS stays above this (bytes) is recycled; undefined turns it off. */
  maxMemory: number | undefined;
  /** Heartbeats in a row over `maxMemory` before a worker counts as over it (a spike is not a leak). */
  memorySamples?: number;
  /** The monotonic clock, ms (tests give their own). */
  now?: () => number;
}

/** How often the watchdog looks, ms. */
const CHECK_MS = 250;
/**
 * The most one look may count as time the children were silent. A look that comes later than this
 * after the previous one means the master itself did not run — frozen with its host, or alone — and
 * what it missed is nobody's silence: their heartbeats may be waiting, unread, in its channels.
 */
const MAX_STEP_MS = 4 * CHECK_MS;
/** Heartbeats missed (in heartbeat periods) before a process counts as unresponsive. */
const UNRESPONSIVE_BEATS = 2.5;

/**
 * The master's watchdog: every process proves with heartbeats that its event loop turns. A
 * process that booted and then goes silent for `stallTimeout` is reported stalled — whatever the
 * cause: a busy loop, SIGSTOP, a native deadlock — and a worker whose RSS stays above `maxMemory`
 * is reported over it. It decides; the master replaces.
 */
export class Watchdog<H extends ChildHandle = ChildHandle> {
  readonly #options: WatchdogOptions<H>;
  readonly #vitals = new Map<H, Vitals>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  #lastCheck = 0;

  constructor(options: WatchdogOptions<H>) {
    this.#options = { memorySamples: 3, ...options };
    this.#now = options.now ?? (() => performance.now());
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
  watch(handle: H): void {
    const vitals = this.#vitals.get(handle);
    if (vitals) {
      vitals.heardAt = Date.now();
      vitals.silentMs = 0;
    } else this.#vitals.set(handle, { last: null, heardAt: Date.now(), silentMs: 0, responsive: true, cpuPercent: 0, overMemory: 0, flagged: null });
    if (!this.#timer) {
      this.#lastCheck = this.#now();
      this.#timer = setInterval(() => this.check(), CHECK_MS).unref();
    }
  }

  /** The process is gone (or leaving on purpose): it is watched no more. */
  forget(handle: H): void {
    this.#vitals.delete(handle);
  }

  beat(handle: H, message: HeartbeatMessage): void {
    let vitals = this.#vitals.get(handle);
    if (!vitals) {
      // Beats before the boot ends only feed the figures; watching starts with watch().
      vitals = { last: null, heardAt: 0, silentMs: null, responsive: true, cpuPercent: 0, overMemory: 0, flagged: null };
      this.#vitals.set(handle, vitals);
    }
    const now = Date.now();
    if (vitals.last && vitals.heardAt > 0) {
      const used = message.cpu.user + message.cpu.system - (vitals.last.cpu.user + vitals.last.cpu.system);
      const wall = (now - vitals.heardAt) * 1000;
      vitals.cpuPercent = wall > 0 ? Math.max(0, (100 * used) / wall) : 0;
    }
    vitals.last = message;
    if (vitals.silentMs !== null) {
      vitals.heardAt = now;
      vitals.silentMs = 0;
      if (!vitals.responsive) {
        vitals.responsive = true;
        this.#options.onResponsive?.(handle);
      }
    }
    const max = this.#options.maxMemory;
    if (handle.role === 'worker' && max !== undefined && message.rss > max) vitals.overMemory++;
    else vitals.overMemory = 0;
    if (vitals.overMemory >= this.#options.memorySamples! && vitals.flagged === null && this.#inService(handle)) {
      if (this.#options.onMemory(handle, message.rss)) vitals.flagged = 'memory';
    }
  }

  vitals(handle: H): Vitals | undefined {
    return this.#vitals.get(handle);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #inService(handle: ChildHandle): boolean {
    return takesMessages(handle.state) && !handle.retired;
  }

  /**
   * One look (every 250 ms): each watched process's silence grows by the time since the last look —
   * at most MAX_STEP_MS, so a master that was frozen counts only what it saw awake. Public for tests.
   */
  check(): void {
    const now = this.#now();
    const step = Math.min(Math.max(0, now - this.#lastCheck), MAX_STEP_MS);
    this.#lastCheck = now;
    const timeout = this.#options.stallTimeout;
    const unresponsiveAfter = UNRESPONSIVE_BEATS * this.heartbeatMs;
    for (const [handle, vitals] of this.#vitals) {
      if (vitals.silentMs === null || vitals.flagged !== null || !this.#inService(handle)) continue;
      vitals.silentMs += step;
      if (vitals.responsive && vitals.silentMs > unresponsiveAfter) {
        vitals.responsive = false;
        this.#options.onUnresponsive?.(handle, Math.round(vitals.silentMs));
      }
      if (timeout > 0 && vitals.silentMs > timeout) {
        vitals.flagged = 'stalled';
        this.#options.onStall(handle, Math.round(vitals.silentMs));
      }
    }
  }
}
