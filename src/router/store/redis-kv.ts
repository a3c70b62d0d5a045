/**
 * The KeyValueStore on Redis (`ioredis`): expiry is Redis's own (SET … EX), setIfAbsent is SET NX EX, and every key
 * carries the configured prefix so several routers (or test runs) share one Redis without meeting.
 */
import { Redis } from 'ioredis';
import { connectionError } from './connection-errors.js';
import { checkKvTtl, checkLimit } from './kv-keys.js';
import type { KeyValueStore } from './types.js';

export interface RedisKvOptions {
  url: string;
  /** prepended to every key (e.g. `tce:router:`) */
  keyPrefix?: string;
  /** how long to wait for the first connection (ms, default 10 s) */
  connectTimeoutMs?: number;
}

/** SCAN's page size: a hint to Redis, not a bound on what one call returns */
const SCAN_COUNT = 500;

export class RedisKv implements KeyValueStore {
  readonly kind = 'redis' as const;
  private closed = false;

  /** Connects (failing with one clear line when Redis cannot be reached) and answers the store. */
  static async open(options: RedisKvOptions): Promise<RedisKv> {
    const redis = new Redis(options.url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      // at startup a refused connection fails at once; once up, a dropped connection is retried with backoff
      retryStrategy: () => null,
      maxRetriesPerRequest: 3,
      // the commands of one event-loop turn leave in one socket write: one write per command cost a third of the
      // ingress's CPU under load (bench/router.js)
      enableAutoPipelining: true,
    });
    // errors surface through the commands (and connect below); without a listener ioredis prints them itself
    let socketError: unknown;
    redis.on('error', (error: unknown) => {
      socketError = error;
    });
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      // connect() rejects with a bare "Connection is closed."; the socket's own error says why (ECONNREFUSED, …)
      throw connectionError('Redis', options.url, socketError ?? error);
    }
    redis.options.retryStrategy = (times: number) => Math.min(50 * 2 ** times, 2000);
    return new RedisKv(redis, options.keyPrefix ?? '');
  }

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.prefix + key)) ?? undefined;
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    checkKvTtl(ttlSeconds);
    if (ttlSeconds === undefined) await this.redis.set(this.prefix + key, value);
    else await this.redis.set(this.prefix + key, value, 'PX', toMs(ttlSeconds));
  }

  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    checkKvTtl(ttlSeconds);
    const answer =
      ttlSeconds === undefined
        ? await this.redis.set(this.prefix + key, value, 'NX')
        : await this.redis.set(this.prefix + key, value, 'PX', toMs(ttlSeconds), 'NX');
    return answer === 'OK';
  }

  async del(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  /**
   * SCAN MATCH walks the whole keyspace, so memory is what stays bounded: only the `limit` smallest matching keys are
   * kept while scanning (Redis has no ordered key index), then their values are read in one MGET.
   */
  async list(prefix: string, limit: number): Promise<Array<{ key: string; value: string }>> {
    checkLimit(limit);
    if (limit === 0) return [];
    const match = `${escapeGlob(this.prefix + prefix)}*`;
    let kept: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
      cursor = next;
      if (keys.length > 0) {
        // SCAN may answer a key twice
        kept = [...new Set([...kept, ...keys])].sort(byBytes).slice(0, limit);
      }
    } while (cursor !== '0');
    if (kept.length === 0) return [];
    const values = await this.redis.mget(kept);
    const found: Array<{ key: string; value: string }> = [];
    kept.forEach((full, i) => {
      const value = values[i];
      // expired between SCAN and MGET
      if (value !== null && value !== undefined) found.push({ key: full.slice(this.prefix.length), value });
    });
    return found;
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** Redis expiry in ms: a fractional ttl (tests use tiny ones) is not rounded to 0 or up to whole seconds. */
function toMs(ttlSeconds: number): number {
  return Math.max(1, Math.round(ttlSeconds * 1000));
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Redis compares keys bytewise; so do SQLite and PostgreSQL ("C"), so list() is in one order everywhere */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
