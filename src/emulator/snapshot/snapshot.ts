/**
 * Snapshots (`GET` / `PUT /_emulator/snapshot`): the emulator's state as one portable, versioned JSON document.
 *
 * The store is dumped generically: every table of the SQLite store (read from sqlite_master, so a new resource is
 * covered without code here), rows as objects keyed by column name, in rowid order (seq, hence list order and page
 * tokens, are kept). The in-memory pieces (clock, fault rules, limits) ride beside the tables. Left out: the webhook
 * delivery journal (deliveries in flight belong to the run that made them; a loaded copy would send them again) and
 * the request log (history, in memory only).
 *
 * A one-account snapshot (`?accountSid=`) holds that account's rows only; loading it replaces that account and
 * leaves everything else (other accounts, handsets, clock, rules) as it is.
 */
import { readFileSync } from 'node:fs';
import type { EmulatorCore } from '../core.js';
import type { SqlValue } from '../store/database.js';
import { invalidParameter, twilioError } from '../wire/errors.js';
import { parseRules } from '../webhooks/faults.js';
import { parseRestRules } from '../http/rest-faults.js';
import { parseLimits } from '../http/limits.js';
import { version as tceVersion } from '../../version.js';

export const SNAPSHOT_FORMAT = 'tce-snapshot';
/** The document's layout. A later layout bumps this and adds a step to UPGRADES that turns the older one into it. */
export const SNAPSHOT_VERSION = 1;

/** version → the step that turns a document of that version into one of the next; none yet (1 is the first). */
const UPGRADES: Record<number, (doc: Record<string, unknown>) => Record<string, unknown>> = {};

/** Tables not in a snapshot (see above); `sqlite_*` are SQLite's own. */
const LEFT_OUT = new Set(['webhook_deliveries']);

/**
 * How a one-account snapshot picks the rows of a table without an `account_sid` column (`?` is the account).
 * A table with neither is global (handsets, page anchors): only in a whole snapshot.
 */
const ACCOUNT_ROWS: Record<string, string> = {
  accounts: 'sid = ?',
  messaging_service_senders: 'service_sid IN (SELECT default_messaging_service_sid FROM accounts WHERE sid = ?)',
};

/** createEmulator({ snapshot }) could not load the document it was given (the message says why). */
export class SnapshotLoadError extends Error {}

