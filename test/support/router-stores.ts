/**
 * Test support for the router's stores. TCE_TEST_DATABASE_URL and TCE_TEST_REDIS_URL name the PostgreSQL and Redis
 * the suites use; each test gets a PostgreSQL schema of its own (random, dropped with CASCADE afterwards) and a
 * Redis key prefix of its own (its keys deleted afterwards).
 * - a variable unset: those suites are left out, and the global setup prints one line saying so (skipNotice);
 * - a variable set but the server down: the suites run and fail (opening the store throws), they never skip.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { OpenStoresOptions } from '../../src/router/store/open-stores.js';
import { PostgresEventStore } from '../../src/router/store/postgres-event-store.js';
import { PostgresKv } from '../../src/router/store/postgres-kv.js';
import { RedisKv } from '../../src/router/store/redis-kv.js';
import { SqliteEventStore } from '../../src/router/store/sqlite-event-store.js';
import { SqliteKv } from '../../src/router/store/sqlite-kv.js';
import type { EventStore, KeyValueStore } from '../../src/router/store/types.js';

export const testDatabaseUrl: string | undefined = process.env.TCE_TEST_DATABASE_URL || undefined;
export const testRedisUrl: string | undefined = process.env.TCE_TEST_REDIS_URL || undefined;

/** The one line the global setup prints when suites are left out; undefined when every suite runs. */
export function skipNotice(): string | undefined {
  const pgMissing = testDatabaseUrl === undefined;
  const redisMissing = testRedisUrl === undefined;
  if (pgMissing && redisMissing) {
    return 'router: PostgreSQL and Redis suites skipped: TCE_TEST_DATABASE_URL and TCE_TEST_REDIS_URL are not set';
  }
  if (pgMissing) return 'router: PostgreSQL suites skipped: TCE_TEST_DATABASE_URL is not set';
  if (redisMissing) return 'router: Redis suites skipped: TCE_TEST_REDIS_URL is not set';
  return undefined;
}

function randomName(prefix: string): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

/** whether the test server runs without autovacuum (or track_counts, which it needs), asked of the server directly */
export async function autovacuumOff(url: string = required(testDatabaseUrl, 'TCE_TEST_DATABASE_URL')): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ autovacuum: string; track_counts: string }>(
      `SELECT current_setting('autovacuum') AS autovacuum, current_setting('track_counts') AS track_counts`,
    );
    return rows[0]!.autovacuum !== 'on' || rows[0]!.track_counts !== 'on';
  } finally {
    await client.end();
  }
}

