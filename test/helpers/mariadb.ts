/**
 * A real MariaDB for the egg-mysql and egg-sequelize tests: the machine's mariadbd (Debian's
 * mariadb-server; test/run.js installs it where it can, see test/system-servers.js), in a temp
 * datadir, on 127.0.0.1 and a free port, root with no password. `stop()` ends it and removes the
 * folder — and, as a last resort, so does the test process's exit.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ServerStartError, cleanups, freePort, spawnUntilReady, stopChild } from './stores.ts';

export interface MariaDb {
  host: string;
  port: number;
  user: string;
  /** Runs SQL as root through the mariadb client (for setup: `CREATE DATABASE …`). */
  sql(statement: string): Promise<string>;
  stop(): Promise<void>;
}

const HINT = 'node test/run.js installs it where it can (root with apt-get), or: apt-get install mariadb-server';
/** mariadbd refuses to run as root unless told to; as another user it runs as that user. */
const USER = process.getuid?.() === 0 ? ['--user=root'] : [];

export async function startMariaDb(): Promise<MariaDb> {
  const dir = mkdtempSync(join(tmpdir(), 'clutch-mariadb-'));
  const data = join(dir, 'data');
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    await promisify(execFile)(
      'mariadb-install-db',
      ['--no-defaults', `--datadir=${data}`, ...USER, '--auth-root-authentication-method=normal', '--skip-test-db'],
      {
        env: { ...process.env, LC_ALL: 'C' },
      },
    );
  } catch (err) {
    removeDir();
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw new ServerStartError(`mariadb-install-db failed (${e.code ?? ''}): ${e.stderr ?? e.message}; ${HINT}`, { cause: err });
  }
  const port = await freePort();
  const args = [
    '--no-defaults',
    `--datadir=${data}`,
    ...USER,
    '--bind-address=127.0.0.1',
    `--port=${port}`,
    `--socket=${join(dir, 'sock')}`,
    `--pid-file=${join(dir, 'pid')}`,
    '--skip-log-bin',
    '--innodb-buffer-pool-size=16M',
    // A commit reaches the OS, not the disk: this server lives as long as one test file.
    '--innodb-flush-log-at-trx-commit=0',
  ];
  let child: ChildProcess | null = null;
  const cleanup = () => {
    child?.kill('SIGKILL');
    removeDir();
  };
  cleanups.add(cleanup);
  try {
    child = await spawnUntilReady('mariadbd', 'mariadbd', args, {}, 'ready for connections', 20_000, HINT);
  } catch (err) {
    cleanups.delete(cleanup);
    removeDir();
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    user: 'root',
    async sql(statement) {
      const { stdout } = await promisify(execFile)('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${port}`, '-uroot', '-N', '-e', statement]);
      return stdout;
    },
    async stop() {
      cleanups.delete(cleanup);
      await stopChild(child, 'SIGTERM');
      removeDir();
    },
  };
}