/** The document in a snapshot file (createEmulator({ snapshot: path })); a missing file or one not JSON says so. */
export function readSnapshotDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON (${(error as Error).message})`);
  }
}

export type SnapshotRow = Record<string, string | number | null>;

export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  version: number;
  /** the tce that took it, and its store's schema version (PRAGMA user_version) */
  tce: string;
  schemaVersion: number;
  takenAt: string;
  /** null: the whole emulator; else the one account it holds */
  accountSid: string | null;
  /** whole snapshots only */
  clock?: { mode: 'real' | 'manual'; now: string };
  webhookFaults?: unknown[];
  restFaults?: unknown[];
  limits?: unknown;
  tables: Record<string, SnapshotRow[]>;
}

interface TableInfo {
  columns: string[];
  /** the WHERE clause picking one account's rows, or undefined for a global table */
  accountFilter?: string;
}

/** The tables a snapshot holds, with their columns, read from the store itself. */
function snapshotTables(core: EmulatorCore): Map<string, TableInfo> {
  const names = core.db.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  const tables = new Map<string, TableInfo>();
  for (const { name } of names as { name: string }[]) {
    if (LEFT_OUT.has(name)) continue;
    const columns = (core.db.raw.prepare(`PRAGMA table_info("${name}")`).all() as { name: string }[]).map((c) => c.name);
    tables.set(name, { columns, accountFilter: ACCOUNT_ROWS[name] ?? (columns.includes('account_sid') ? 'account_sid = ?' : undefined) });
  }
  return tables;
}

function schemaVersion(core: EmulatorCore): number {
  return core.db.raw.pragma('user_version', { simple: true }) as number;
}

/** The whole emulator, or one account (NotFound for an unknown one). */
export function takeSnapshot(core: EmulatorCore, accountSid?: string): Snapshot {
  if (accountSid !== undefined && !core.accounts.get(accountSid)) throw twilioError('NotFound', { path: `/_emulator/accounts/${accountSid}` });
  // what is written so far, committed or not, is what this connection reads: one consistent view
  const tables: Record<string, SnapshotRow[]> = {};
  for (const [name, info] of snapshotTables(core)) {
    if (accountSid !== undefined && !info.accountFilter) continue;
    const where = accountSid === undefined ? '' : ` WHERE ${info.accountFilter}`;
    const rows = core.db.raw.prepare(`SELECT * FROM "${name}"${where} ORDER BY rowid`).all(...(accountSid === undefined ? [] : [accountSid])) as Record<string, SqlValue>[];
    tables[name] = rows.map((row) => portableRow(name, row));
  }
  const snapshot: Snapshot = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    tce: tceVersion,
    schemaVersion: schemaVersion(core),
    takenAt: new Date().toISOString(),
    accountSid: accountSid ?? null,
    tables,
  };
  if (accountSid === undefined) {
    snapshot.clock = { mode: core.clock.currentMode, now: new Date(core.clock.now()).toISOString() };
    snapshot.webhookFaults = core.webhooks.faults.rules;
    snapshot.restFaults = core.restFaults.rules;
    snapshot.limits = core.limits.current;
  }
  return snapshot;
}

function portableRow(table: string, row: Record<string, SqlValue>): SnapshotRow {
  for (const [column, value] of Object.entries(row)) {
    // the schema declares only TEXT and INTEGER columns: anything else would not survive JSON
    if (typeof value === 'bigint' || Buffer.isBuffer(value)) throw new Error(`snapshot: ${table}.${column} holds a value JSON cannot carry`);
  }
  return row as SnapshotRow;
}

/** What a checked document loads: rows per table, and the parsed in-memory pieces of a whole snapshot. */
interface Checked {
  accountSid: string | undefined;
  takenAt: string;
  tables: [name: string, rows: SnapshotRow[]][];
  clock?: { mode: 'real' | 'manual'; now: number };
  webhookFaults?: ReturnType<typeof parseRules>;
  restFaults?: ReturnType<typeof parseRestRules>;
  limits?: ReturnType<typeof parseLimits>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Check a document against this store before anything is written; every refusal says what is wrong. */
function check(core: EmulatorCore, body: unknown): Checked {
  if (!isObject(body)) throw invalidParameter('a snapshot must be a JSON object');
  if (body.format !== SNAPSHOT_FORMAT) throw invalidParameter(`not a tce snapshot: format must be "${SNAPSHOT_FORMAT}", got ${JSON.stringify(body.format ?? null)}`);
  if (body.version === undefined) throw invalidParameter('the snapshot has no version');
  let doc = body;
  if (!Number.isInteger(doc.version) || (doc.version as number) < 1 || (doc.version as number) > SNAPSHOT_VERSION) {
    throw invalidParameter(`snapshot version ${JSON.stringify(doc.version)} is not one this tce reads (versions 1 to ${SNAPSHOT_VERSION})`);
  }
  for (let v = doc.version as number; v < SNAPSHOT_VERSION; v++) doc = UPGRADES[v](doc);

  const current = schemaVersion(core);
  if (typeof doc.schemaVersion === 'number' && doc.schemaVersion > current) {
    throw invalidParameter(`the snapshot was taken by a newer tce (${String(doc.tce)}, store schema ${doc.schemaVersion}; this one has ${current})`);
  }
  const accountSid = doc.accountSid === null || doc.accountSid === undefined ? undefined : doc.accountSid;
  if (accountSid !== undefined && (typeof accountSid !== 'string' || !/^AC[0-9a-f]{32}$/.test(accountSid))) {
    throw invalidParameter('accountSid must be null or an account SID');
  }
  if (!isObject(doc.tables)) throw invalidParameter('the snapshot has no tables object');

  const known = snapshotTables(core);
  const tables: Checked['tables'] = [];
  for (const [name, rows] of Object.entries(doc.tables)) {
    const info = known.get(name);
    if (!info) throw invalidParameter(`unknown table ${JSON.stringify(name)} in the snapshot (this tce has ${[...known.keys()].join(', ')})`);
    if (accountSid !== undefined && !info.accountFilter) throw invalidParameter(`table ${name} is global: a one-account snapshot cannot hold it`);
    if (!Array.isArray(rows)) throw invalidParameter(`table ${name} must be an array of rows`);
    rows.forEach((row, i) => {
      if (!isObject(row)) throw invalidParameter(`table ${name} row ${i} must be an object`);
      for (const [column, value] of Object.entries(row)) {
        if (!info.columns.includes(column)) throw invalidParameter(`table ${name} has no column ${JSON.stringify(column)} (row ${i})`);
        if (value !== null && typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) {
          throw invalidParameter(`table ${name} row ${i} column ${column}: a value must be a string, a number or null`);
        }
      }
      if (accountSid !== undefined) {
        const owner = name === 'accounts' ? row.sid : row.account_sid;
        if (owner !== undefined && owner !== accountSid) throw invalidParameter(`table ${name} row ${i} belongs to ${String(owner)}, not to the snapshot's account ${accountSid}`);
      }
    });
    tables.push([name, rows as SnapshotRow[]]);
  }

  const checked: Checked = { accountSid, takenAt: String(doc.takenAt), tables };
  if (accountSid === undefined) {
    if (doc.clock !== undefined) {
      const clock = doc.clock as Record<string, unknown>;
      const now = isObject(clock) && typeof clock.now === 'string' ? Date.parse(clock.now) : NaN;
      if (!isObject(clock) || (clock.mode !== 'real' && clock.mode !== 'manual') || Number.isNaN(now)) {
        throw invalidParameter('clock must be { "mode": "real" | "manual", "now": ISO 8601 date-time }');
      }
      checked.clock = { mode: clock.mode as 'real' | 'manual', now };
    }
    if (doc.webhookFaults !== undefined) checked.webhookFaults = parseRules({ rules: doc.webhookFaults });
    if (doc.restFaults !== undefined) checked.restFaults = parseRestRules({ rules: doc.restFaults });
    if (doc.limits !== undefined) checked.limits = parseLimits(doc.limits);
  }
  return checked;
}

