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
}

export async function openPostgresPool(options: PostgresPoolOptions): Promise<pg.Pool> {
  if (options.schema !== undefined) checkSchemaName(options.schema);
  let connectionString: string;
  try {
    connectionString = withSearchPath(options.url, options.schema);
  } catch (error) {
    throw connectionError('PostgreSQL', options.url, error);
  }
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
  });
  // an idle connection dropped by the server must not crash the process: the next query reconnects or fails
  pool.on('error', () => undefined);
  try {
    await migrate(pool, options.schema);
    return pool;
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw connectionError('PostgreSQL', options.url, error);
  }
}

/** The URL's own `options` parameter (if any) wins over a separate config field in pg, so the path is added there. */
function withSearchPath(url: string, schema: string | undefined): string {
  const parsed = new URL(url);
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new Error(`expected a postgres:// URL`);
  if (schema === undefined) return url;
  const existing = parsed.searchParams.get('options');
  parsed.searchParams.set('options', `${existing ? `${existing} ` : ''}-c search_path=${schema}`);
  return parsed.toString();
}
