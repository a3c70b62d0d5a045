/**
 * The PostgreSQL pools: the accept pool commits synchronously (an acknowledged event is on disk); the worker's pool
 * runs with synchronous_commit = off (its writes may be lost by a PostgreSQL crash and redone from the queue), both
 * in the router's schema. Runs when TCE_TEST_DATABASE_URL is set.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresPool } from '../src/router/store/postgres-pool.js';
import { testDatabaseUrl, testSchema } from './support/router-stores.js';

describe.skipIf(testDatabaseUrl === undefined)('PostgreSQL pools', () => {
  const schema = testDatabaseUrl ? testSchema(testDatabaseUrl) : undefined;
  afterAll(async () => schema?.drop());

  it('the worker pool commits asynchronously, the accept pool synchronously, both in the schema', async () => {
    const url = testDatabaseUrl!;
    const pool = await openPostgresPool({ url, schema: schema!.schema, max: 2 });
    const workerPool = await openPostgresPool({ url, schema: schema!.schema, max: 2, asyncCommit: true, migrate: false });
    try {
      const show = async (p: typeof pool, setting: string) => (await p.query(`SHOW ${setting}`)).rows[0][setting];
      expect(await show(pool, 'synchronous_commit')).toBe('on');
      expect(await show(workerPool, 'synchronous_commit')).toBe('off');
      expect(await show(workerPool, 'search_path')).toBe(schema!.schema);
      // migrated once, by the first pool: the second sees the tables
      expect((await workerPool.query('SELECT count(*) FROM router_partitions')).rows[0].count).toBe('0');
    } finally {
      await workerPool.end();
      await pool.end();
    }
  });
});
