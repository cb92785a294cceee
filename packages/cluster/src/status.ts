import { readFile } from 'node:fs/promises';
import type { ChildHandle, ProcessState } from './child-handle.js';
import type { LogHealth } from './log-sink.js';

/** One process as `app status` shows it. */
export interface ProcessStatus {
  pid: number;
  state: ProcessState | 'reloading';
  /** Milliseconds since the process was forked. */
  uptime: number;
  /** How many times this slot's process died and was replaced (reloads do not count). */
  restarts: number;
  /** Resident set size in bytes; null where it cannot be read. */
  rss: number | null;
  /** Log lines the process could not write (a full or read-only disk), and the last write error. */
  logs: LogHealth;
}

export interface ClusterStatus {
  master: ProcessStatus & { title: string; baseDir: string; env: string; url: string | null; /** Connections waiting in the master for a worker. */ waitingConnections: number };
  agent: ProcessStatus | null;
  workers: Array<ProcessStatus & { slot: number }>;
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

export async function childStatus(handle: ChildHandle, restarts: number): Promise<ProcessStatus> {
  return { pid: handle.pid, state: handle.state, uptime: Date.now() - handle.startedAt, restarts, rss: await rssOf(handle.pid), logs: handle.logHealth };
}
