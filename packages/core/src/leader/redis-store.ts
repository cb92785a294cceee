import type { Redis } from 'ioredis';
import type { LeaseStore } from './lease-store.js';

/**
 * The lease key holds `<token>:<holder>` with a PX expiry on Redis's clock; the token counter is a
 * key of its own, INCRed when the holder changes and never reset. Each call is one Lua script:
 * atomic on the server.
 */
const ACQUIRE = `
local value = redis.call('GET', KEYS[1])
if value then
  local sep = string.find(value, ':', 1, true)
  if string.sub(value, sep + 1) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(string.sub(value, 1, sep - 1))
  end
  return -tonumber(string.sub(value, 1, sep - 1))
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
return token`;

const RELEASE = `
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, string.find(value, ':', 1, true) + 1) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** A tick is claimed only while the lease holds this very token and holder, and only once (SET NX). */
const CLAIM = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ':' .. ARGV[2] then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', 86400000) then return 1 end
return 0`;

type Scripted = Redis & {
  clutchAcquire(lease: string, counter: string, holder: string, ttl: number): Promise<number>;
  clutchRelease(lease: string, holder: string): Promise<number>;
  clutchClaim(lease: string, tickKey: string, token: number, holder: string): Promise<number>;
};

/**
 * Redis (`ioredis`). Fails fast while disconnected (no offline queue) and keeps reconnecting. What
 * failover and fsync settings mean for the lock is in docs/scaling.md.
 */
export class RedisStore implements LeaseStore {
  readonly kind = 'redis';
  readonly #redis: Scripted;

  private constructor(redis: Scripted) {
    this.#redis = redis;
  }

  static async connect(url: string, timeoutMs: number): Promise<RedisStore> {
    const { Redis } = await import('ioredis');
    const redis = new Redis(url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      retryStrategy: (times) => Math.min(200 * times, 2_000),
    }) as Scripted;
    redis.on('error', () => {});
    redis.defineCommand('clutchAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand('clutchRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('clutchClaim', { numberOfKeys: 2, lua: CLAIM });
    return new RedisStore(redis);
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<{ acquired: boolean; token: number }> {
    const token = await this.#redis.clutchAcquire(`clutch:lease:${name}`, `clutch:lease:${name}:token`, holder, ttlMs);
    return token > 0 ? { acquired: true, token } : { acquired: false, token: -token };
  }

  async release(name: string, holder: string): Promise<void> {
    await this.#redis.clutchRelease(`clutch:lease:${name}`, holder);
  }

  async claimTick(name: string, holder: string, token: number, schedule: string, tick: number): Promise<boolean> {
    return (await this.#redis.clutchClaim(`clutch:lease:${name}`, `clutch:tick:${name}:${schedule}:${tick}`, token, holder)) === 1;
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}
