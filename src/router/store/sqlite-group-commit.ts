/**
 * Group commit for better-sqlite3: every write queued within one event-loop turn runs inside ONE outer IMMEDIATE
 * transaction, so thousands of small writes a second pay for one BEGIN/COMMIT (and one WAL append) per turn instead
 * of one each. Each operation is itself a `db.transaction(...)`, which better-sqlite3 nests as a SAVEPOINT: a failing
 * operation rolls back only itself and rejects only its own promise. Promises resolve after the outer COMMIT, so an
 * operation that resolved is committed (durability unchanged); a failing BEGIN or COMMIT rejects the whole batch.
 *
 * Another connection may hold the write lock (the router's worker thread, a second process). SQLite's own busy wait
 * would sleep inside BEGIN and stall this thread's event loop, every request with it; instead BEGIN is tried without
 * waiting, and a busy batch is tried again once the other connection's transaction ends (sqlite-commit-signal.ts;
 * 1 ms later without a signal, or when the writer is another process), the event loop free meanwhile (requests
 * arriving then join the queue). After `busyTimeoutMs` of that it waits inside SQLite as before, and a batch still
 * refused is rejected.
 */
import { signalGeneration, signalWriteEnded, writeEndedSince, type CommitSignal } from './sqlite-commit-signal.js';
import type { SqliteDatabase } from './sqlite-database.js';

interface Pending {
  op: () => unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface GroupCommitOptions {
  /** most operations per outer transaction (a longer queue is split) */
  maxBatch?: number;
  /** how long a batch is retried while another connection writes, before waiting inside SQLite (default: the connection's busy_timeout) */
  busyTimeoutMs?: number;
  /** shared with the other threads writing the same file: their COMMITs wake a busy batch at once */
  commitSignal?: CommitSignal;
}



export class SqliteGroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly busyTimeoutMs: number;
  /** when the batch at the head of the queue first found the database locked */
  private busySince: number | undefined;
  /** a busy batch waits for the lock: run() schedules nothing meanwhile */
  private retrying = false;
  private readonly signal: CommitSignal | undefined;
  /** the connection's own busy_timeout, restored after each BEGIN that does not wait */
  private readonly connectionBusyTimeoutMs: number;

  constructor(
    private readonly db: SqliteDatabase,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.connectionBusyTimeoutMs = db.pragma('busy_timeout', { simple: true }) as number;
    this.busyTimeoutMs = options.busyTimeoutMs ?? this.connectionBusyTimeoutMs;
    this.signal = options.commitSignal;
  }

  /** Queue `op` (a better-sqlite3 transaction function, so it nests as a savepoint) for this turn's batch. */
  run<T>(op: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled && !this.retrying) {
        this.scheduled = true;
        // after this turn's I/O callbacks: the requests that arrived together commit together, none waits longer
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Run everything queued now. close() passes `wait`: nothing queued may be dropped, so a locked database is waited
   * for inside SQLite.
   */
  flush(options: { wait?: boolean } = {}): void {
    this.scheduled = false;
    this.retrying = false;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.maxBatch);
      const waited = options.wait === true || (this.busySince !== undefined && Date.now() - this.busySince >= this.busyTimeoutMs);
      const generation = this.signal ? signalGeneration(this.signal) : 0;
      const begun = this.begin(waited);
      if (begun === 'busy') {
        this.busySince ??= Date.now();
        this.retrying = true;
        const retry = () => {
          // a flush since (close's) took the queue already
          if (this.retrying) this.flush();
        };
        if (this.signal) void writeEndedSince(this.signal, generation, 1).then(retry);
        else setTimeout(retry, 1);
        return;
      }
      this.busySince = undefined;
      this.queue.splice(0, batch.length);
      if (begun === 'begun') this.commit(batch);
      else for (const p of batch) p.reject(begun.error);
    }
  }

  /** BEGIN IMMEDIATE; 'busy' when another connection holds the write lock (not waited for) */
  private begin(wait: boolean): 'begun' | 'busy' | { error: unknown } {
    const { db } = this;
    try {
      if (wait) db.exec('BEGIN IMMEDIATE');
      else {
        // not prepared once: SQLite applies busy_timeout when the PRAGMA is compiled, not when it runs
        db.pragma('busy_timeout = 0');
        try {
          db.exec('BEGIN IMMEDIATE');
        } finally {
          db.pragma(`busy_timeout = ${this.connectionBusyTimeoutMs}`);
        }
      }
      return 'begun';
    } catch (error) {
      if (!wait && (error as { code?: string }).code === 'SQLITE_BUSY') return 'busy';
      return { error };
    }
  }

  private commit(batch: Pending[]): void {
    const { db } = this;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    let lost: unknown;
    for (const p of batch) {
      try {
        outcomes.push({ ok: true, value: p.op() });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
      // some errors (disk full, I/O) make SQLite roll back the whole transaction: earlier operations are gone too
      if (!db.inTransaction) {
        lost = outcomes.at(-1)?.ok === false ? (outcomes.at(-1) as { error: unknown }).error : new Error('the SQLite transaction was rolled back');
        break;
      }
    }
    if (lost === undefined) {
      try {
        db.exec('COMMIT');
      } catch (error) {
        lost = error;
        try {
          if (db.inTransaction) db.exec('ROLLBACK');
        } catch {
          // the COMMIT's error is the one to report
        }
      }
    }
    if (this.signal) signalWriteEnded(this.signal);
    if (lost !== undefined) {
      for (const p of batch) p.reject(lost);
      return;
    }
    batch.forEach((p, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) p.resolve(outcome.value);
      else p.reject(outcome.error);
    });
  }
}
