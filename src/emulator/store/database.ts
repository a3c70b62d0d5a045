/**
 * The SQLite store: one better-sqlite3 connection (file or :memory:), WAL, prepared statements cached by SQL text,
 * every write atomic (a savepoint), writes group-committed per event-loop turn. The schema is versioned with PRAGMA user_version. Nothing here knows HTTP.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqlValue = string | number | bigint | Buffer | null;
export type Row = Record<string, SqlValue>;
export type Statement = BetterSqlite3.Statement<unknown[], Row>;

interface RawStatement {
  columns(): { name: string }[];
  raw(on: boolean): void;
  get(...args: SqlValue[]): unknown;
  all(...args: SqlValue[]): unknown[];
}

interface Reader {
  stmt: RawStatement;
  /** column values in SELECT order → the row object */
  build?: (values: SqlValue[]) => Row;
}

interface PackedStatement {
  pluck(on: boolean): void;
  all(...args: SqlValue[]): unknown[];
}

interface PackedReader {
  stmt: PackedStatement;
  /** the parsed column values and the fixed values → the row object */
  build: (values: SqlValue[], fixed: readonly SqlValue[]) => Row;
}

/** Columns whose value the caller already knows for every row (equalities of the WHERE clause). */
export interface FixedColumns {
  names: readonly string[];
  values: readonly SqlValue[];
}

export interface Migration {
  version: number;
  sql: string;
}

export class Database {
  readonly raw: BetterSqlite3.Database;
  private readonly statements = new Map<string, Statement>();
  /** read statements in raw mode, kept apart from `statements` so raw mode never leaks to other callers */
  private readonly readers = new Map<string, Reader>();
  /** `allColumns` statements by SQL text (pluck mode, one JSON text per row) */
  private readonly packedReaders = new Map<string, PackedReader>();
  /** work to run once the open batch commits (a write's tasks are dropped if that write rolls back) */
  private pendingAfterCommit: (() => void)[] = [];
  /** callers waiting for the open batch to commit */
  private waiting: ((error?: Error) => void)[] = [];
  private batchOpen = false;
  private depth = 0;

