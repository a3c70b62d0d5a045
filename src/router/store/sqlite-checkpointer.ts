/**
 * WAL checkpoints off the main thread. SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL
 * pages, on the committing connection: it copies pages into the database file and fsyncs it, stalling every request
 * of that turn (the router's p99). Here the main connection turns the automatic checkpoint off and a worker thread,
 * with a connection of its own on the same file, runs PASSIVE checkpoints (they never block a writer or a reader).
 * Durability is unchanged: a commit is in the WAL either way; checkpoints only move it into the main file. Should
 * the thread die, the main connection takes automatic checkpoints back, so the WAL never grows without bound.
 *
 * A PASSIVE checkpoint does not start the WAL over: that happens only when a writer begins just after every frame
 * was checkpointed, and under steady writes another commit usually lands first. The WAL then grew by ~9 MB a second
 * at 5,000 webhooks a second (370 MB in 40 s), and every page lookup searched a longer WAL index. So once the WAL
 * holds `restartFrames`, the thread runs a RESTART checkpoint: it holds new writers back for at most RESTART_WAIT_MS
 * (the main connection's group commit retries them 1 ms later, off its event loop), and the next commit writes the WAL
 * from its start.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { CommitSignal } from './sqlite-commit-signal.js';
import type { SqliteDatabase } from './sqlite-database.js';

// plain JavaScript evaluated in the thread (the router also runs from TypeScript sources under vitest)
const THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    const [done] = db.pragma('wal_checkpoint(PASSIVE)');
    if (done && done.log >= workerData.restartFrames && done.checkpointed === done.log) {
      // compiled each time: SQLite applies busy_timeout when the PRAGMA is prepared
      db.pragma('busy_timeout = ' + workerData.restartWaitMs);
      // it held the write lock: wake the writers it held back (sqlite-commit-signal.ts)
      try { db.pragma('wal_checkpoint(RESTART)'); } finally { db.pragma('busy_timeout = 1000'); if (workerData.commitSignal) { Atomics.add(workerData.commitSignal, 0, 1); Atomics.notify(workerData.commitSignal, 0); } }
    }
  } catch { /* busy: next time */ }
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); try { db.close(); } catch {} parentPort.close(); });
`;

const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/** how long a RESTART checkpoint may hold new writers back, waiting for the current one (ms) */
const RESTART_WAIT_MS = 5;

export interface CheckpointOptions {
  /** between two PASSIVE checkpoints (ms, default 100) */
  intervalMs?: number;
  /** WAL frames (pages) after which the WAL is started over (default 8,192: 32 MB of 4 KB pages) */
  restartFrames?: number;
  /** bumped after each RESTART checkpoint, which holds the write lock (sqlite-commit-signal.ts) */
  commitSignal?: CommitSignal;
}

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startBackgroundCheckpoints(db: SqliteDatabase, file: string, options: CheckpointOptions = {}): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const { intervalMs = 100, restartFrames = 8_192 } = options;
  const worker = new Worker(THREAD, { eval: true, workerData: { module, file, intervalMs, restartFrames, restartWaitMs: RESTART_WAIT_MS, commitSignal: options.commitSignal } });
  worker.unref();
  let stopped = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const fallBack = () => {
    if (stopped || !db.open) return;
    db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  };
  worker.on('error', fallBack);
  worker.on('exit', fallBack);
  db.pragma('wal_autocheckpoint = 0');
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      worker.postMessage('stop');
      const timer = setTimeout(() => void worker.terminate(), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
