/**
 * Picks and opens the router's stores from its configuration:
 * - no database URL: SQLite for both, in one database file (its folder created), nothing to set up;
 * - a database URL: PostgreSQL for the events, and Redis for the key-value facts when a Redis URL is given, else
 *   PostgreSQL (sharing the events' pool).
 * A server that cannot be reached fails with one StoreConnectionError line naming its URL (never its password).
 */
import { PostgresEventStore } from './postgres-event-store.js';
import { PostgresKv } from './postgres-kv.js';
import { openPostgresPool } from './postgres-pool.js';
import { RedisKv } from './redis-kv.js';
import { openSqliteDatabase } from './sqlite-database.js';
import { startBackgroundCheckpoints } from './sqlite-checkpointer.js';
import { createCommitSignal, type CommitSignal } from './sqlite-commit-signal.js';
import { SqliteEventStore } from './sqlite-event-store.js';
import { SqliteKv } from './sqlite-kv.js';
import type { EventStore, KeyValueStore } from './types.js';

export interface OpenStoresOptions {
  /** the SQLite file (or `:memory:`) used when there is no database URL */
  db: string;
  databaseUrl?: string;
  /** a PostgreSQL schema of its own (created when missing) */
  databaseSchema?: string;
  redisUrl?: string;
  redisKeyPrefix?: string;
  /** PostgreSQL statement deadline (ms, default 10 s) */
  databaseStatementTimeoutMs?: number;
  /**
   * SQLite file: checkpoint the WAL from a thread of its own (default true). The router's worker thread opens a
   * second connection without them: one set per file is enough (its own commits may still checkpoint, off the
   * ingress's thread).
   */
  backgroundCheckpoints?: boolean;
  /** SQLite file: the signal of the other threads writing it (the worker thread gets the router's) */
  commitSignal?: CommitSignal;
}

export interface Stores {
  events: EventStore;
  kv: KeyValueStore;
  close(): Promise<void>;
  /** SQLite file: what the other threads writing it share with this connection (sqlite-commit-signal.ts) */
  commitSignal?: CommitSignal;
}

export async function openStores(options: OpenStoresOptions): Promise<Stores> {
  if (!options.databaseUrl) {
    const db = openSqliteDatabase(options.db);
    const commitSignal = options.commitSignal ?? createCommitSignal();
    const checkpoints =
      options.db === ':memory:' || options.backgroundCheckpoints === false ? undefined : startBackgroundCheckpoints(db, options.db, { commitSignal });
    const events = new SqliteEventStore(db, { commitSignal });
    const kv = new SqliteKv(db);
    // the event store first: it commits the writes still queued for this turn
    const close = once(async () => {
      await events.close();
      await checkpoints?.stop();
      db.close();
    });
    return { events, kv, close, commitSignal };
  }
  const statementTimeoutMs = options.databaseStatementTimeoutMs;
  const pool = await openPostgresPool({ url: options.databaseUrl, schema: options.databaseSchema, statementTimeoutMs });
  let kv: KeyValueStore;
  try {
    kv = options.redisUrl ? await RedisKv.open({ url: options.redisUrl, keyPrefix: options.redisKeyPrefix }) : new PostgresKv(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  let workerPool: Awaited<ReturnType<typeof openPostgresPool>>;
  try {
    workerPool = await openPostgresPool({ url: options.databaseUrl, schema: options.databaseSchema, asyncCommit: true, migrate: false, statementTimeoutMs });
  } catch (error) {
    await kv.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw error;
  }
  const events = new PostgresEventStore(pool, { workerPool });
  return {
    events,
    kv,
    close: once(async () => {
      // the event store first: it commits the accepts still queued for a batch
      await events.close();
      await kv.close();
      await workerPool.end();
      await pool.end();
    }),
  };
}

/** a second close() is a no-op (pg's Pool throws when ended twice) */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}
