/**
 * What the master and the `app` command know of another process, from /proc on Linux. A pid alone
 * proves nothing: a zombie (a master killed and never reaped) still has one, and the kernel gives
 * dead processes' pids to new ones. Elsewhere, `kill(pid, 0)` is all there is.
 */
import { readFileSync } from 'node:fs';

const HAS_PROC = process.platform === 'linux';

/** The fields after the command name in /proc/<pid>/stat (state first), or null if the process is gone. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** When the process started, in clock ticks since boot (with its pid, it names one process for good); null if unknown. */
export function startTimeOf(pid: number): number | null {
  if (!HAS_PROC) return null;
  const start = statFields(pid)?.[19];
  return start === undefined ? null : Number(start);
}

/**
 * True while `pid` runs — not a zombie, and, when `startTime` is given, the same process that had
 * it then (not a newer one that reused the pid).
 */
export function isRunning(pid: number, startTime?: number | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (!HAS_PROC) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  const fields = statFields(pid);
  if (!fields || fields[0] === 'Z' || fields[0] === 'X') return false;
  return startTime === undefined || startTime === null || Number(fields[19]) === startTime;
}

/** The real uid of a running process; null if unknown. */
export function uidOf(pid: number): number | null {
  if (!HAS_PROC) return null;
  try {
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return uid === undefined ? null : Number(uid);
  } catch {
    return null;
  }
}

/** The command line a process shows (its title, once it set one); null if unknown. */
export function commandOf(pid: number): string | null {
  if (!HAS_PROC) return null;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replaceAll('\0', ' ');
  } catch {
    return null;
  }
}

/** The title a master sets, so that `ps` and a pid file's reader can tell it from anything else. */
export function masterTitle(title: string): string {
  return `clutch-master ${title}`;
}
