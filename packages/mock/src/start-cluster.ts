import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { ClusterReadyInfo } from '@clutch/cluster';
import supertest from 'supertest';

export interface StartClusterOptions {
  workers?: number;
  env?: string;
  /** More `app start` flags. */
  args?: string[];
  /** How long to wait for cluster-ready, ms (default 30000). */
  timeout?: number;
}

/** A real cluster of a project, started by `app start --port 0`. */
export interface RunningCluster {
  info: ClusterReadyInfo;
  url: string;
  /** Everything the cluster printed so far. */
  output(): string;
  /** A supertest client for the cluster's URL. */
  request(): ReturnType<typeof supertest>;
  /** Stops it gracefully (SIGTERM) and resolves with the exit code once every process is gone. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILLs the whole tree at once. */
  kill(): void;
}

const groups = new Set<number>();
let hooked = false;
let count = 0;

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  groups.delete(pgid);
}

function appBin(): string {
  const pkg = createRequire(import.meta.url).resolve('@clutch/cli/package.json');
  return join(dirname(pkg), 'bin', 'app.js');
}

/**
 * Runs the real `app start` on a project with `--port 0`, in a process group of its own, and
 * resolves once the master reports `cluster-ready`. Whatever happens, the whole tree is killed when
 * the test process exits; call `stop()` in your `after()` to stop it gracefully first.
 *
 * @example
 * const cluster = await startCluster('apps/hello', { workers: 2 });
 * after(() => cluster.stop());
 * await cluster.request().get('/').expect(200);
 */
export function startCluster(baseDir: string, options: StartClusterOptions = {}): Promise<RunningCluster> {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const pgid of groups) killGroup(pgid);
    });
  }
  const args = ['start', resolve(baseDir), '--port', '0', '--workers', String(options.workers ?? 2), '--title', `mock-${process.pid}-${++count}`];
  if (options.env) args.push('--env', options.env);
  const child = spawn(process.execPath, [appBin(), ...args, ...(options.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
  const pgid = child.pid!;
  groups.add(pgid);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (output += s));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      killGroup(pgid);
      reject(new Error(`The cluster was not ready within ${options.timeout ?? 30_000}ms:\n${output}`));
    }, options.timeout ?? 30_000);
    void exited.then((code) => {
      clearTimeout(timer);
      killGroup(pgid);
      reject(new Error(`app start exited with code ${code} before the cluster was ready:\n${output}`));
    });
    child.on('message', (m: { action?: string; data?: ClusterReadyInfo }) => {
      if (m.action !== 'cluster-ready' || !m.data) return;
      clearTimeout(timer);
      // From here the cluster must not keep the test process alive: a test that forgets stop()
      // still exits (and the exit handler kills the tree). Were the test process killed outright,
      // the master sees its IPC parent go and stops by itself.
      child.unref();
      child.channel?.unref();
      (child.stdout as unknown as { unref?: () => void }).unref?.();
      (child.stderr as unknown as { unref?: () => void }).unref?.();
      const info = m.data;
      resolvePromise({
        info,
        url: info.url,
        output: () => output,
        request: () => supertest(info.url),
        async stop(timeoutMs = 20_000) {
          if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
          // Unref'd once ready; while we wait for its exit, it must hold the event loop again.
          child.ref();
          process.kill(pgid, 'SIGTERM');
          const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(r, timeoutMs, 'timeout').unref())]);
          killGroup(pgid);
          return code === 'timeout' ? null : code;
        },
        kill: () => killGroup(pgid),
      });
    });
  });
}
