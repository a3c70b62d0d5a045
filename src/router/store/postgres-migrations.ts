/**
 * The PostgreSQL schema, versioned. Each migration runs once, in its own transaction, recorded in
 * router_schema_migrations. Two routers starting at once serialise on a transaction-scoped advisory lock (keyed by
 * the schema), so neither applies a migration twice nor sees a half-made schema.
 */
import type pg from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'event log, dedupe, partitions, docs, kv',
    sql: `
      CREATE TABLE router_events (
        id bigserial PRIMARY KEY,
        source text NOT NULL,
        event_type text NOT NULL,
        dedupe_key text NOT NULL,
        partition_key text NOT NULL,
        params json NOT NULL,
        received_at bigint NOT NULL,
        signature text NOT NULL,
        correlation_id text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'dead')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        apply_count integer NOT NULL DEFAULT 0,
        applied_seq bigint
      );
      CREATE INDEX router_events_pending ON router_events (partition_key, id) WHERE status = 'pending';
      CREATE INDEX router_events_dead ON router_events (id) WHERE status = 'dead';

      CREATE TABLE router_dedupe (
        key text PRIMARY KEY,
        expires_at bigint NOT NULL
      );
      CREATE INDEX router_dedupe_expiry ON router_dedupe (expires_at);

      CREATE TABLE router_partitions (
        partition_key text PRIMARY KEY,
        pending integer NOT NULL DEFAULT 0,
        lease_owner text,
        lease_until bigint,
        not_before bigint,
        last_claimed bigint NOT NULL DEFAULT 0
      );
      CREATE INDEX router_partitions_ready ON router_partitions (last_claimed, partition_key) WHERE pending > 0;

      CREATE SEQUENCE router_applied_seq;

      CREATE TABLE router_docs (
        kind text NOT NULL,
        id text NOT NULL,
        conversation_sid text,
        unique_name text,
        -- json, not jsonb: jsonb refuses an escaped NUL character, and a message body may carry one (SQLite keeps it too)
        doc json NOT NULL,
        PRIMARY KEY (kind, id)
      );
      CREATE INDEX router_docs_conversation ON router_docs (conversation_sid);
      CREATE INDEX router_docs_unique_name ON router_docs (unique_name) WHERE unique_name IS NOT NULL;

      -- "C": keys compare bytewise, so list() is in the same order as on SQLite and Redis, and LIKE 'p%' uses the index
      CREATE TABLE router_kv (
        key text COLLATE "C" PRIMARY KEY,
        value text NOT NULL,
        expires_at bigint
      );
    `,
  },
  {
    version: 2,
    name: 'a counter of applied events',
    // stats() counted the log (apply_count > 0, no index) on every /stats, scrape and drain poll; complete() now keeps
    // the count, from what the log holds at migration
    sql: `
      CREATE TABLE router_counters (name text PRIMARY KEY, value bigint NOT NULL);
      INSERT INTO router_counters (name, value) SELECT 'applied', count(*) FROM router_events WHERE apply_count > 0;
    `,
  },
  {
    version: 3,
    name: 'a counter of dead events',
    // stats() counted dead events through their partial index on every /stats and scrape: O(dead), and a long outage
    // of a side effect's target dead-letters many; recordFailure() now keeps the count, from what the log holds
    sql: `
      INSERT INTO router_counters (name, value) SELECT 'dead', count(*) FROM router_events WHERE status = 'dead';
    `,
  },
];

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Schema names are spliced into SQL and connection options, so only plain lower-case identifiers pass. */
export function checkSchemaName(schema: string): void {
  if (!IDENTIFIER.test(schema)) {
    throw new Error(`database schema must be a lower-case SQL identifier (a-z, 0-9, _; at most 63), got ${JSON.stringify(schema)}`);
  }
}

/** Applies what is missing; answers the versions this call applied. The pool's search_path already names `schema`. */
export async function migrate(pool: pg.Pool, schema: string | undefined): Promise<number[]> {
  if (schema !== undefined) checkSchemaName(schema);
  const applied: number[] = [];
  const client = await pool.connect();
  try {
    for (const migration of MIGRATIONS) {
      await client.query('BEGIN');
      try {
        // a migration on a big table may take long: the pool's statement deadline is for requests, not for this
        await client.query('SET LOCAL statement_timeout = 0');
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tce-router-migrations:${schema ?? ''}`]);
        // inside the lock: CREATE ... IF NOT EXISTS is not safe against a concurrent creator on its own
        if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
        await client.query(
          `CREATE TABLE IF NOT EXISTS router_schema_migrations (
             version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
        );
        const done = await client.query('SELECT 1 FROM router_schema_migrations WHERE version = $1', [migration.version]);
        if (done.rowCount === 0) {
          await client.query(migration.sql);
          await client.query('INSERT INTO router_schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
          applied.push(migration.version);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    }
    return applied;
  } finally {
    client.release();
  }
}