  constructor(readonly path: string) {
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
    this.raw = new BetterSqlite3(path);
    // One process owns the file: EXCLUSIVE skips the shared-memory lock calls every transaction would make
    // (syscalls are the cost of a write here), and a second tce on the same file fails fast instead of sharing.
    if (path !== ':memory:' && path !== '') this.raw.pragma('locking_mode = EXCLUSIVE');
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

  /**
   * Reads go through raw statements whose array rows become objects in one compiled object literal per SQL text:
   * better-sqlite3 builds each row object key by key from C++, which costs about as much again as the query.
   * The objects are the same (same keys in the same order; duplicate names: the last value at the first place).
   */
  private reader(sql: string): Reader {
    let reader = this.readers.get(sql);
    if (!reader) {
      const stmt = this.raw.prepare(sql) as unknown as RawStatement;
      const names = stmt.columns().map((c) => c.name);
      if (names.includes('__proto__')) reader = { stmt };
      else {
        stmt.raw(true);
        reader = { stmt, build: new Function('v', `return {${names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(', ')}};`) as Reader['build'] };
      }
      this.readers.set(sql, reader);
    }
    return reader;
  }

  get(sql: string, ...args: SqlValue[]): Row | undefined {
    const { stmt, build } = this.reader(sql);
    const row = stmt.get(...args);
    return row === undefined || !build ? (row as Row | undefined) : build(row as SqlValue[]);
  }

  all(sql: string, ...args: SqlValue[]): Row[] {
    const { stmt, build } = this.reader(sql);
    const rows = stmt.all(...args);
    if (!build) return rows as Row[];
    for (let i = 0; i < rows.length; i++) rows[i] = build(rows[i] as SqlValue[]);
    return rows as Row[];
  }

  /**
   * Rows of `SELECT <columns> <rest>`, plus the fixed columns, whose values the caller knows (they are equalities
   * of the WHERE clause) and are not read. Same rows as `all` would give with those columns.
   *
   * Each row is read as one `json_array(<columns>)` text and parsed: better-sqlite3 (Node 20) spends ~100 ns of
   * V8 API calls per value it hands over, more than SQLite takes to write the value as JSON and JSON.parse to
   * read it back. The round trip gives the values `all` gives: text (the same bytes decoded the same way, even
   * invalid UTF-8), integers (digits; past 2^53 both round to the nearest double), reals (SQLite writes 17
   * significant digits) and null; only a REAL -0.0 comes back as 0 (JSON writes both as 0; INTEGER and TEXT
   * columns never hold one). A BLOB has no JSON form: SQLite refuses it, and that read falls back to plain rows.
   */
  allColumns(columns: readonly string[], rest: string, fixed: FixedColumns, ...args: SqlValue[]): Row[] {
    const sql = `SELECT json_array(${columns.join(', ')}) ${rest}`;
    let packed = this.packedReaders.get(sql);
    if (!packed) {
      const names = [...columns, ...fixed.names];
      if (names.includes('__proto__') || new Set(names).size !== names.length) throw new Error(`unusual column names: ${names.join(', ')}`);
      const stmt = this.raw.prepare(sql) as unknown as PackedStatement;
      stmt.pluck(true);
      const q = JSON.stringify;
      const fields = [...columns.map((n, i) => `${q(n)}: v[${i}]`), ...fixed.names.map((n, i) => `${q(n)}: c[${i}]`)];
      packed = { stmt, build: new Function('v', 'c', `return {${fields.join(', ')}};`) as PackedReader['build'] };
      this.packedReaders.set(sql, packed);
    }
    let texts: unknown[];
    try {
      texts = packed.stmt.all(...args);
    } catch (error) {
      if (!(error instanceof BetterSqlite3.SqliteError && /BLOB/.test(error.message))) throw error;
      const rows = this.all(`SELECT ${columns.join(', ')} ${rest}`, ...args);
      for (const row of rows) fixed.names.forEach((name, i) => (row[name] = fixed.values[i]));
      return rows;
    }
    const rows = texts as Row[];
    for (let i = 0; i < texts.length; i++) rows[i] = packed.build(JSON.parse(texts[i] as string) as SqlValue[], fixed.values);
    return rows;
  }

  run(sql: string, ...args: SqlValue[]): BetterSqlite3.RunResult {
    return this.prepare(sql).run(...args);
  }

  /**
   * Run `fn` as one atomic write: all of it is stored or none of it (nested calls join the outer write).
   *
   * Group commit: writes made in the same turn of the event loop share one SQLite transaction, committed on
   * the next `setImmediate`; each write is a SAVEPOINT inside it, so a refused write still rolls back alone.
   * A commit costs a few syscalls, which on a small VM are most of a write's cost; ten concurrent clients
   * then pay for one commit instead of ten. Callers that acknowledge a write (the HTTP layer) wait for
   * `whenCommitted`, so nothing is acknowledged before it is stored.
   */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    if (!this.batchOpen) this.openBatch();
    const tasksBefore = this.pendingAfterCommit.length;
    this.prepare('SAVEPOINT write').run();
    this.depth++;
    try {
      const result = fn();
      this.depth--;
      this.prepare('RELEASE write').run();
      return result;
    } catch (error) {
      this.depth--;
      this.prepare('ROLLBACK TO write').run();
      this.prepare('RELEASE write').run();
      this.pendingAfterCommit.length = tasksBefore;
      throw error;
    }
  }

  private openBatch(): void {
    this.prepare('BEGIN IMMEDIATE').run();
    this.batchOpen = true;
    setImmediate(() => this.flush());
  }

  /** Commit the open batch now (also called before close). */
  flush(): void {
    if (!this.batchOpen) return;
    this.batchOpen = false;
    let failure: Error | undefined;
    try {
      this.prepare('COMMIT').run();
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      if (this.raw.inTransaction) this.prepare('ROLLBACK').run();
    }
    const tasks = this.pendingAfterCommit;
    const waiting = this.waiting;
    this.pendingAfterCommit = [];
    this.waiting = [];
    if (!failure) for (const task of tasks) task();
    for (const done of waiting) done(failure);
  }

  /** Whether writes of this event-loop turn are waiting for their commit. */
  get pending(): boolean {
    return this.batchOpen;
  }

  /** Call `done` once everything written so far is committed (at once when nothing is pending). */
  whenCommitted(done: (error?: Error) => void): void {
    if (this.batchOpen) this.waiting.push(done);
    else done();
  }

  /** Run `task` after the current writes commit, or now when none is pending; never after a rollback. */
  afterCommit(task: () => void): void {
    if (this.batchOpen) this.pendingAfterCommit.push(task);
    else task();
  }

  close(): void {
    this.flush();
    if (this.raw.open) this.raw.close();
  }
}
