/**
 * WAL checkpoints off the main thread. SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL
 * pages, on the committing connection: it copies pages into the database file and fsyncs it, stalling every request
 * of that turn (the router's p99). Here the main connection turns the automatic checkpoint off and a worker thread,
 * with a connection of its own on the same file, runs PASSIVE checkpoints (they never block a writer or a reader).
 * Durability is unchanged: a commit is in the WAL either way; checkpoints only move it into the main file. Should
 * the thread die, the main connection takes automatic checkpoints back, so the WAL never grows without bound.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SqliteDatabase } from './sqlite-database.js';

// plain JavaScript evaluated in the thread (the router also runs from TypeScript sources under vitest)
const THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: next time */ }
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); try { db.close(); } catch {} parentPort.close(); });
`;

const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startBackgroundCheckpoints(db: SqliteDatabase, file: string, intervalMs = 100): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(THREAD, { eval: true, workerData: { module, file, intervalMs } });
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