/** A schema name of its own; drop() removes it with everything in it. */
export function testSchema(url: string = required(testDatabaseUrl, 'TCE_TEST_DATABASE_URL')): {
  schema: string;
  drop(): Promise<void>;
} {
  const schema = randomName('tce_test_');
  return {
    schema,
    drop: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A Redis key prefix of its own; cleanup() deletes every key under it. */
export function testRedisPrefix(url: string = required(testRedisUrl, 'TCE_TEST_REDIS_URL')): {
  prefix: string;
  cleanup(): Promise<void>;
} {
  const prefix = `${randomName('tce-test:')}:`;
  return {
    prefix,
    cleanup: async () => {
      const redis = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
      redis.on('error', () => undefined);
      try {
        await redis.connect();
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}

/** A temporary folder for a SQLite file; remove() deletes it. */
export function testSqliteFile(): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tce-router-store-'));
  return { file: join(dir, 'router.sqlite'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

/** Runs every cleanup, in order, then throws the first failure. */
async function runAll(cleanups: Array<() => unknown>): Promise<void> {
  let failure: unknown;
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
}

// ---- whole configurations, for end-to-end suites: describe.each(storeBackends())('…: $name', …)

export interface StoreBackend {
  name: 'sqlite' | 'postgres' | 'postgres+redis';
  /** openStores / createRouter options of a fresh, isolated store set; cleanup() removes it (after the router closed) */
  prepare(): { options: OpenStoresOptions; cleanup(): Promise<void> };
}

/** sqlite always; PostgreSQL (with Redis when TCE_TEST_REDIS_URL is set) when TCE_TEST_DATABASE_URL is set. */
export function storeBackends(): StoreBackend[] {
  const backends: StoreBackend[] = [
    {
      name: 'sqlite',
      prepare: () => {
        const sqlite = testSqliteFile();
        return { options: { db: sqlite.file }, cleanup: async () => sqlite.remove() };
      },
    },
  ];
  const databaseUrl = testDatabaseUrl;
  if (databaseUrl !== undefined) {
    const redisUrl = testRedisUrl;
    backends.push({
      name: redisUrl ? 'postgres+redis' : 'postgres',
      prepare: () => {
        const schema = testSchema(databaseUrl);
        const prefix = redisUrl ? testRedisPrefix(redisUrl) : undefined;
        return {
          options: {
            db: ':memory:',
            databaseUrl,
            databaseSchema: schema.schema,
            ...(redisUrl && prefix ? { redisUrl, redisKeyPrefix: prefix.prefix } : {}),
          },
          cleanup: () => runAll([schema.drop, ...(prefix ? [prefix.cleanup] : [])]),
        };
      },
    });
  }
  return backends;
}

// ---- single stores, for the contract suite

export interface OpenedStore<S> {
  store: S;
  /** another instance on the same data (its own connection or pool), closed by cleanup */
  another(): Promise<S>;
  /** close every instance and remove the data */
  cleanup(): Promise<void>;
}

export interface EventStoreBackend {
  name: string;
  open(now: () => number): Promise<OpenedStore<EventStore>>;
}

export function eventStoreBackends(): EventStoreBackend[] {
  const backends: EventStoreBackend[] = [
    {
      name: 'sqlite file',
      open: async (now) => {
        const sqlite = testSqliteFile();
        const opened: EventStore[] = [];
        const open = async () => {
          const store = SqliteEventStore.open(sqlite.file, { now });
          opened.push(store);
          return store;
        };
        return { store: await open(), another: open, cleanup: () => runAll([...opened.map((s) => () => s.close()), sqlite.remove]) };
      },
    },
    {
      name: 'sqlite :memory:',
      open: async (now) => {
        const store = SqliteEventStore.open(':memory:', { now });
        return {
          store,
          another: async () => {
            throw new Error(':memory: cannot be shared');
          },
          cleanup: () => store.close(),
        };
      },
    },
  ];
  const url = testDatabaseUrl;
  if (url !== undefined) {
    backends.push({
      name: 'postgres',
      open: async (now) => {
        const schema = testSchema(url);
        const opened: EventStore[] = [];
        const open = async () => {
          const store = await PostgresEventStore.open({ url, schema: schema.schema, now, max: 4 });
          opened.push(store);
          return store;
        };
        return { store: await open(), another: open, cleanup: () => runAll([...opened.map((s) => () => s.close()), schema.drop]) };
      },
    });
  }
  return backends;
}

export interface KvBackend {
  name: string;
  open(): Promise<OpenedStore<KeyValueStore>>;
}

export function kvBackends(): KvBackend[] {
  const backends: KvBackend[] = [
    {
      name: 'sqlite',
      open: async () => {
        const sqlite = testSqliteFile();
        const opened: KeyValueStore[] = [];
        const open = async () => {
          const store = SqliteKv.open(sqlite.file);
          opened.push(store);
          return store;
        };
        return { store: await open(), another: open, cleanup: () => runAll([...opened.map((s) => () => s.close()), sqlite.remove]) };
      },
    },
  ];
  const url = testDatabaseUrl;
  if (url !== undefined) {
    backends.push({
      name: 'postgres',
      open: async () => {
        const schema = testSchema(url);
        const opened: KeyValueStore[] = [];
        const open = async () => {
          const store = await PostgresKv.open({ url, schema: schema.schema, max: 4 });
          opened.push(store);
          return store;
        };
        return { store: await open(), another: open, cleanup: () => runAll([...opened.map((s) => () => s.close()), schema.drop]) };
      },
    });
  }
  const redisUrl = testRedisUrl;
  if (redisUrl !== undefined) {
    backends.push({
      name: 'redis',
      open: async () => {
        const prefix = testRedisPrefix(redisUrl);
        const opened: KeyValueStore[] = [];
        const open = async () => {
          const store = await RedisKv.open({ url: redisUrl, keyPrefix: prefix.prefix });
          opened.push(store);
          return store;
        };
        return { store: await open(), another: open, cleanup: () => runAll([...opened.map((s) => () => s.close()), prefix.cleanup]) };
      },
    });
  }
  return backends;
}
