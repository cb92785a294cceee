import type pg from 'pg';
import type { LeaseStore } from './lease-store.js';

/** One row per lease; the token is a counter on the row; ticks have a unique (lease, schedule, tick) key. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS clutch_leases (
  name text PRIMARY KEY,
  holder text,
  token bigint NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS clutch_ticks (
  lease text NOT NULL,
  schedule text NOT NULL,
  tick bigint NOT NULL,
  token bigint NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (lease, schedule, tick)
);`;

/**
 * Take or renew in one statement, on the server's clock: a new row, or the row updated when it is
 * free, expired, or already this holder's. The token grows only when the holder changes.
 */
const ACQUIRE = `
INSERT INTO clutch_leases AS l (name, holder, token, expires_at)
VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
ON CONFLICT (name) DO UPDATE SET
  token = CASE WHEN l.holder IS NOT DISTINCT FROM EXCLUDED.holder AND l.expires_at > now() THEN l.token ELSE l.token + 1 END,
  holder = EXCLUDED.holder,
  expires_at = EXCLUDED.expires_at
WHERE l.holder IS NULL OR l.holder = EXCLUDED.holder OR l.expires_at <= now()
RETURNING token`;

const RELEASE = `UPDATE clutch_leases SET holder = NULL, expires_at = now() WHERE name = $1 AND holder = $2`;

/** A tick is claimed only under the lease's current token, held and unexpired, and only once. */
const CLAIM = `
INSERT INTO clutch_ticks (lease, schedule, tick, token)
SELECT $1, $4, $5, $3 FROM clutch_leases
WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > now()
ON CONFLICT DO NOTHING
RETURNING tick`;

/** Claims older than this are deleted now and then. */
const KEEP_TICKS = `DELETE FROM clutch_ticks WHERE claimed_at < now() - interval '1 day'`;

/** PostgreSQL (`pg`): the default real store. */
export class PostgresStore implements LeaseStore {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  #ready: Promise<void> | null = null;
  #claims = 0;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** `timeoutMs` bounds each statement and each connection attempt: a store that hangs is a store that is down. */
  static async connect(url: string, timeoutMs: number): Promise<PostgresStore> {
    const { default: pgModule } = await import('pg');
    const pool = new pgModule.Pool({
      connectionString: url,
      max: 2,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      statement_timeout: timeoutMs,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection that breaks (the server restarts) must not be an uncaught error.
    pool.on('error', () => {});
    return new PostgresStore(pool);
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<{ acquired: boolean; token: number }> {
    await this.#schema();
    const { rows } = await this.#pool.query<{ token: string }>(ACQUIRE, [name, holder, ttlMs]);
    if (rows.length > 0) return { acquired: true, token: Number(rows[0]!.token) };
    const current = await this.#pool.query<{ token: string }>('SELECT token FROM clutch_leases WHERE name = $1', [name]);
    return { acquired: false, token: Number(current.rows[0]?.token ?? 0) };
  }

  async release(name: string, holder: string): Promise<void> {
    await this.#pool.query(RELEASE, [name, holder]);
  }

  async claimTick(name: string, holder: string, token: number, schedule: string, tick: number): Promise<boolean> {
    await this.#schema();
    const { rows } = await this.#pool.query(CLAIM, [name, holder, token, schedule, tick]);
    if (++this.#claims % 1_000 === 0) await this.#pool.query(KEEP_TICKS).catch(() => {});
    return rows.length > 0;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  /** Creates the tables once; several clusters creating them at the same moment is fine. */
  #schema(): Promise<void> {
    this.#ready ??= this.#pool.query(SCHEMA).then(
      () => {},
      (err: Error & { code?: string }) => {
        // 23505/42P07: another cluster created them in the same instant. Anything else: try again next time.
        if (err.code === '23505' || err.code === '42P07') return;
        this.#ready = null;
        throw err;
      },
    );
    return this.#ready;
  }
}
