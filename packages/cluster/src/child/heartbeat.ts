import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ClusterErrorCode } from '../errors.js';
import type { HttpStats } from '../http-stats.js';
import type { Logger } from '../logger.js';
import { MemorySampler, describeSampleError } from '../memory-sample.js';
import type { ChildMessage, ShedState } from '../protocol.js';

/** A running heartbeat: `beat()` sends one now; `shedFrom` adds a worker's load-shedding state to every beat. */
export interface Heartbeat {
  beat(): void;
  shedFrom(source: () => ShedState): void;
}

/**
 * Sends the master a heartbeat every `intervalMs` from a timer: if the event loop stops turning (a
 * busy loop, SIGSTOP, a deadlock in native code), the heartbeats stop and the master's watchdog
 * notices. A loop that is busy but turns still runs its timers, so it is never taken for stalled.
 * Each beat carries what status and metrics show: CPU, memory, event-loop delay, HTTP counts.
 */
export function startHeartbeat(send: (message: ChildMessage) => boolean, intervalMs: number, logger: Logger, http?: HttpStats, maxMemory?: number): Heartbeat {
  let shed: (() => ShedState) | null = null;
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const memory = new MemorySampler(describeSampleError(logger, ClusterErrorCode.SAMPLE_FAILED));
  const beat = () => {
    const cpu = process.cpuUsage();
    const mem = memory.sample();
    const ms = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);
    const message: ChildMessage = {
      clutch: 'heartbeat',
      cpu: { user: cpu.user, system: cpu.system },
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      loop: { mean: ms(delay.mean), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      ...(http ? { http: http.counts } : {}),
      ...(shed ? { shed: shed() } : {}),
    };
    delay.reset();
    try {
      send(message);
    } catch {
      // The channel closed under us: the master is gone, and the process follows.
    }
  };
  setInterval(beat, intervalMs).unref();
  beat();
  // A leak can add hundreds of MB between two heartbeats: with a memory limit, the RSS is read every
  // 100 ms (one read of /proc/self/stat), and a beat goes at once — and every 100 ms while it stays
  // over — so the master acts within a tenth of a second, not within seconds.
  if (maxMemory !== undefined)
    setInterval(() => {
      let rss: number;
      try {
        rss = process.memoryUsage.rss();
      } catch {
        return; // Out of descriptors: the heartbeat says so.
      }
      if (rss > maxMemory) beat();
    }, MEMORY_WATCH_MS).unref();
  return {
    beat,
    shedFrom: (source) => {
      shed = source;
    },
  };
}

const MEMORY_WATCH_MS = 100;
