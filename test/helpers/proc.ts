/** What a test reads of a process from /proc (Linux). */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Resident set size of `pid`, bytes. */
export function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** TCP sockets `pid` holds open in the CLOSE_WAIT state: the peer closed, and this process never did. */
export function closeWaitOf(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // Closed while we looked.
    }
  }
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // st 08 is CLOSE_WAIT; field 9 is the inode.
      if (f[3] === '08' && inodes.has(f[9]!)) n++;
    }
  }
  return n;
}

/** Every live descendant of `pid` (children, grandchildren, …). */
export function descendantsOf(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') parent.set(Number(entry), Number(fields[1]));
    } catch {
      // Gone while we looked.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, ppid] of parent)
      if (ppid === p) {
        out.push(child);
        walk(child);
      }
  };
  walk(pid);
  return out;
}