/**
 * Replace the state with a snapshot's, in one transaction: a document that is refused (400, InvalidParameter)
 * changes nothing. A whole snapshot replaces everything; a one-account snapshot replaces that account.
 */
export function loadSnapshot(core: EmulatorCore, body: unknown): void {
  const doc = check(core, body);
  const { accountSid } = doc;
  const db = core.db;
  db.transaction(() => {
    const tables = [...snapshotTables(core)].filter(([, info]) => accountSid === undefined || info.accountFilter);
    // the account row last: other tables' filters may read it
    tables.sort(([a], [b]) => Number(a === 'accounts') - Number(b === 'accounts'));
    for (const [name, info] of tables) {
      if (accountSid === undefined) db.run(`DELETE FROM "${name}"`);
      else db.run(`DELETE FROM "${name}" WHERE ${info.accountFilter}`, accountSid);
    }
    for (const [name, rows] of doc.tables) {
      rows.forEach((row, i) => {
        const columns = Object.keys(row);
        try {
          db.run(
            `INSERT INTO "${name}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
            ...columns.map((c) => row[c]),
          );
        } catch (error) {
          throw invalidParameter(`table ${name} row ${i} cannot be loaded: ${(error as Error).message}`);
        }
      });
    }
    // deliveries queued for the replaced state go with it (memory and outbox)
    core.webhooks.reset(accountSid);
  });
  // a seeded emulator must not draw the loaded SIDs again (it may have the seed that made them)
  core.random.mix(`snapshot|${doc.takenAt}`);
  // caches of what was just replaced
  core.accounts.forgetCredentials();
  core.timers.forget();
  core.requestLog.clear(accountSid);
  if (doc.webhookFaults) core.webhooks.faults.rules = doc.webhookFaults;
  if (doc.restFaults) core.restFaults.rules = doc.restFaults;
  if (doc.limits) core.limits.set(doc.limits);
  if (doc.clock) {
    core.clock.setMode(doc.clock.mode);
    core.clock.set(doc.clock.now);
  }
}
