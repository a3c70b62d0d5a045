/**
 * The PostgreSQL pools: the accept pool commits synchronously (an acknowledged event is on disk); the worker's pool
 * runs with synchronous_commit = off (its writes may be lost by a PostgreSQL crash and redone from the queue), both
 * in the router's schema. Runs when TCE_TEST_DATABASE_URL is set.
 */
import { Writable } from 'node:stream';
import pg from 'pg';
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { createRouter } from '../src/router/create-router.js';
import { createRouterLogger } from '../src/router/logger.js';
import { AUTOVACUUM_OFF } from '../src/router/store/postgres-event-store.js';
import { openPostgresPool } from '../src/router/store/postgres-pool.js';
import { autovacuumOff, testDatabaseUrl, testSchema } from './support/router-stores.js';

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

  it('a statement that cannot finish by the deadline is cancelled: the accept answers 503, writes nothing, and the retry is accepted', async () => {
    const url = testDatabaseUrl!;
    const own = testSchema(url);
    const authToken = 'deadline-token';
    const router = await createRouter({
      port: 0, host: '127.0.0.1', databaseUrl: url, databaseSchema: own.schema, databaseStatementTimeoutMs: 300,
      accountSid: 'AC' + '0'.repeat(32), authToken, ingressOnly: true, logLevel: 'silent',
    });
    const locker = new pg.Client({ connectionString: url, options: `-c search_path=${own.schema}` });
    await locker.connect();
    try {
      const target = `${router.url}/twilio/conversations/webhook`;
      const params = { EventType: 'onConversationAdded', ConversationSid: 'CH' + '1'.repeat(32), AccountSid: 'AC' + '0'.repeat(32) };
      const post = () => fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, target, params), 'i-twilio-idempotency-token': 'deadline-1' },
        body: new URLSearchParams(params).toString(),
      });
      // another session holds the queue: the accept statement waits on its lock until the deadline cancels it
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE router_partitions IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const refused = await post();
      expect(refused.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(3_000);
      await locker.query('ROLLBACK');
      expect((await locker.query('SELECT count(*)::int AS n FROM router_events')).rows[0].n).toBe(0);
      expect((await post()).status).toBe(200);
      expect((await locker.query('SELECT count(*)::int AS n FROM router_events')).rows[0].n).toBe(1);
    } finally {
      await locker.end();
      await router.close();
      await own.drop();
    }
  });

  it('warns at startup, once, when the server runs without autovacuum, and not when it runs with it', async () => {
    const url = testDatabaseUrl!;
    const own = testSchema(url);
    const written: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        written.push(String(chunk));
        done();
      },
    });
    const router = await createRouter({
      port: 0, host: '127.0.0.1', databaseUrl: url, databaseSchema: own.schema,
      accountSid: 'AC' + '0'.repeat(32), authToken: 'setup-token', ingressOnly: true, logger: createRouterLogger({ level: 'warn', destination }),
    });
    try {
      const off = await autovacuumOff(url);
      const lines = written.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
      const warnings = lines.filter((line) => line.msg === AUTOVACUUM_OFF);
      expect(warnings).toHaveLength(off ? 1 : 0);
      if (off) expect(warnings[0]).toMatchObject({ store: 'postgres' });
    } finally {
      await router.close();
      await own.drop();
    }
  });
});
