/**
 * The store's DDL (src/emulator/store/schema.ts): every column a descriptor declares is a column of its table with
 * its SQL type, whatever schema version added it; each table has its list index and its unique indexes; a column
 * added later arrives by ALTER TABLE in its own migration; indexes no longer declared go at the next start, and
 * nothing else does. Read from SQLite itself (PRAGMA), on an emulator's database and on a file reopened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Database } from '../src/emulator/store/database.js';
import { indexSql, migrations, resourceTableSql, undeclaredIndexes } from '../src/emulator/store/schema.js';
import { descriptors } from '../src/emulator/resources/registry.js';
import type { ResourceDescriptor } from '../src/emulator/resources/descriptor.js';
import { startEmulator, type TestEmulator } from './support/emulator.js';
const dir = mkdtempSync(join(tmpdir(), 'tce-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type ColumnInfo = { name: string; type: string; notnull: number; pk: number };
const columnsOf = (db: Database, table: string) => db.raw.pragma(`table_info(${table})`) as ColumnInfo[];
const indexesOf = (db: Database, table: string) =>
  (db.raw.pragma(`index_list(${table})`) as { name: string; unique: number; partial: number }[]).map((i) => ({
    ...i,
    columns: (db.raw.pragma(`index_info(${i.name})`) as { name: string }[]).map((c) => c.name),
  }));

/** Run `check` against a fresh emulator started in the test itself (so mutation testing sees what it covers). */
async function withEmulator(check: (t: TestEmulator) => void): Promise<void> {
  const t = await startEmulator();
  try {
    check(t);
  } finally {
    await t.emulator.close();
  }
}

describe('resource tables', () => {
  it('hold seq, sid, account_sid, the parents, every declared column with its type, and the dates', () => withEmulator((t) => {
    const db = t.emulator.core.db;
    for (const d of descriptors) {
      const columns = columnsOf(db, d.table);
      const expected = [
        { name: 'seq', type: 'INTEGER', notnull: 0, pk: 1 },
        { name: 'sid', type: 'TEXT', notnull: 1, pk: 0 },
        { name: 'account_sid', type: 'TEXT', notnull: 1, pk: 0 },
        ...d.parents.map((p) => ({ name: p.column, type: 'TEXT', notnull: 1, pk: 0 })),
        ...d.columns.map((c) => ({ name: c.name, type: c.type === 'integer' ? 'INTEGER' : 'TEXT', notnull: 0, pk: 0 })),
        { name: 'date_created', type: 'INTEGER', notnull: 1, pk: 0 },
        { name: 'date_updated', type: 'INTEGER', notnull: 0, pk: 0 },
      ];
      const pick = (c: ColumnInfo) => ({ name: c.name, type: c.type, notnull: c.notnull, pk: c.pk });
      // columns added by a later version come last (ALTER TABLE appends): compare as sets, order aside
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      expect(columns.map(pick).sort(byName), d.table).toEqual(expected.sort(byName));
    }
  }));

  it('have the list index (direct parent or account, then seq), their extra indexes and their unique ones', () => withEmulator((t) => {
    const db = t.emulator.core.db;
    for (const d of descriptors) {
      const indexes = indexesOf(db, d.table).filter((i) => !i.name.startsWith('sqlite_autoindex'));
      const direct = d.parents.at(-1)?.column ?? 'account_sid';
      const expected = [
        { columns: [direct, 'seq'], unique: 0, partial: 0 },
        ...(d.indexes ?? []).map((columns) => ({ columns, unique: 0, partial: 0 })),
        ...(d.unique ?? []).map((u) => ({ columns: u.columns, unique: 1, partial: u.where ? 1 : 0 })),
      ];
      const key = (i: { columns: string[] }) => i.columns.join(',');
      expect(indexes.map(({ columns, unique, partial }) => ({ columns, unique, partial })).sort((a, b) => key(a).localeCompare(key(b))), d.table).toEqual(
        expected.sort((a, b) => key(a).localeCompare(key(b))),
      );
    }
  }));

  it('a unique index refuses a second row with the same key (Users: identity per service)', () => withEmulator((t) => {
    const db = t.emulator.core.db;
    const users = descriptors.find((d) => d.unique?.length && d.table === 'users');
    expect(users).toBeDefined();
    const insert = () =>
      db.raw.prepare('INSERT INTO users (sid, account_sid, chat_service_sid, identity, date_created) VALUES (?, ?, ?, ?, 0)');
    insert().run('US' + '1'.repeat(32), t.emulator.accountSid, t.emulator.defaultServiceSid, 'same');
    expect(() => insert().run('US' + '2'.repeat(32), t.emulator.accountSid, t.emulator.defaultServiceSid, 'same')).toThrow(/UNIQUE/);
  }));
});

