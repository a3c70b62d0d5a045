/**
 * Random requests for property tests (fuzz, store safety): junk values, mutations of a valid request, and a
 * digest of every stored row, to check that a refused write left the database as it was.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { OperationSpec } from '../../src/contracts/manifest.js';
import type { Database } from '../../src/emulator/store/database.js';

/** A hash of every row of every table (and of the schema), in rowid order: equal digests, equal contents. */
export function tablesDigest(db: Database): string {
  const hash = createHash('sha1');
  for (const { name } of db.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
    hash.update(`\0${String(name)}\0`);
    for (const row of db.all(`SELECT * FROM ${String(name)} ORDER BY rowid`)) hash.update(JSON.stringify(row));
  }
  for (const row of db.all('SELECT * FROM sqlite_master ORDER BY name')) hash.update(JSON.stringify(row));
  return hash.digest('hex');
}

export const junkValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', ' ', 'null', 'true', 'false', '-1', '0', '1', '101', '1e309', '{}', '[]', '{"a":', 'PT0S', 'P1Y', 'closed', 'GET',
    '+15558675310', 'whatsapp:+15017122661', 'CH' + '0'.repeat(32), 'IS' + 'f'.repeat(32), 'PAIM' + '0'.repeat(32), '%00', '\u0000', '😀'.repeat(5),
    '2020-02-30T25:61:00Z', 'https://example.com/x', 'javascript:alert(1)', 'x'.repeat(300)),
  fc.integer({ min: -1e6, max: 1e6 }).map(String),
);

/** A change to an operation's request: start from a valid one or from nothing, then set a few keys to junk. */
export function mutation(op: OperationSpec) {
  const names = op.params.filter((p) => p.in !== 'path' && p.in !== 'header').map((p) => p.name);
  const key = names.length ? fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 12 })) : fc.string({ maxLength: 12 });
  return fc.record({
    startValid: fc.boolean(),
    changes: fc.array(fc.tuple(key, fc.oneof(junkValue, fc.array(junkValue, { maxLength: 3 }))), { maxLength: 5 }),
    webhookHeader: fc.option(fc.constantFrom('true', 'false', 'maybe'), { nil: undefined }),
  });
}
