/**
 * The SQLite store: one better-sqlite3 connection (file or :memory:), WAL, prepared statements cached by SQL text,
 * every write atomic (a savepoint), writes group-committed per event-loop turn. The schema is versioned with PRAGMA user_version. Nothing here knows HTTP.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeStoreFailure, StoreError } from './failures.js';

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

/**
 * How hard a commit (one group of writes, store/database.ts `transaction`) is pushed to disk:
 *   off     no fsync: a crash or kill of tce loses nothing (the OS holds every committed write); an OS crash or
 *           power loss can lose recent writes and can corrupt the file.
 *   normal  WAL, fsync at checkpoints: a process crash loses nothing; an OS crash or power loss can lose the last
 *           commits but never corrupts the file.
 *   full    fsync of the WAL on every commit: nothing acknowledged is lost, even to a power loss.
 * The default is off: normal costs far more than 5 % of create throughput (bench/durability.js, README).
 */
export type Durability = 'off' | 'normal' | 'full';
export const DURABILITY_LEVELS: readonly Durability[] = ['off', 'normal', 'full'];
const SYNCHRONOUS: Record<Durability, string> = { off: 'OFF', normal: 'NORMAL', full: 'FULL' };

/** `PRAGMA application_id` of a tce database ('TCE1'): a non-empty file without it is someone else's. */
export const TCE_APPLICATION_ID = 0x54434531;

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export class Database {
  readonly raw: BetterSqlite3.Database;
  /** SQLite codes already reported on stderr (a full disk is said once, not once per request) */
  private readonly reported = new Set<string>();
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
  /** the failure of a batch SQLite rolled back in this event-loop turn: its late `whenCommitted` callers hear it too */
  private lostBatch: Error | undefined;
  private depth = 0;

  constructor(
    readonly path: string,
    readonly durability: Durability = 'off',
  ) {
    const onDisk = path !== ':memory:' && path !== '';
    if (onDisk) {
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way of it' : (error as Error).message;
        throw new StoreError(`database ${path}: cannot create its directory ${dirname(path)}: ${why}`, 'DIRECTORY');
      }
    }
    const existed = onDisk && fileSize(path) > 0;
    try {
      // timeout 0: a file another process holds fails at once, not after SQLite's busy wait
      this.raw = new BetterSqlite3(path, { timeout: 0 });
    } catch (error) {
      throw describeStoreFailure(path, error) ?? error;
    }
    try {
      // One process owns the file: EXCLUSIVE skips the shared-memory lock calls every transaction would make
      // (syscalls are the cost of a write here), and a second tce on the same file fails fast instead of sharing.
      if (onDisk) this.raw.pragma('locking_mode = EXCLUSIVE');
      this.raw.pragma('journal_mode = WAL');
      // What each level survives: see Durability above and README "Durability".
      this.raw.pragma(`synchronous = ${SYNCHRONOUS[durability]}`);
      // A checkpoint costs two fsyncs (normal, full): every 10,000 pages (~40 MB of WAL) rather than SQLite's
      // 1,000 makes them rare enough under a write load (bench/durability.js).
      this.raw.pragma('wal_autocheckpoint = 10000');
      this.raw.pragma('foreign_keys = OFF');
      this.raw.pragma('temp_store = MEMORY');
      this.raw.pragma('cache_size = -32000');
      if (existed) this.checkIntegrity();
    } catch (error) {
      this.raw.close();
      throw describeStoreFailure(path, error) ?? error;
    }
  }

  /** A damaged file refuses to start, rather than answering 500s later (quick_check: O(file size), no index cross-check). */
  private checkIntegrity(): void {
    const problems = (this.raw.pragma('quick_check(5)') as { quick_check: string }[]).map((r) => r.quick_check);
    if (problems.length === 1 && problems[0] === 'ok') return;
    throw new StoreError(
      `database ${this.path} is corrupted (PRAGMA quick_check: ${problems.join('; ')}); move it away (or restore a copy) and start again`,
      'SQLITE_CORRUPT',
    );
  }

  /** Refuse a non-empty file that is not tce's, rather than adding tce's tables to it; mark ours. */
  private claimFile(): void {
    const applicationId = this.raw.pragma('application_id', { simple: true }) as number;
    if (applicationId === TCE_APPLICATION_ID) return;
    const tables = (this.raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[]);
    const version = this.raw.pragma('user_version', { simple: true }) as number;
    // tce before application_id: a schema version and tce's accounts table
    const olderTce = applicationId === 0 && version > 0 && tables.includes('accounts');
    if (tables.length > 0 && !olderTce) {
      const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? `, … (${tables.length} tables)` : '');
      throw new StoreError(`database ${this.path} is not a tce database (it holds other tables: ${shown}); pass another --db`, 'FOREIGN');
    }
    this.raw.pragma(`application_id = ${TCE_APPLICATION_ID}`);
  }

  /** Apply pending migrations, then (outside them) the idempotent DDL every start runs, such as indexes. */
  migrate(migrations: Migration[], everyStart = ''): void {
    this.claimFile();
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
      this.noteFailure(error);
      if (this.raw.inTransaction) {
        this.prepare('ROLLBACK TO write').run();
        this.prepare('RELEASE write').run();
        this.pendingAfterCommit.length = tasksBefore;
      } else {
        // SQLite rolled the whole batch back itself (a full disk, an I/O error): every write of it is lost
        this.abandonBatch(error instanceof Error ? error : new Error(String(error)));
      }
      throw error;
    }
  }

  /** The open batch is gone: its writers hear the failure now, and its after-commit work never runs. */
  private abandonBatch(failure: Error): void {
    this.batchOpen = false;
    const waiting = this.waiting;
    this.pendingAfterCommit = [];
    this.waiting = [];
    this.lostBatch = failure;
    setImmediate(() => (this.lostBatch = undefined));
    for (const done of waiting) done(failure);
  }

  /**
   * Say on stderr, once per kind, when the file itself fails (full disk, I/O error, …), naming the path and the
   * cause: the client only gets a 500, and an operator must learn why.
   */
  noteFailure(error: unknown): void {
    const failure = describeStoreFailure(this.path, error);
    if (!failure || this.reported.has(failure.code)) return;
    this.reported.add(failure.code);
    process.stderr.write(`tce: ${failure.message}\n`);
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
      this.noteFailure(error);
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
    else done(this.lostBatch);
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
