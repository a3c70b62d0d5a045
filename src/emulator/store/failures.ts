/**
 * What went wrong with the database file, in words an operator can act on: the path, the cause, what to do.
 * SQLite's own messages ("database is locked", "disk I/O error") name neither the file nor a remedy.
 */
import BetterSqlite3 from 'better-sqlite3';
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** A store failure the operator must see: its message names the file and the cause. */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** The SQLite result code of an error (SQLITE_FULL, SQLITE_IOERR_WRITE, …), or undefined for other errors. */
export function sqliteCode(error: unknown): string | undefined {
  return error instanceof BetterSqlite3.SqliteError ? error.code : undefined;
}

/** The likely reason a path cannot be opened, from the file system. */
function whyNotOpen(path: string): string {
  try {
    if (statSync(path).isDirectory()) return 'the path is a directory';
  } catch {
    // no such file: look at the directory
  }
  try {
    accessSync(dirname(path), constants.W_OK);
  } catch (error) {
    return `its directory ${dirname(path)} is not writable (${(error as NodeJS.ErrnoException).code})`;
  }
  return 'the file or its directory refused it (permissions, a read-only mount?)';
}

/**
 * The operator's sentence for a SQLite failure on `path`, or undefined when the error is not about the file
 * (a constraint, a bug in a query): those stay the caller's.
 */
export function describeStoreFailure(path: string, error: unknown): StoreError | undefined {
  const code = sqliteCode(error);
  if (!code) return undefined;
  const said = `${(error as Error).message} (${code})`;
  const primary = code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1');
  const cause = (text: string) => new StoreError(`database ${path}: ${text}; SQLite said: ${said}`, code);
  switch (primary) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return cause('in use by another process (another tce serving it?); stop that one, or pass another --db');
    case 'SQLITE_CANTOPEN':
      return cause(`cannot open the file: ${whyNotOpen(path)}`);
    case 'SQLITE_FULL':
      return cause('the disk is full; free some space (the write was not stored)');
    case 'SQLITE_IOERR':
      return cause('the disk failed to read or write the file (disk I/O error)');
    case 'SQLITE_READONLY':
      return cause('the file or its directory is read-only');
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
      return cause('permission denied');
    case 'SQLITE_NOTADB':
      return cause('the file is not a SQLite database; pass another --db');
    case 'SQLITE_CORRUPT':
      return cause('the file is corrupted; move it away (or restore a copy) and start again');
    default:
      return undefined;
  }
}
