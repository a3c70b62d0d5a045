/**
 * Opens the router's SQLite database (a file or `:memory:`) and brings its schema up to date. The event store and
 * the key-value store share one connection, so one file holds everything a single router needs.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = BetterSqlite3.Database;

/** Versioned with PRAGMA user_version: migration i takes the schema from version i to i + 1. */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE router_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    event_type TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    params TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    signature TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    apply_count INTEGER NOT NULL DEFAULT 0,
    applied_seq INTEGER
  );
  CREATE INDEX router_events_pending ON router_events (partition_key, id) WHERE status = 'pending';
  CREATE TABLE router_dedupe (
    key TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX router_dedupe_expiry ON router_dedupe (expires_at);
  CREATE TABLE router_partitions (
    partition_key TEXT PRIMARY KEY,
    pending INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until INTEGER,
    not_before INTEGER,
    last_claimed INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE INDEX router_partitions_ready ON router_partitions (last_claimed) WHERE pending > 0;
  CREATE TABLE router_docs (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    conversation_sid TEXT,
    unique_name TEXT,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, id)
  ) WITHOUT ROWID;
  CREATE INDEX router_docs_conversation ON router_docs (conversation_sid);
  CREATE INDEX router_docs_unique_name ON router_docs (unique_name) WHERE unique_name IS NOT NULL;
  CREATE TABLE router_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO router_counters (name, value) VALUES ('applied_seq', 0), ('dead', 0);
  CREATE TABLE router_kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at INTEGER
  ) WITHOUT ROWID;
  `,
];

export function openSqliteDatabase(file: string): SqliteDatabase {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a committed transaction survives the process dying (kill -9); only an OS crash or power
    // loss can lose the last ones. FULL would fsync every accept and cap throughput far below the goal.
    db.pragma('synchronous = NORMAL');
    // a second process on the same file (a restart overlapping the old one) waits instead of failing at once
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: SqliteDatabase): void {
  // IMMEDIATE: two processes opening the same new file do not both apply migration 0
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(`the router database has schema version ${version}, newer than this router knows (${MIGRATIONS.length})`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}
