/**
 * Group commit on SQLite (src/router/store/sqlite-group-commit.ts): the writes of one event-loop turn share one
 * outer transaction, each still atomic on its own, each answered only once committed. A second connection on the
 * same file shows what is committed.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteDatabase, type SqliteDatabase } from '../src/router/store/sqlite-database.js';
import { SqliteEventStore } from '../src/router/store/sqlite-event-store.js';
import { SqliteGroupCommit } from '../src/router/store/sqlite-group-commit.js';
import { createCommitSignal, signalGeneration, signalWriteEnded } from '../src/router/store/sqlite-commit-signal.js';
import type { IncomingEvent } from '../src/router/events.js';

let db: SqliteDatabase;
let observer: SqliteDatabase;
let file: string;

beforeEach(() => {
  file = join(mkdtempSync(join(tmpdir(), 'tce-group-commit-')), 'g.sqlite');
  db = openSqliteDatabase(file);
  db.exec(`
    PRAGMA foreign_keys = ON;
    CREATE TABLE t (v TEXT PRIMARY KEY);
    CREATE TABLE parent (id INTEGER PRIMARY KEY);
    CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
  `);
  observer = new BetterSqlite3(file);
});

afterEach(() => {
  observer.close();
  db.close();
});

const committed = () => observer.prepare('SELECT v FROM t ORDER BY v').pluck().all() as string[];

describe('SqliteGroupCommit', () => {
  it('commits the writes of one turn together, in batches of at most maxBatch, each answered after its COMMIT', async () => {
    const group = new SqliteGroupCommit(db, { maxBatch: 256 });
    const insert = db.transaction((v: string) => {
      db.prepare('INSERT INTO t (v) VALUES (?)').run(v);
      // what another connection sees while this write runs: only earlier batches
      return (observer.prepare('SELECT count(*) FROM t').pluck().get() as number);
    });
    const seenAtResolve: number[] = [];
    const values = Array.from({ length: 600 }, (_, i) => `v${String(i).padStart(3, '0')}`);
    const visibleDuring = await Promise.all(
      values.map((v) =>
        group.run(() => insert(v)).then((seen) => {
          seenAtResolve.push(committed().includes(v) ? 1 : 0);
          return seen;
        }),
      ),
    );
    // batch 1 (256 writes) saw nothing committed, batch 2 saw 256, batch 3 saw 512
    expect(visibleDuring.slice(0, 256).every((n) => n === 0)).toBe(true);
    expect(visibleDuring.slice(256, 512).every((n) => n === 256)).toBe(true);
    expect(visibleDuring.slice(512).every((n) => n === 512)).toBe(true);
    expect(seenAtResolve.every((x) => x === 1)).toBe(true);
    expect(committed()).toEqual(values);
  });

  it('a failing write rolls back only itself; the rest of its batch commits', async () => {
    const group = new SqliteGroupCommit(db);
    const write = db.transaction((v: string, fail: boolean) => {
      db.prepare('INSERT INTO t (v) VALUES (?)').run(v);
      if (fail) throw new Error(`no ${v}`);
      return v;
    });
    const results = await Promise.allSettled([
      group.run(() => write('a', false)),
      group.run(() => write('b', true)),
      group.run(() => write('c', false)),
      // a constraint error from SQLite itself: the duplicate key rolls back its own savepoint only
      group.run(() => write('a', false)),
      group.run(() => write('d', false)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('no b');
    expect((results[3] as PromiseRejectedResult).reason.code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
    expect(committed()).toEqual(['a', 'c', 'd']);
  });

  it('a failing COMMIT rejects every write of the batch and keeps none of them', async () => {
    const group = new SqliteGroupCommit(db);
    const insert = db.transaction((v: string) => void db.prepare('INSERT INTO t (v) VALUES (?)').run(v));
    // a deferred foreign key is checked only at the outer COMMIT
    const orphan = db.transaction(() => void db.prepare('INSERT INTO child (parent_id) VALUES (42)').run());
    const results = await Promise.allSettled([group.run(() => insert('x')), group.run(orphan), group.run(() => insert('y'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason.code).toBe('SQLITE_CONSTRAINT_FOREIGNKEY');
    expect(committed()).toEqual([]);
    expect(db.inTransaction).toBe(false);
    // the next turn works again
    await group.run(() => insert('z'));
    expect(committed()).toEqual(['z']);
  });

  it('a failing BEGIN (the write lock held elsewhere) rejects the batch', async () => {
    db.pragma('busy_timeout = 0');
    const group = new SqliteGroupCommit(db);
    const insert = db.transaction((v: string) => void db.prepare('INSERT INTO t (v) VALUES (?)').run(v));
    observer.exec('BEGIN IMMEDIATE');
    const results = await Promise.allSettled([group.run(() => insert('p')), group.run(() => insert('q'))]);
    observer.exec('ROLLBACK');
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason.code).toBe('SQLITE_BUSY');
    await group.run(() => insert('r'));
    expect(committed()).toEqual(['r']);
  });
});

describe('SqliteGroupCommit while another connection writes', () => {
  it("does not wait inside SQLite: the event loop runs on, and the batch commits once the lock is released", async () => {
    const group = new SqliteGroupCommit(db);
    const insert = db.transaction((v: string) => void db.prepare('INSERT INTO t (v) VALUES (?)').run(v));
    observer.exec('BEGIN IMMEDIATE');
    let committedAt = 0;
    const written = group.run(() => insert('held')).then(() => (committedAt = Date.now()));
    // timers keep firing while the write waits: SQLite's busy wait would have blocked them for up to 5 s
    const ticks: number[] = [];
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        ticks.push(Date.now());
        if (ticks.length === 10) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    expect(committedAt).toBe(0);
    expect(committed()).toEqual([]);
    const releasedAt = Date.now();
    observer.exec('COMMIT');
    await written;
    expect(committed()).toEqual(['held']);
    expect(committedAt).toBeGreaterThanOrEqual(releasedAt);
    // what queued meanwhile commits too, and the connection's busy_timeout is back for everything else
    await group.run(() => insert('after'));
    expect(committed()).toEqual(['after', 'held']);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });
});

describe('SqliteGroupCommit with a commit signal (the threads writing one file)', () => {
  it('each transaction it ends, committed or rolled back, bumps the signal', async () => {
    const commitSignal = createCommitSignal();
    const group = new SqliteGroupCommit(db, { commitSignal });
    const insert = db.transaction((v: string) => void db.prepare('INSERT INTO t (v) VALUES (?)').run(v));
    await group.run(() => insert('a'));
    expect(signalGeneration(commitSignal)).toBe(1);
    // one batch, one transaction: one bump
    await Promise.all([group.run(() => insert('b')), group.run(() => insert('c'))]);
    expect(signalGeneration(commitSignal)).toBe(2);
    // a deferred foreign key fails at COMMIT: rolled back, still ended
    await expect(group.run(() => db.prepare('INSERT INTO child (parent_id) VALUES (42)').run())).rejects.toThrow(/FOREIGN KEY/);
    expect(signalGeneration(commitSignal)).toBe(3);
  });

  it('a batch refused while another thread writes commits once that thread signals the end of its transaction', async () => {
    const commitSignal = createCommitSignal();
    // far longer than the test: only the signal (or the 1 ms timeout) can end the wait, never SQLite's busy wait
    const group = new SqliteGroupCommit(db, { commitSignal, busyTimeoutMs: 60_000 });
    const insert = db.transaction((v: string) => void db.prepare('INSERT INTO t (v) VALUES (?)').run(v));
    observer.exec('BEGIN IMMEDIATE');
    let done = false;
    const written = group.run(() => insert('held')).then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(done).toBe(false);
    observer.exec('COMMIT');
    signalWriteEnded(commitSignal);
    await written;
    expect(committed()).toEqual(['held']);
    expect(signalGeneration(commitSignal)).toBe(2);
  });
});

describe('SqliteEventStore with group commit', () => {
  it('concurrent accepts of one batch dedupe against each other; closing flushes what is queued', async () => {
    const store = new SqliteEventStore(db);
    const event = (key: string, i: number): IncomingEvent => ({
      source: 'conversations',
      eventType: 'onMessageAdded',
      dedupeKey: key,
      partitionKey: `CH${i % 7}`,
      params: { Body: `b${i}` },
      receivedAt: 1_764_000_000_000 + i,
      signature: 'valid',
      correlationId: `c${i}`,
    });
    const results = await Promise.all(Array.from({ length: 400 }, (_, i) => store.accept(event(`k${i % 300}`, i), 60)));
    expect(results.filter((r) => r.status === 'accepted')).toHaveLength(300);
    expect(results.slice(300).every((r) => r.status === 'duplicate')).toBe(true);
    expect((await store.stats()).depth).toBe(300);
    expect(observer.prepare('SELECT count(*) FROM router_events').pluck().get()).toBe(300);

    const queued = store.accept(event('late', 999), 60);
    await store.close();
    await expect(queued).resolves.toMatchObject({ status: 'accepted' });
    expect(observer.prepare(`SELECT count(*) FROM router_events WHERE dedupe_key = 'late'`).pluck().get()).toBe(1);
  });
});
