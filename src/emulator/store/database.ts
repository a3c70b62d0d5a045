/**
 * The SQLite store: one better-sqlite3 connection (file or :memory:), WAL, prepared statements cached by SQL text,
 * one transaction per write. The schema is versioned with PRAGMA user_version. Nothing here knows HTTP.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqlValue = string | number | bigint | Buffer | null;
export type Row = Record<string, SqlValue>;
export type Statement = BetterSqlite3.Statement<unknown[], Row>;

export interface Migration {
  version: number;
  sql: string;
}

export class Database {
  readonly raw: BetterSqlite3.Database;
  private readonly statements = new Map<string, Statement>();
  /** work to run once the current outermost transaction commits (dropped if it rolls back) */
  private pendingAfterCommit: (() => void)[] = [];

  constructor(readonly path: string) {
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
    this.raw = new BetterSqlite3(path);
    this.raw.pragma('journal_mode = WAL');
    // OFF: SQLite hands each commit to the OS without fsync. A crash or kill of tce loses nothing (the OS holds
    // every committed write); only a power loss or OS crash can. That trade buys ~2x on every write, and an
    // emulator's data is reproducible. (bench/: 128 µs per create with NORMAL's checkpoint fsyncs, ~55 µs with OFF.)
    this.raw.pragma('synchronous = OFF');
    this.raw.pragma('foreign_keys = OFF');
    this.raw.pragma('temp_store = MEMORY');
    this.raw.pragma('cache_size = -32000');
  }

  /** Apply pending migrations, then (outside them) the idempotent DDL every start runs, such as indexes. */
  migrate(migrations: Migration[], everyStart = ''): void {
    this.applyMigrations(migrations);
    if (everyStart) this.raw.exec(everyStart);
  }

  private applyMigrations(migrations: Migration[]): void {
    const current = this.raw.pragma('user_version', { simple: true }) as number;
    const latest = Math.max(0, ...migrations.map((m) => m.version));
    if (current > latest) {
      throw new Error(`database ${this.path} has schema version ${current}, newer than this tce (${latest})`);
    }
    const pending = migrations.filter((m) => m.version > current).sort((a, b) => a.version - b.version);
    if (pending.length === 0) return;
    this.raw.transaction(() => {
      for (const m of pending) this.raw.exec(m.sql);
      this.raw.pragma(`user_version = ${latest}`);
    })();
  }

  /** A prepared statement, compiled once per distinct SQL text. */
  prepare(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.raw.prepare(sql) as Statement;
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  get(sql: string, ...args: SqlValue[]): Row | undefined {
    return this.prepare(sql).get(...args);
  }

  all(sql: string, ...args: SqlValue[]): Row[] {
    return this.prepare(sql).all(...args);
  }

  run(sql: string, ...args: SqlValue[]): BetterSqlite3.RunResult {
    return this.prepare(sql).run(...args);
  }

  /**
   * Run `fn` in one transaction (nested calls join the outer one). BEGIN/COMMIT are cached statements rather
   * than better-sqlite3's transaction(), which builds a new wrapper function on every call: this is the hot path.
   */
  transaction<T>(fn: () => T): T {
    if (this.raw.inTransaction) return fn();
    this.prepare('BEGIN IMMEDIATE').run();
    let result: T;
    try {
      result = fn();
      this.prepare('COMMIT').run();
    } catch (error) {
      if (this.raw.inTransaction) this.prepare('ROLLBACK').run();
      this.pendingAfterCommit = [];
      throw error;
    }
    const after = this.pendingAfterCommit;
    if (after.length) {
      this.pendingAfterCommit = [];
      for (const task of after) task();
    }
    return result;
  }

  /** Run `task` after the current transaction commits, or now when none is open; never after a rollback. */
  afterCommit(task: () => void): void {
    if (this.raw.inTransaction) this.pendingAfterCommit.push(task);
    else task();
  }

  close(): void {
    if (this.raw.open) this.raw.close();
  }
}
