/** The KeyValueStore on PostgreSQL (when no Redis is configured): one table, expiry checked in every statement. */
import type pg from 'pg';
import { checkKvTtl, checkLimit, likePrefix } from './kv-keys.js';
import { openPostgresPool, type PostgresPoolOptions } from './postgres-pool.js';
import type { KeyValueStore } from './types.js';

export interface PostgresKvOptions {
  now?: () => number;
  /** end the pool with the store (false when the event store shares it) */
  ownsPool?: boolean;
}

export class PostgresKv implements KeyValueStore {
  readonly kind = 'postgres' as const;
  private readonly now: () => number;
  private readonly ownsPool: boolean;
  private closed = false;

  static async open(options: PostgresPoolOptions & Omit<PostgresKvOptions, 'ownsPool'>): Promise<PostgresKv> {
    return new PostgresKv(await openPostgresPool(options), { now: options.now, ownsPool: true });
  }

  constructor(
    private readonly pool: pg.Pool,
    options: PostgresKvOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.ownsPool = options.ownsPool ?? false;
  }

  private expiry(ttlSeconds: number | undefined): number | null {
    checkKvTtl(ttlSeconds);
    return ttlSeconds === undefined ? null : this.now() + Math.round(ttlSeconds * 1000);
  }

  async get(key: string): Promise<string | undefined> {
    const result = await this.pool.query<{ value: string }>({
      name: 'router-kv-get',
      text: 'SELECT value FROM router_kv WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)',
      values: [key, this.now()],
    });
    return result.rows[0]?.value;
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    await this.pool.query({
      name: 'router-kv-set',
      text: `INSERT INTO router_kv (key, value, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
      values: [key, value, this.expiry(ttlSeconds)],
    });
  }

  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    // an expired holder counts as absent; concurrent callers serialise on the key's unique index, one wins
    const result = await this.pool.query({
      name: 'router-kv-set-nx',
      text: `INSERT INTO router_kv AS t (key, value, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
             WHERE t.expires_at IS NOT NULL AND t.expires_at <= $4`,
      values: [key, value, this.expiry(ttlSeconds), this.now()],
    });
    return (result.rowCount ?? 0) > 0;
  }

  async del(key: string): Promise<void> {
    await this.pool.query('DELETE FROM router_kv WHERE key = $1', [key]);
  }

  async list(prefix: string, limit: number): Promise<Array<{ key: string; value: string }>> {
    checkLimit(limit);
    const result = await this.pool.query<{ key: string; value: string }>(
      `SELECT key, value FROM router_kv WHERE key LIKE $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY key LIMIT $3`,
      [likePrefix(prefix), this.now(), limit],
    );
    return result.rows.map((r) => ({ key: r.key, value: r.value }));
  }

  /** drop expired rows (reads already ignore them); answers how many went */
  async purgeExpired(now: number = this.now()): Promise<number> {
    const result = await this.pool.query('DELETE FROM router_kv WHERE expires_at <= $1', [now]);
    return result.rowCount ?? 0;
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }
}
