/**
 * Keyset pagination. Rows are ordered by `seq` (insertion order); a page token names the SID of the row the
 * page starts after (`PA…`) or before (`PB…`), resolved to its seq through an index, so page 2,000 costs what
 * page one costs and rows added while paging never shift a page. Deleted rows leave an anchor behind so a
 * token naming one keeps working. `Page=<n>` without a token pages by offset (decisions.md), as the 2010 API does.
 */
import type { Database, FixedColumns, Row, SqlValue } from './database.js';
import { Conditions } from './conditions.js';

export interface PageToken {
  direction: 'after' | 'before';
  sid: string;
}

export function parsePageToken(token: string): PageToken | undefined {
  const m = /^P([AB])([A-Z]{2}[0-9a-f]{32})$/.exec(token);
  if (!m) return undefined;
  return { direction: m[1] === 'A' ? 'after' : 'before', sid: m[2] };
}

export function formatPageToken(direction: 'after' | 'before', sid: string): string {
  return `P${direction === 'after' ? 'A' : 'B'}${sid}`;
}

export interface PageRequest {
  /** FROM clause: a table, or a join whose keyset column is `<alias>.seq` */
  from: string;
  /** qualified seq column, e.g. `seq` or `p.seq` */
  seqColumn: string;
  /** the table holding the rows whose SIDs tokens name */
  anchorTable: string;
  select?: string;
  /**
   * In place of `select`: plain columns to read, and the columns every row of the page shares (equalities of
   * `where`), added to the rows rather than read (`Database.allColumns`)
   */
  columns?: { read: readonly string[]; fixed: FixedColumns };
  where: string[];
  args: SqlValue[];
  order: 'asc' | 'desc';
  pageSize: number;
  token?: PageToken;
  /** the `Page` asked for; without a token, the page read is the n-th of `pageSize` rows (offset paging) */
  page?: number;
}

export interface PageResult {
  rows: Row[];
  hasNext: boolean;
  hasPrevious: boolean;
}

/** The seq a token names, or undefined when no such row ever stood in the table. */
export function anchorSeq(db: Database, table: string, sid: string): number | undefined {
  const row = db.get(`SELECT seq FROM ${table} WHERE sid = ?`, sid) ?? db.get('SELECT seq FROM page_anchors WHERE sid = ?', sid);
  return row ? Number(row.seq) : undefined;
}

/**
 * The seq of the row just before page `page` (offset paging), or undefined when the list ends before it.
 * Offsets past 2^53 are past any table (and SQLite would take them as floats).
 */
function offsetSeq(db: Database, req: PageRequest, page: number): number | undefined {
  const offset = page * req.pageSize;
  if (!Number.isSafeInteger(offset)) return undefined;
  const conditions = new Conditions(req.where, req.args);
  const row = db.get(
    `SELECT ${req.seqColumn} AS seq FROM ${req.from}${conditions.where()} ORDER BY ${req.seqColumn} ${req.order === 'asc' ? 'ASC' : 'DESC'} LIMIT 1 OFFSET ?`,
    ...conditions.args,
    offset - 1,
  );
  return row ? Number(row.seq) : undefined;
}

export function readPage(db: Database, req: PageRequest, seq: number | undefined): PageResult {
  const byOffset = req.token === undefined && req.page !== undefined && req.page > 0;
  if (byOffset) {
    seq = offsetSeq(db, req, req.page as number);
    if (seq === undefined) return { rows: [], hasNext: false, hasPrevious: false };
  }
  const conditions = new Conditions(req.where, req.args);
  // Walking backwards (a PB token) reads the page in reverse order, then flips it.
  const backwards = req.token?.direction === 'before';
  const ascending = (req.order === 'asc') !== backwards;
  if (seq !== undefined) conditions.add(`${req.seqColumn} ${ascending ? '>' : '<'} ?`, seq);
  const rest = `FROM ${req.from}${conditions.where()} ORDER BY ${req.seqColumn} ${ascending ? 'ASC' : 'DESC'} LIMIT ?`;
  const args = [...conditions.args, req.pageSize + 1];
  const rows = req.columns
    ? db.allColumns(req.columns.read, rest, req.columns.fixed, ...args)
    : db.all(`SELECT ${req.select ?? '*'} ${rest}`, ...args);
  const more = rows.length > req.pageSize;
  if (more) rows.pop();
  if (backwards) {
    rows.reverse();
    return { rows, hasNext: true, hasPrevious: more };
  }
  return { rows, hasNext: more, hasPrevious: req.token !== undefined || byOffset };
}
