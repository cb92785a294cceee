/**
 * Runs the real `app` command on a fixture project and cleans up after it. Every cluster a test
 * starts is in its own process group, killed whole in `stop()`/`kill()` and, as a last resort,
 * when the test process exits — so a failing test leaves nothing running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import type { ClusterReadyInfo, ClusterStatus } from '@clutch/cluster';

export const APP_BIN = fileURLToPath(new URL('../../packages/cli/bin/app.js', import.meta.url));
export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

const groups = new Set<number>();
let starts = 0;
process.on('exit', () => {
  for (const pgid of groups) killGroup(pgid);
});

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Live members of a process group (the master's group holds the agent and every worker). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return members;
}

/** Waits until the process group is empty; rejects with the survivors past the deadline. */
export async function waitGroupGone(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = groupMembers(pgid);
    if (alive.length === 0) return;
    if (Date.now() > deadline) throw new Error(`processes of group ${pgid} still alive after ${timeoutMs}ms: ${alive.join(', ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until every pid is gone; rejects with the survivors past the deadline. */
export async function waitGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0) return;
    if (Date.now() > deadline) throw new Error(`processes still alive after ${timeoutMs}ms: ${alive.join(', ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class AppProcess {
  readonly child: ChildProcess;
  #out = '';
  #err = '';
  readonly #lineWaiters = new Set<() => void>();
  readonly exited: Promise<ExitResult>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [APP_BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
      env: { ...process.env, ...env },
    });
    groups.add(this.child.pid!);
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => this.#append(s, 'out'));
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => this.#append(s, 'err'));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Everything the cluster printed on stdout so far. */
  get stdout(): string {
    return this.#out;
  }

  get stderr(): string {
    return this.#err;
  }

  #append(s: string, which: 'out' | 'err'): void {
    if (which === 'out') this.#out += s;
    else this.#err += s;
    for (const wake of this.#lineWaiters) wake();
  }

  /** Resolves with the first stdout/stderr line matching `re`. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<string> {
    return this.waitForLines(re, 1, timeoutMs).then((lines) => lines[0]!);
  }

  /** Resolves with the first `count` stdout/stderr lines matching `re`, as soon as they are printed. */
  waitForLines(re: RegExp, count: number, timeoutMs: number): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const lines = `${this.#out}\n${this.#err}`.split('\n').filter((l) => re.test(l));
        if (lines.length >= count) {
          done();
          resolve(lines.slice(0, count));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`fewer than ${count} lines matching ${re} within ${timeoutMs}ms; output:\n${this.#out}\n${this.#err}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#lineWaiters.delete(check);
      };
      this.#lineWaiters.add(check);
      check();
    });
  }

  /** Resolves with the master's `cluster-ready` message. */
  waitForReady(timeoutMs: number): Promise<ClusterReadyInfo> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs}ms; output:\n${this.#out}\n${this.#err}`)), timeoutMs);
      this.child.on('message', (m: { action?: string; data?: ClusterReadyInfo }) => {
        if (m.action === 'cluster-ready' && m.data) {
          clearTimeout(timer);
          resolve(m.data);
        }
      });
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`exited (code ${code}, signal ${signal}) before ready; output:\n${this.#out}\n${this.#err}`));
      });
    });
  }

  /** Resolves with the exit, or rejects past the deadline. */
  waitForExit(timeoutMs: number): Promise<ExitResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not exit within ${timeoutMs}ms; output:\n${this.#out}\n${this.#err}`)), timeoutMs);
      void this.exited.then((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  /** SIGKILLs the whole process group: the master, the agent and every worker. */
  kill(): void {
    killGroup(this.pid);
    groups.delete(this.pid);
  }
}

/** Runs `app <args>` to completion (a command expected to exit), with a deadline. */
export async function runApp(
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = {},
): Promise<ExitResult & { stdout: string; stderr: string; app: AppProcess }> {
  const app = new AppProcess(args, env);
  try {
    const result = await app.waitForExit(timeoutMs);
    return { ...result, stdout: app.stdout, stderr: app.stderr, app };
  } finally {
    app.kill();
  }
}

/** Starts a fixture (a name under test/fixtures, or a path) with `app start --port 0` and waits for cluster-ready. */
export async function startFixture(
  name: string,
  args: string[] = [],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; command?: 'start' | 'dev'; noPort?: boolean } = {},
): Promise<{ app: AppProcess; info: ClusterReadyInfo }> {
  const shared = !name.startsWith('/');
  const dir = shared ? fixture(name) : name;
  // Test files run in parallel on the same fixture folders: a cluster is identified by folder and
  // title, so each start of a shared fixture gets a title of its own.
  const title = shared && !args.includes('--title') ? ['--title', `${name}-${process.pid}-${++starts}`] : [];
  const app = new AppProcess([options.command ?? 'start', dir, ...(options.noPort ? [] : ['--port', '0']), ...title, ...args], options.env);
  try {
    const info = await app.waitForReady(options.timeoutMs ?? 20_000);
    return { app, info };
  } catch (err) {
    app.kill();
    throw err;
  }
}

/** `app status <dir> --json`, asserting it succeeded. */
export async function appStatus(dir: string, title?: string): Promise<ClusterStatus> {
  const { code, stdout, stderr } = await runApp(['status', dir, '--json', ...(title ? ['--title', title] : [])], 10_000);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as ClusterStatus;
}

/**
 * Runs `app <command> <dir> … --title <title>` against a cluster this test started (its directory and
 * title read from its command line), to completion.
 */
export function commandOf(app: AppProcess, command: string, rest: string[] = [], timeoutMs = 60_000): ReturnType<typeof runApp> {
  const args = app.child.spawnargs;
  const title = args[args.indexOf('--title') + 1]!;
  const dir = args[args.indexOf('start') + 1]!;
  return runApp([command, dir, ...rest, '--title', title], timeoutMs);
}

/** `app status --json` of a cluster this test started; null when it does not answer. */
export async function statusOf(app: AppProcess): Promise<ClusterStatus | null> {
  const r = await commandOf(app, 'status', ['--json'], 10_000);
  return r.code === 0 ? (JSON.parse(r.stdout) as ClusterStatus) : null;
}

/** `app status --json` of a cluster this test started, which must answer. */
export async function liveStatus(app: AppProcess): Promise<ClusterStatus> {
  const s = await statusOf(app);
  assert.ok(s, 'app status answered');
  return s;
}
