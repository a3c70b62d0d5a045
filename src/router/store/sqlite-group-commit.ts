/**
 * Group commit for better-sqlite3: every write queued within one event-loop turn runs inside ONE outer IMMEDIATE
 * transaction, so thousands of small writes a second pay for one BEGIN/COMMIT (and one WAL append) per turn instead
 * of one each. Each operation is itself a `db.transaction(...)`, which better-sqlite3 nests as a SAVEPOINT: a failing
 * operation rolls back only itself and rejects only its own promise. Promises resolve after the outer COMMIT, so an
 * operation that resolved is committed (durability unchanged); a failing BEGIN or COMMIT rejects the whole batch.
 */
import type { SqliteDatabase } from './sqlite-database.js';

interface Pending {
  op: () => unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface GroupCommitOptions {
  /** most operations per outer transaction (a longer queue is split) */
  maxBatch?: number;
}

export class SqliteGroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly maxBatch: number;

  constructor(
    private readonly db: SqliteDatabase,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
  }

  /** Queue `op` (a better-sqlite3 transaction function, so it nests as a savepoint) for this turn's batch. */
  run<T>(op: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // after this turn's I/O callbacks: the requests that arrived together commit together, none waits longer
        setImmediate(() => this.flush());
      }
    });
  }

  /** Run everything queued now (close() calls it so nothing queued is dropped). */
  flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) this.commit(this.queue.splice(0, this.maxBatch));
  }

  private commit(batch: Pending[]): void {
    const { db } = this;
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
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
