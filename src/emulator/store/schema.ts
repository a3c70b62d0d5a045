/** DDL: the fixed tables plus one table per resource descriptor, generated from the descriptor's columns. */
import type { ResourceDescriptor } from '../resources/descriptor.js';
import type { Migration } from './database.js';

const FIXED_TABLES = `
CREATE TABLE accounts (
  sid TEXT PRIMARY KEY,
  auth_token TEXT NOT NULL,
  friendly_name TEXT,
  default_service_sid TEXT NOT NULL,
  default_messaging_service_sid TEXT NOT NULL,
  default_inactive_timer TEXT,
  default_closed_timer TEXT,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL
);
CREATE TABLE api_keys (
  sid TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL,
  secret TEXT NOT NULL,
  friendly_name TEXT,
  date_created INTEGER NOT NULL
);
CREATE INDEX api_keys_account ON api_keys (account_sid);
-- Where a deleted row stood in its list, so a page token naming it keeps working (list-and-delete loops).
CREATE TABLE page_anchors (
  sid TEXT PRIMARY KEY,
  seq INTEGER NOT NULL
);
`;

export function resourceTableSql(d: ResourceDescriptor): string {
  const tableVersion = d.since ?? 1;
  const columns = d.columns.filter((c) => (c.since ?? tableVersion) === tableVersion);
  const cols = [
    'seq INTEGER PRIMARY KEY',
    'sid TEXT NOT NULL UNIQUE',
    'account_sid TEXT NOT NULL',
    ...d.parents.map((p) => `${p.column} TEXT NOT NULL`),
    ...columns.map((c) => `${c.name} ${sqlType(c.type)}`),
    'date_created INTEGER NOT NULL',
    'date_updated INTEGER',
  ];
  return `CREATE TABLE ${d.table} (\n  ${cols.join(',\n  ')}\n);`;
}

/**
 * Indexes hold no data, so they are not migrations: every start ensures the current set (IF NOT EXISTS), and a
 * database written by an older tce gains new ones on its next start.
 */
export function indexSql(d: ResourceDescriptor): string {
  const scope = ['account_sid', ...d.parents.map((p) => p.column), 'seq'];
  const stmts = [`CREATE INDEX IF NOT EXISTS ${d.table}_scope ON ${d.table} (${scope.join(', ')});`];
  // every child table is also searched by its direct parent alone (cascades, counts, per-conversation checks)
  const direct = d.parents[d.parents.length - 1];
  // (unless a declared index already leads with that column: each index costs a page write per insert)
  if (direct && !(d.indexes ?? []).some((index) => index[0] === direct.column)) stmts.push(`CREATE INDEX IF NOT EXISTS ${d.table}_by_${direct.column} ON ${d.table} (${direct.column}, seq);`);
  for (const index of d.indexes ?? []) {
    stmts.push(`CREATE INDEX IF NOT EXISTS ${d.table}_${index.join('_')} ON ${d.table} (${index.join(', ')});`);
  }
  for (const u of d.unique ?? []) {
    stmts.push(
      `CREATE UNIQUE INDEX IF NOT EXISTS ${d.table}_unique_${u.columns.join('_')} ON ${d.table} (${u.columns.join(', ')})${u.where ? ` WHERE ${u.where}` : ''};`,
    );
  }
  return stmts.join('\n');
}

function sqlType(type: 'text' | 'integer'): string {
  return type === 'integer' ? 'INTEGER' : 'TEXT';
}

/** Migration N creates the tables introduced in schema version N and adds the columns introduced in it. */
export function migrations(descriptors: ResourceDescriptor[]): Migration[] {
  const versions = [...new Set([1, ...descriptors.flatMap((d) => [d.since ?? 1, ...d.columns.map((c) => c.since ?? 1)])])].sort((a, b) => a - b);
  return versions.map((version) => ({
    version,
    sql:
      (version === 1 ? FIXED_TABLES : '') +
      descriptors
        .filter((d) => (d.since ?? 1) === version)
        .map(resourceTableSql)
        .join('\n') +
      descriptors
        .flatMap((d) => d.columns.filter((c) => c.since === version && c.since !== (d.since ?? 1)).map((c) => `\nALTER TABLE ${d.table} ADD COLUMN ${c.name} ${sqlType(c.type)};`))
        .join(''),
  }));
}
