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

/** Fixed tables added after version 1, by the schema version that adds them. */
const LATER_FIXED_TABLES: Record<number, string> = {
  3: `
-- The webhook outbox and journal: a row per delivery, written in the same transaction as the change.
CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY,
  account_sid TEXT NOT NULL,
  event_type TEXT NOT NULL,
  kind TEXT NOT NULL,
  conversation_sid TEXT,
  webhook_sid TEXT,
  order_key TEXT NOT NULL,
  position INTEGER NOT NULL,
  url TEXT NOT NULL,
  method TEXT NOT NULL,
  params TEXT NOT NULL,
  idempotency_token TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts TEXT NOT NULL DEFAULT '[]',
  retry_count INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  hold_group TEXT,
  duplicate_of INTEGER,
  created_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (state, order_key, position);
CREATE INDEX webhook_deliveries_conversation ON webhook_deliveries (conversation_sid, id);
`,
  4: `
-- The simulated SMS/WhatsApp channel: every message a handset sent or was sent (the outbox, and Messaging API).
CREATE TABLE channel_messages (
  seq INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  direction TEXT NOT NULL,
  channel TEXT NOT NULL,
  to_address TEXT NOT NULL,
  from_address TEXT NOT NULL,
  messaging_service_sid TEXT,
  body TEXT,
  media TEXT,
  content_sid TEXT,
  status TEXT NOT NULL,
  error_code INTEGER,
  conversation_sid TEXT,
  message_sid TEXT,
  participant_sid TEXT,
  receipt_sid TEXT,
  status_callback TEXT,
  next_step_at INTEGER,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL,
  date_sent INTEGER
);
CREATE INDEX channel_messages_account ON channel_messages (account_sid, seq);
CREATE INDEX channel_messages_due ON channel_messages (next_step_at);
CREATE INDEX channel_messages_to ON channel_messages (to_address, seq);
-- Scripted handsets (PUT /_emulator/handsets/{address}); an address without a row behaves as the default.
CREATE TABLE handsets (
  address TEXT PRIMARY KEY,
  outcome TEXT NOT NULL,
  error_code INTEGER,
  read INTEGER NOT NULL,
  progression TEXT NOT NULL
);
CREATE TABLE opt_outs (
  account_sid TEXT NOT NULL,
  address TEXT NOT NULL,
  sender TEXT NOT NULL,
  since INTEGER NOT NULL,
  PRIMARY KEY (account_sid, address, sender)
);
-- When a handset last wrote to a sender (the WhatsApp 24-hour session window).
CREATE TABLE channel_sessions (
  account_sid TEXT NOT NULL,
  address TEXT NOT NULL,
  sender TEXT NOT NULL,
  last_inbound_at INTEGER NOT NULL,
  PRIMARY KEY (account_sid, address, sender)
);
`,
  5: `
-- Only unfinished deliveries need finding by queue order (resumed at start). Indexing every row by state cost an
-- index delete + insert per delivery (state changes) at a random place (order_key); the partial index holds the few
-- rows in flight, so its pages stay hot and a batch of deliveries dirties one or two of them.
-- The journal's filter by conversation scans instead (a debugging read, bounded by its LIMIT): the index put each
-- delivery at a random place among the conversations, one more page written per delivery.
DROP INDEX webhook_deliveries_pending;
DROP INDEX webhook_deliveries_conversation;
CREATE INDEX webhook_deliveries_unfinished ON webhook_deliveries (order_key, position) WHERE finished_at IS NULL;
`,
  6: `
-- Every account's test credentials (twilio.com/docs/iam/test-credentials); filled for older accounts at start.
ALTER TABLE accounts ADD COLUMN test_account_sid TEXT;
ALTER TABLE accounts ADD COLUMN test_auth_token TEXT;
CREATE UNIQUE INDEX accounts_test_account_sid ON accounts (test_account_sid);
-- Messaging Service sender pools (PUT /_emulator/messaging-services/{MG}/senders), in the order given.
CREATE TABLE messaging_service_senders (
  service_sid TEXT NOT NULL,
  position INTEGER NOT NULL,
  sender TEXT NOT NULL,
  PRIMARY KEY (service_sid, position)
);
`,
  7: `
-- Phone numbers' incoming-message webhooks (PUT /_emulator/numbers/{address}): configuration, kept by reset.
CREATE TABLE number_webhooks (
  address TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL,
  sms_url TEXT NOT NULL,
  sms_method TEXT NOT NULL
);
`,
  8: `
-- Phone numbers: the account's own (IncomingPhoneNumbers, sid PN…) and every number's incoming-message webhook
-- (PUT /_emulator/numbers/{address}), one row per address, so both views show the same SmsUrl. A row with a null
-- sid is a webhook only (an address the account does not own); a null sms_url is an owned number without one.
-- Configuration, kept by reset.
CREATE TABLE phone_numbers (
  seq INTEGER PRIMARY KEY,
  address TEXT NOT NULL UNIQUE,
  sid TEXT UNIQUE,
  account_sid TEXT NOT NULL,
  friendly_name TEXT,
  sms_url TEXT,
  sms_method TEXT NOT NULL,
  sms_fallback_url TEXT,
  sms_fallback_method TEXT NOT NULL,
  status_callback TEXT,
  status_callback_method TEXT NOT NULL,
  date_created INTEGER NOT NULL,
  date_updated INTEGER NOT NULL
);
INSERT INTO phone_numbers (address, account_sid, sms_url, sms_method, sms_fallback_method, status_callback_method, date_created, date_updated)
  SELECT address, account_sid, sms_url, sms_method, 'POST', 'POST', 0, 0 FROM number_webhooks;
DROP TABLE number_webhooks;
`,
};

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
 * Indexes hold no data, so they are not migrations: every start ensures the declared set (IF NOT EXISTS) and
 * drops the ones no longer declared (`dropUndeclaredIndexes`), so a database written by an older tce follows.
 */