describe('migrations', () => {
  const column = (name: string, type: 'text' | 'integer', since?: number) => ({ name, type, since });
  const d = (o: Partial<ResourceDescriptor> & { table: string }): ResourceDescriptor =>
    ({ name: o.table, prefix: 'ZZ', parents: [], columns: [], ...o }) as ResourceDescriptor;

  it('one per version, ascending: a table in its own version, a later column by ALTER TABLE in its version', () => {
    // versions met out of order, and above 9 (which a text sort puts before 3)
    const old = d({ table: 'old_things', columns: [column('a', 'text'), column('late', 'integer', 30), column('later', 'text', 30)] });
    const newer = d({ table: 'new_things', since: 20, columns: [column('b', 'integer'), column('c', 'text', 20)] });
    const list = migrations([old, newer]);
    const fixed = migrations([]).map((m) => m.version);
    expect(fixed).toEqual([...fixed].sort((a, b) => a - b));
    expect(list.map((m) => m.version)).toEqual([...fixed, 20, 30]);
    const sql = (v: number) => list.find((m) => m.version === v)?.sql ?? '';
    expect(sql(1)).toContain(resourceTableSql(old));
    expect(sql(1)).toMatch(/CREATE TABLE accounts/);
    expect(resourceTableSql(old)).not.toMatch(/late/);
    expect(sql(20)).toContain(resourceTableSql(newer));
    expect(resourceTableSql(newer)).toMatch(/\bb INTEGER,\n {2}c TEXT,/);
    expect(sql(20)).not.toMatch(/ALTER TABLE/);
    expect(sql(30)).toBe('\nALTER TABLE old_things ADD COLUMN late INTEGER;\nALTER TABLE old_things ADD COLUMN later TEXT;');
    expect(sql(3)).toMatch(/CREATE TABLE webhook_deliveries/);

    const db = new Database(':memory:');
    db.migrate(list);
    expect(db.raw.pragma('user_version', { simple: true })).toBe(30);
    expect(columnsOf(db, 'old_things').map((c) => `${c.name} ${c.type}`)).toEqual([
      'seq INTEGER', 'sid TEXT', 'account_sid TEXT', 'a TEXT', 'date_created INTEGER', 'date_updated INTEGER', 'late INTEGER', 'later TEXT',
    ]);
    expect(columnsOf(db, 'new_things').map((c) => c.name)).toEqual(['seq', 'sid', 'account_sid', 'b', 'c', 'date_created', 'date_updated']);
    db.raw.close();
  });

  it('a database made by the first versions reaches the same schema as a fresh one', () => {
    const all = migrations(descriptors);
    const schema = (db: Database) =>
      (db.raw.prepare("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all() as object[]).map((o) => ({
        ...o,
        columns: columnsOf(db, (o as { tbl_name: string }).tbl_name).map((c) => `${c.name} ${c.type} ${c.notnull}`).sort(),
      }));
    const fresh = new Database(':memory:');
    fresh.migrate(all, descriptors.map(indexSql).join('\n'));
    for (const upTo of all.map((m) => m.version).slice(0, -1)) {
      const file = join(dir, `v${upTo}.sqlite`);
      const old = new Database(file);
      old.migrate(all.filter((m) => m.version <= upTo));
      old.raw.close();
      const reopened = new Database(file);
      reopened.migrate(all, descriptors.map(indexSql).join('\n'));
      expect(schema(reopened), `from version ${upTo}`).toEqual(schema(fresh));
      reopened.raw.close();
    }
    fresh.raw.close();
  });
});

describe('undeclared indexes', () => {
  it('are dropped at the next start on resource tables only; declared and SQLite-owned ones stay', async () => {
    const file = join(dir, 'indexes.sqlite');
    const first = await startEmulator({ db: file });
    first.emulator.core.db.raw.exec('CREATE INDEX conversations_stale ON conversations (friendly_name); CREATE INDEX accounts_mine ON accounts (friendly_name);');
    await first.emulator.close();
    const second = await startEmulator({ db: file });
    try {
      const names = (second.emulator.core.db.raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]).map((r) => r.name);
      expect(names).not.toContain('conversations_stale');
      expect(names).toContain('accounts_mine');
      expect(names.some((n) => n.startsWith('sqlite_autoindex_conversations'))).toBe(true);
      const declared = descriptors.map(indexSql).join('\n');
      for (const m of declared.matchAll(/INDEX IF NOT EXISTS (\w+)/g)) expect(names).toContain(m[1]);
    } finally {
      await second.emulator.close();
    }
  });

  it('undeclaredIndexes names only what the declared SQL does not create, on the tables given', () => {
    const declared = 'CREATE INDEX IF NOT EXISTS a_x ON a (x);\nCREATE UNIQUE INDEX IF NOT EXISTS a_unique_y ON a (y) WHERE y IS NOT NULL;';
    const existing = [
      { name: 'a_x', tbl_name: 'a' },
      { name: 'a_unique_y', tbl_name: 'a' },
      { name: 'a_old', tbl_name: 'a' },
      { name: 'a_older', tbl_name: 'a' },
      { name: 'sqlite_autoindex_a_1', tbl_name: 'a' },
      { name: 'b_old', tbl_name: 'b' },
    ];
    expect(undeclaredIndexes(existing, ['a'], declared)).toBe('DROP INDEX a_old;\nDROP INDEX a_older;');
    expect(undeclaredIndexes(existing.slice(0, 2), ['a'], declared)).toBe('');
  });
});
