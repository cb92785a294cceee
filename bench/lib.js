// Process and HTTP helpers for the benchmark. Loopback only; every process tree it starts is
// killed by stop() or, as a last resort, on exit.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect as netConnect, createServer } from 'node:net';

const trees = new Set();
process.on('exit', () => {
  for (const pgid of trees) killGroup(pgid, 'SIGKILL');
});
// Ctrl-C during a run: leave through 'exit', so every peer tree (and the pm2 daemon) is killed.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

export function killGroup(pgid, signal = 'SIGTERM') {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone
  }
}

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Spawns a command in its own process group (so the whole tree can be stopped). */
export function spawnTree(command, args, { env = {}, cwd, ipc = false, stdout = false } = {}) {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', stdout ? 'pipe' : 'ignore', 'pipe', ...(ipc ? ['ipc'] : [])],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s) => (stderr = (stderr + s).slice(-4000)));
  // `stdout: true`: every line it prints, kept (the bench reads the master's log of a reload).
  const lines = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (s) => {
    const parts = (partial + s).split('\n');
    partial = parts.pop();
    lines.push(...parts);
  });
  trees.add(child.pid);
  return {
    child,
    pid: child.pid,
    stderr: () => stderr,
    lines,
    async stop(timeoutMs = 15_000) {
      killGroup(child.pid, 'SIGTERM');
      const exited = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
      const timer = new Promise((r) => setTimeout(r, timeoutMs, 'timeout'));
      if ((await Promise.race([exited, timer])) === 'timeout') killGroup(child.pid, 'SIGKILL');
      // The children of the group may outlive the leader for a moment.
      for (let i = 0; i < 200 && groupMembers(child.pid).length > 0; i++) await sleep(25);
      killGroup(child.pid, 'SIGKILL');
      trees.delete(child.pid);
    },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function get(url, { close = true, timeoutMs = 5_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: close ? { connection: 'close' } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Polls until the URL answers 200; resolves with the milliseconds since `since`. */
export async function waitForOk(url, since, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await get(url, { timeoutMs: 1_000 }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return performance.now() - since;
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs}ms`);
    await sleep(5);
  }
}

function stat(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]) };
}

export function groupMembers(pgid) {
  const members = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const s = stat(entry);
      if (s.pgrp === pgid && s.state !== 'Z') members.push(Number(entry));
    } catch {
      // gone
    }
  }
  return members;
}

/** The process and every descendant. */
export function descendants(root) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { ppid, state } = stat(entry);
      if (state === 'Z') continue;
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // gone
    }
  }
  const all = [root];
  for (let i = 0; i < all.length; i++) all.push(...(children.get(all[i]) ?? []));
  return all;
}

/** CPU time (user + system) the processes have used so far, in ms (/proc ticks are 10 ms). */
export function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks * 10;
}

export function rssMB(pids) {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', ...options });
}

/**
 * A raw Connection: close load: `connections` loops, each opening a TCP connection, sending one
 * GET with `Connection: close`, reading the whole answer and starting over. autocannon queues its
 * next request on a connection that is being closed, which makes its close-traffic latencies its
 * own; this measures what the server does.
 */
export function closeLoad(url, { connections, seconds }) {
  const { hostname, port, pathname } = new URL(url);
  const deadline = performance.now() + seconds * 1000;
  const latencies = [];
  let ok = 0;
  let failed = 0;
  const one = () =>
    new Promise((resolve) => {
      const began = performance.now();
      const socket = netConnect(Number(port), hostname);
      let head = '';
      socket.setNoDelay(true);
      socket.on('connect', () => socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`));
      socket.on('data', (d) => {
        if (head.length < 16) head += d.toString('latin1');
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        if (head.startsWith('HTTP/1.1 200')) {
          ok++;
          latencies.push(performance.now() - began);
        } else {
          failed++;
        }
        resolve();
      });
    });
  const loop = async () => {
    while (performance.now() < deadline) await one();
  };
  return Promise.all(Array.from({ length: connections }, loop)).then(() => {
    latencies.sort((a, b) => a - b);
    const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? NaN;
    return { rps: ok / seconds, p50: at(50), p99: at(99), failed, total: ok + failed };
  });
}

/** The stream rows: n messages of each size from the agent to one worker (how the cost grows with size). */
export const STREAM_SIZES = [
  { size: 1024, n: 10_000, label: '1 KB' },
  { size: 64 * 1024, n: 1_000, label: '64 KB' },
  { size: 1024 * 1024, n: 100, label: '1 MB' },
];