export function indexSql(d: ResourceDescriptor): string {
  // Lists walk a scope in seq order. The direct parent implies every ancestor and the account, so one index on
  // (direct parent, seq) serves lists, cascades and per-parent checks; top-level resources use (account, seq).
  // Each index costs a page write per insert, so there is no other generic one.
  const direct = d.parents[d.parents.length - 1]?.column ?? 'account_sid';
  const stmts = [`CREATE INDEX IF NOT EXISTS ${d.table}_${direct}_seq ON ${d.table} (${direct}, seq);`];
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
  const versions = [
    ...new Set([1, ...Object.keys(LATER_FIXED_TABLES).map(Number), ...descriptors.flatMap((d) => [d.since ?? 1, ...d.columns.map((c) => c.since ?? 1)])]),
  ].sort((a, b) => a - b);
  return versions.map((version) => ({
    version,
    sql:
      (version === 1 ? FIXED_TABLES : (LATER_FIXED_TABLES[version] ?? '')) +
      descriptors
        .filter((d) => (d.since ?? 1) === version)
        .map(resourceTableSql)
        .join('\n') +
      descriptors
        .flatMap((d) => d.columns.filter((c) => c.since === version && c.since !== (d.since ?? 1)).map((c) => `\nALTER TABLE ${d.table} ADD COLUMN ${c.name} ${sqlType(c.type)};`))
        .join(''),
  }));
}

/** DROP statements for indexes on these tables that `sql` (the declared set) does not create. */
export function undeclaredIndexes(existing: { name: string; tbl_name: string }[], tables: string[], declaredSql: string): string {
  const declared = new Set([...declaredSql.matchAll(/CREATE (?:UNIQUE )?INDEX IF NOT EXISTS (\w+)/g)].map((m) => m[1]));
  return existing
    .filter((i) => tables.includes(i.tbl_name) && !i.name.startsWith('sqlite_autoindex') && !declared.has(i.name))
    .map((i) => `DROP INDEX ${i.name};`)
    .join('\n');
}
