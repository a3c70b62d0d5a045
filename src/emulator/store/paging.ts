/**
 * Keyset pagination. Rows are ordered by `seq` (insertion order); a page token names the SID of the row the
 * page starts after (`PA…`) or before (`PB…`), resolved to its seq through an index, so page 2,000 costs what
 * page one costs and rows added while paging never shift a page. Deleted rows leave an anchor behind so a
 * token naming one keeps working.
 */
import type { Database, Row, SqlValue } from './database.js';

type RawStatement = ReturnType<Database['raw']['prepare']>;
interface PageStatement {
  stmt: RawStatement;
  /** column values in SELECT order → the row object better-sqlite3 would have built (same keys, same order) */
  build?: (values: SqlValue[]) => Row;
}

/**
 * Page statements read rows as arrays and turn them into objects with one compiled object literal per SQL
 * text: better-sqlite3 builds each row object key by key from C++, which costs about as much again as the
 * query itself for a 50-row page. Kept apart from Database's statement cache so `raw` mode never leaks.
 */
const pageStatements = new WeakMap<Database['raw'], Map<string, PageStatement>>();

function pageStatement(db: Database, sql: string): PageStatement {
  let cache = pageStatements.get(db.raw);
  if (!cache) pageStatements.set(db.raw, (cache = new Map()));
  let entry = cache.get(sql);
  if (!entry) {
    const stmt = db.raw.prepare(sql);
    const names = stmt.columns().map((c) => c.name);
    if (names.includes('__proto__')) {
      entry = { stmt };
    } else {
      stmt.raw(true);
      // Duplicate names (joins) behave as in better-sqlite3: the last value wins, at the first one's position.
      const body = `return {${names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(', ')}};`;
      entry = { stmt, build: new Function('v', body) as (values: SqlValue[]) => Row };
    }
    cache.set(sql, entry);
  }
  return entry;
}

function allRows(db: Database, sql: string, args: SqlValue[]): Row[] {
  const { stmt, build } = pageStatement(db, sql);
  const rows = (stmt as unknown as { all(...params: SqlValue[]): unknown[] }).all(...args);
  if (!build) return rows as Row[];
  for (let i = 0; i < rows.length; i++) rows[i] = build(rows[i] as SqlValue[]);
  return rows as Row[];
}

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
  where: string[];
  args: SqlValue[];
  order: 'asc' | 'desc';
  pageSize: number;
  token?: PageToken;
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

export function readPage(db: Database, req: PageRequest, seq: number | undefined): PageResult {
  const where = [...req.where];
  const args = [...req.args];
  // Walking backwards (a PB token) reads the page in reverse order, then flips it.
  const backwards = req.token?.direction === 'before';
  const ascending = (req.order === 'asc') !== backwards;
  if (seq !== undefined) {
    where.push(`${req.seqColumn} ${ascending ? '>' : '<'} ?`);
    args.push(seq);
  }
  const sql =
    `SELECT ${req.select ?? '*'} FROM ${req.from}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${req.seqColumn} ${ascending ? 'ASC' : 'DESC'} LIMIT ?`;
  args.push(req.pageSize + 1);
  const rows = allRows(db, sql, args);
  const more = rows.length > req.pageSize;
  if (more) rows.pop();
  if (backwards) {
    rows.reverse();
    return { rows, hasNext: true, hasPrevious: more };
  }
  return { rows, hasNext: more, hasPrevious: req.token !== undefined };
}
