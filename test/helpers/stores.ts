/**
 * Real lease stores for tests: a PostgreSQL and a Redis server started on loopback in a temp
 * directory, stopped (and removed) by `stop()` — and, as a last resort, when the test process exits.
 * Never a mock: the elector's guarantees are only as good as the store's statements.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cleanups = new Set<() => void>();
process.on('exit', () => {
  for (const c of cleanups) c();
});

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

/** PostgreSQL 15 from the machine (initdb, pg_ctl as the postgres user), trust auth on 127.0.0.1, fsync off. */
export async function startPostgres(): Promise<StoreServer> {
  const dir = mkdtempSync(join(tmpdir(), 'clutch-pg-'));
  const pgUid = Number(execFileSync('id', ['-u', 'postgres']).toString());
  const pgGid = Number(execFileSync('id', ['-g', 'postgres']).toString());
  chownSync(dir, pgUid, pgGid);
  const data = join(dir, 'data');
  const as = (cmd: string, args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  const pgctl = (action: string[]) => as('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '20', ...action]);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off`;
  const start = async () => {
    pgctl(['-o', options, 'start']);
  };
  const halt = async () => {
    try {
      pgctl(['-m', 'immediate', 'stop']);
    } catch {
      // Not running.
    }
  };
  const cleanup = () => {
    try {
      execFileSync('runuser', ['-u', 'postgres', '--', 'pg_ctl', '-D', data, '-m', 'immediate', 'stop'], { stdio: 'ignore' });
    } catch {
      // Not running.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.add(cleanup);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    halt,
    start,
    async stop() {
      cleanups.delete(cleanup);
      cleanup();
    },
  };
}

/** redis-server from the machine, on 127.0.0.1, with an append-only file synced on every write (the token counter must survive a restart). */
export async function startRedis(): Promise<StoreServer> {
  const dir = mkdtempSync(join(tmpdir(), 'clutch-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = c;
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      c.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
  const halt = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise((r) => {
      c.once('exit', r);
      c.kill('SIGKILL');
    });
  };
  const cleanup = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.add(cleanup);
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    halt,
    start,
    async stop() {
      cleanups.delete(cleanup);
      await halt();
      cleanup();
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
