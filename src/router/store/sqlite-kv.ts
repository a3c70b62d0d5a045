/** The KeyValueStore on SQLite: one table, expiry checked on read (and expired rows swept as they are met). */
import type BetterSqlite3 from 'better-sqlite3';
import { checkKvTtl, checkLimit, globPrefix } from './kv-keys.js';
import { openSqliteDatabase, type SqliteDatabase } from './sqlite-database.js';
import type { KeyValueStore } from './types.js';

export interface SqliteKvOptions {
  now?: () => number;
  /** close the database with the store (false when the event store shares it) */
  ownsDatabase?: boolean;
}

export class SqliteKv implements KeyValueStore {
  readonly kind = 'sqlite' as const;
  private readonly now: () => number;
  private readonly ownsDatabase: boolean;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private closed = false;

  static open(file: string, options: Omit<SqliteKvOptions, 'ownsDatabase'> = {}): SqliteKv {
    return new SqliteKv(openSqliteDatabase(file), { ...options, ownsDatabase: true });
  }

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteKvOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.ownsDatabase = options.ownsDatabase ?? false;
  }

  private sql(text: string): BetterSqlite3.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private expiry(ttlSeconds: number | undefined): number | null {
    checkKvTtl(ttlSeconds);
    return ttlSeconds === undefined ? null : this.now() + Math.round(ttlSeconds * 1000);
  }

  async get(key: string): Promise<string | undefined> {
    const row = this.sql(`SELECT value, expires_at FROM router_kv WHERE key = ?`).get(key) as
      | { value: string; expires_at: number | null }
      | undefined;
    if (!row) return undefined;
    if (row.expires_at !== null && row.expires_at <= this.now()) {
      this.sql(`DELETE FROM router_kv WHERE key = ? AND expires_at <= ?`).run(key, this.now());
      return undefined;
    }
    return row.value;
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    this.sql(
      `INSERT INTO router_kv (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ).run(key, value, this.expiry(ttlSeconds));
  }

  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    // one statement: an expired holder counts as absent
    const changes = this.sql(
      `INSERT INTO router_kv (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
       WHERE router_kv.expires_at IS NOT NULL AND router_kv.expires_at <= ?`,
    ).run(key, value, this.expiry(ttlSeconds), this.now()).changes;
    return changes > 0;
  }

  async del(key: string): Promise<void> {
    this.sql(`DELETE FROM router_kv WHERE key = ?`).run(key);
  }

  async list(prefix: string, limit: number): Promise<Array<{ key: string; value: string }>> {
    checkLimit(limit);
    // BINARY collation orders keys bytewise, as Redis and PostgreSQL's "C" collation do; a GLOB prefix uses the key index
    const rows = this.sql(
      `SELECT key, value FROM router_kv WHERE key GLOB ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?`,
    ).all(globPrefix(prefix), this.now(), limit) as Array<{ key: string; value: string }>;
    return rows.map((r) => ({ key: r.key, value: r.value }));
  }

  /** drop expired rows (reads already ignore them); answers how many went */
  async purgeExpired(now: number = this.now()): Promise<number> {
    return this.sql(`DELETE FROM router_kv WHERE expires_at <= ?`).run(now).changes;
  }

  async ping(): Promise<void> {
    this.sql('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDatabase) this.db.close();
  }
}
