/**
 * Opens a pg Pool for the router's stores: the optional schema is every connection's search_path (set as a startup
 * option, so it costs no round trip and no connection can run a query before it), and the schema is migrated before
 * the pool is handed out. Failures become one StoreConnectionError naming the URL without its password.
 */
import pg from 'pg';
import { connectionError } from './connection-errors.js';
import { checkSchemaName, migrate } from './postgres-migrations.js';

export interface PostgresPoolOptions {
  url: string;
  /** a schema of its own (created when missing); the server's default search_path when omitted */
  schema?: string;
  /** pool size (default 10) */
  max?: number;
  /** how long to wait for a connection before failing (ms, default 10 s) */
  connectTimeoutMs?: number;
  /**
   * `synchronous_commit = off` on every connection: a commit answers before its WAL is flushed (PostgreSQL's own
   * crash could lose the last ~0.6 s of such commits). Only for writes that may be lost and redone: the worker's.
   */
  asyncCommit?: boolean;
  /** bring the schema up to date first (default true; a second pool on the same database skips it) */
  migrate?: boolean;
  /**
   * the longest a statement may run (ms, default 10 s): PostgreSQL cancels it (statement_timeout), and the client
   * gives up 1 s later should the server not answer at all. Migrations run without it.
   */
  statementTimeoutMs?: number;
}

const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;

export async function openPostgresPool(options: PostgresPoolOptions): Promise<pg.Pool> {
  if (options.schema !== undefined) checkSchemaName(options.schema);
  const statementTimeoutMs = Math.round(options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS);
  if (!(statementTimeoutMs > 0)) throw new Error(`the database statement timeout must be a positive number of ms, got ${options.statementTimeoutMs}`);
  let connectionString: string;
  try {
    connectionString = withStartupOptions(options.url, options.schema, options.asyncCommit ?? false, statementTimeoutMs);
  } catch (error) {
    throw connectionError('PostgreSQL', options.url, error);
  }
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    query_timeout: statementTimeoutMs + 1_000,
  });
  // an idle connection dropped by the server must not crash the process: the next query reconnects or fails
  pool.on('error', () => undefined);
  try {
    if (options.migrate ?? true) await migrate(pool, options.schema);
    else await pool.query('SELECT 1');
    return pool;
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw connectionError('PostgreSQL', options.url, error);
  }
}

/** The URL's own `options` parameter (if any) wins over a separate config field in pg, so ours are added there. */
function withStartupOptions(url: string, schema: string | undefined, asyncCommit: boolean, statementTimeoutMs: number): string {
  const parsed = new URL(url);
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new Error(`expected a postgres:// URL`);
  const added = [
    ...(schema === undefined ? [] : [`-c search_path=${schema}`]),
    ...(asyncCommit ? ['-c synchronous_commit=off'] : []),
    `-c statement_timeout=${statementTimeoutMs}`,
  ];
  const existing = parsed.searchParams.get('options');
  parsed.searchParams.set('options', [...(existing ? [existing] : []), ...added].join(' '));
  return parsed.toString();
}
