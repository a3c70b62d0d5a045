/**
 * The generic resource engine: create / fetch / update / delete / list for any descriptor, with Twilio's
 * semantics (scoping by account and parents, alternate keys, cascade on delete, keyset pages). Every write runs
 * in one SQLite transaction together with its hooks and events, so a refused write leaves nothing behind.
 */
import type { Database, Row, SqlValue } from '../store/database.js';
import { anchorSeq, formatPageToken, parsePageToken, readPage, type PageToken } from '../store/paging.js';
import { isoSeconds, parseDateTime } from '../wire/dates.js';
import { invalidParameter, twilioError, type ErrorName } from '../wire/errors.js';
import { newSid } from '../wire/sid.js';
import { jsonTooDeep, jsonTooDeepError } from '../wire/json-depth.js';
import { changeEvent, type OperationContext } from './context.js';
import type { ColumnDef, Input, ResourceDescriptor } from './descriptor.js';

export interface ListPage {
  rows: Row[];
  nextToken?: string;
  previousToken?: string;
}

/** Human label for messages: `ConversationParticipant` → `Participant`. */
export function label(d: ResourceDescriptor): string {
  return d.name.replace(/^Conversation(?=[A-Z])/, '');
}

function scopeWhere(ctx: OperationContext, d: ResourceDescriptor): { where: string[]; args: SqlValue[] } {
  const where = ['account_sid = ?'];
  const args: SqlValue[] = [ctx.account.sid];
  for (const p of d.parents) {
    const parent = ctx.parents[p.resource];
    if (!parent) throw new Error(`${d.name}: parent ${p.resource} not resolved`);
    where.push(`${p.column} = ?`);
    args.push(parent.sid as string);
  }
  return { where, args };
}

/** Columns whose over-long values have a code of their own in Twilio's dictionary (others answer 20001). */
const LENGTH_ERRORS: Record<string, ErrorName> = { friendly_name: 'FriendlyNameTooLong', unique_name: 'UniqueNameTooLong' };

/** Validate one param value against its column and return what to store. */
export function columnValue(d: ResourceDescriptor, c: ColumnDef, value: Input[string]): SqlValue {
  if (value === undefined) return null;
  if (c.type === 'integer') {
    if (typeof value === 'number') return value;
    if (typeof value === 'boolean') return value ? 1 : 0;
    const n = Number(value);
    if (!Number.isInteger(n)) throw invalidParameter(`Invalid ${c.param}: ${String(value)} is not an integer`);
    return n;
  }
  const text = Array.isArray(value) ? JSON.stringify(value) : String(value);
  if (c.maxLength !== undefined && text.length > c.maxLength) {
    const own = LENGTH_ERRORS[c.name];
    if (own) throw twilioError(own, { resource: label(d), length: text.length, limit: c.maxLength });
    throw invalidParameter(`${c.param} is too long: ${text.length} characters, the limit is ${c.maxLength}`);
  }
  if (c.json) {
    const bytes = Buffer.byteLength(text);
    if (bytes > c.json.maxBytes) {
      throw twilioError('AttributesTooLong', { resource: label(d), length: bytes, limit: c.json.maxBytes });
    }
    try {
      JSON.parse(text);
    } catch {
      throw twilioError('AttributesNotJson', { resource: label(d) });
    }
    if (jsonTooDeep(text)) throw jsonTooDeepError(`${label(d)} ${c.param}`);
  }
  return text;
}

function dateParam(input: Input, name: 'DateCreated' | 'DateUpdated'): number | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  const ms = parseDateTime(String(value));
  if (ms === undefined) throw invalidParameter(`Invalid ${name}: ${String(value)} is not an ISO 8601 date-time`);
  return ms;
}

export function notFound(ctx: OperationContext): never {
  throw twilioError('NotFound', { path: ctx.requestPath.replace(/^\/v1/, '') });
}

export function find(ctx: OperationContext, d: ResourceDescriptor, key: string): Row | undefined {
  d.hooks?.beforeRead?.(ctx);
  const { where, args } = scopeWhere(ctx, d);
  const clause = where.join(' AND ');
  if (key.length === 34 && key.startsWith(d.prefix)) {
    const row = ctx.db.get(`SELECT * FROM ${d.table} WHERE sid = ? AND ${clause}`, key, ...args);
    if (row) return row;
  }
  for (const column of d.alternateKeys ?? []) {
    const row = ctx.db.get(`SELECT * FROM ${d.table} WHERE ${column} = ? AND ${clause} LIMIT 1`, key, ...args);
    if (row) return row;
  }
  return undefined;
}

export function fetch(ctx: OperationContext, d: ResourceDescriptor, key: string): Row {
  return find(ctx, d, key) ?? notFound(ctx);
}

/** The single row of a singleton resource in this scope, created with its initial values on first use. */
export function singleton(ctx: OperationContext, d: ResourceDescriptor): Row {
  const { where, args } = scopeWhere(ctx, d);
  const row = ctx.db.get(`SELECT * FROM ${d.table} WHERE ${where.join(' AND ')} LIMIT 1`, ...args);
  if (row) return row;
  return ctx.db.transaction(() => {
    const now = ctx.clock.now();
    const values: Row = { sid: newSid(d.prefix, ctx.random), account_sid: ctx.account.sid };
    for (const p of d.parents) values[p.column] = ctx.parents[p.resource].sid;
    for (const c of d.columns) values[c.name] = c.initial ?? null;
    values.date_created = now;
    values.date_updated = now;
    d.hooks?.beforeCreate?.(ctx, values, {});
    return insertRow(ctx.db, d, values);
  });
}

export function reload(ctx: OperationContext, d: ResourceDescriptor, row: Row): Row {
  return ctx.db.get(`SELECT * FROM ${d.table} WHERE seq = ?`, row.seq) as Row;
}

/** Positional parameters: binding by name costs a hash look-up per column on every write (the hot path). */
export function insertRow(db: Database, d: ResourceDescriptor, values: Row): Row {
  const names = Object.keys(values);
  const sql = `INSERT INTO ${d.table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`;
  const result = db.prepare(sql).run(...names.map((n) => values[n]));
  return { seq: Number(result.lastInsertRowid), ...values };
}

export function updateRow(db: Database, d: ResourceDescriptor, row: Row, changes: Row): Row {
  const names = Object.keys(changes);
  if (names.length === 0) return row;
  const sql = `UPDATE ${d.table} SET ${names.map((n) => `${n} = ?`).join(', ')} WHERE seq = ?`;
  db.prepare(sql).run(...names.map((n) => changes[n]), row.seq);
  return { ...row, ...changes };
}

export function create(ctx: OperationContext, d: ResourceDescriptor, input: Input, overrides: Row = {}): Row {
  const now = ctx.clock.now();
  const values: Row = { sid: newSid(d.prefix, ctx.random), account_sid: ctx.account.sid };
  for (const p of d.parents) values[p.column] = ctx.parents[p.resource].sid;
  for (const c of d.columns) {
    const given = c.param !== undefined && c.create !== false ? input[c.param] : undefined;
    values[c.name] = given === undefined ? (c.initial ?? null) : columnValue(d, c, given);
  }
  const created = dateParam(input, 'DateCreated') ?? now;
  values.date_created = created;
  values.date_updated = dateParam(input, 'DateUpdated') ?? created;
  Object.assign(values, overrides);
  return ctx.db.transaction(() => {
    d.hooks?.beforeCreate?.(ctx, values, input);
    const row = insertRow(ctx.db, d, values);
    d.hooks?.afterCreate?.(ctx, row, input);
    ctx.events.emit(changeEvent(ctx, 'created', d.name, row));
    return row;
  });
}

export function update(ctx: OperationContext, d: ResourceDescriptor, current: Row, input: Input): Row {
  const changes: Row = {};
  for (const c of d.columns) {
    if (c.param === undefined || c.update === false) continue;
    const given = input[c.param];
    if (given !== undefined) changes[c.name] = columnValue(d, c, given);
  }
  const created = dateParam(input, 'DateCreated');
  if (created !== undefined) changes.date_created = created;
  changes.date_updated = dateParam(input, 'DateUpdated') ?? ctx.clock.now();
  return ctx.db.transaction(() => {
    d.hooks?.beforeUpdate?.(ctx, current, changes, input);
    const row = updateRow(ctx.db, d, current, changes);
    d.hooks?.afterUpdate?.(ctx, row, current, input);
    ctx.events.emit(changeEvent(ctx, 'updated', d.name, row, current));
    return row;
  });
}

/** Delete a row and everything below it (every descendant table carries the ancestor's SID column). */
export function remove(ctx: OperationContext, d: ResourceDescriptor, row: Row): void {
  ctx.db.transaction(() => {
    d.hooks?.beforeDelete?.(ctx, row);
    for (const child of ctx.descendants(d.name)) ctx.db.run(`DELETE FROM ${child.table} WHERE ${child.column} = ?`, row.sid);
    ctx.db.run(`DELETE FROM ${d.table} WHERE seq = ?`, row.seq);
    ctx.db.run('INSERT OR REPLACE INTO page_anchors (sid, seq) VALUES (?, ?)', row.sid, row.seq);
    d.hooks?.afterDelete?.(ctx, row);
    ctx.events.emit(changeEvent(ctx, 'deleted', d.name, row));
  });
}

/** A page token's position; it must name a row (present or deleted) of the resource being listed. */
export function resolveToken(
  ctx: OperationContext,
  d: Pick<ResourceDescriptor, 'table' | 'prefix'>,
  raw: string | undefined,
): { token?: PageToken; seq?: number } {
  if (raw === undefined || raw === '') return {};
  const token = parsePageToken(raw);
  const seq = token && token.sid.startsWith(d.prefix) ? anchorSeq(ctx.db, d.table, token.sid) : undefined;
  if (!token || seq === undefined) throw twilioError('InvalidPageToken', { value: raw });
  return { token, seq };
}

interface PageShape {
  /** columns read from the table */
  read: string[];
  /** the account's and parents' SID columns: equal to the WHERE clause's values in every row */
  scope: string[];
}

const pageShapes = new WeakMap<ResourceDescriptor, WeakMap<readonly string[], PageShape>>();

/**
 * What a list page reads when only `fields` of the wire go out: the SID and dates every row has, the columns of
 * those fields and the ones `represent` reads (every column when it does not say). The scope's columns are
 * filled in, not read: each value read has a cost (see `Database.allColumns`).
 */
function pageShape(d: ResourceDescriptor, fields: readonly string[]): PageShape {
  let byFields = pageShapes.get(d);
  if (!byFields) pageShapes.set(d, (byFields = new WeakMap()));
  let shape = byFields.get(fields);
  if (!shape) {
    const scope = ['account_sid', ...d.parents.map((p) => p.column)];
    const stored = ['seq', 'sid', ...d.columns.map((c) => c.name), 'date_created', 'date_updated'];
    const unknown = (d.representReads ?? []).filter((c) => !stored.includes(c) && !scope.includes(c));
    if (unknown.length) throw new Error(`${d.name}: representReads names no column: ${unknown.join(', ')}`);
    const needed = new Set(['sid', 'date_created', 'date_updated', ...(d.representReads ?? [])]);
    if (d.represent && !d.representReads) stored.forEach((c) => needed.add(c));
    for (const key of fields) {
      const field = storedField(d, key);
      if (field?.kind === 'column' || field?.kind === 'date') needed.add(field.column);
    }
    shape = { read: stored.filter((c) => needed.has(c)), scope };
    byFields.set(fields, shape);
  }
  return shape;
}

/**
 * A page of rows in this scope. With `fields` (the wire properties the caller writes), rows hold only what
 * those need (see `pageShape`), not every column.
 */
export function list(ctx: OperationContext, d: ResourceDescriptor, input: Input, pageSize: number, fields?: readonly string[]): ListPage {
  d.hooks?.beforeRead?.(ctx);
  const scope = scopeWhere(ctx, d);
  const shape = fields ? pageShape(d, fields) : undefined;
  const columns = shape ? { read: shape.read, fixed: { names: shape.scope, values: [...scope.args] } } : undefined;
  // The direct parent was resolved within the account and its own parents, so its SID alone selects the rows (on
  // the (parent, seq) index every descriptor has); the outer equalities would only be checked again on every row.
  const direct = scope.where.length - 1;
  const where = direct > 0 ? [scope.where[direct]] : scope.where;
  const args = direct > 0 ? [scope.args[direct]] : scope.args;
  const filter = d.hooks?.listFilter?.(ctx, input);
  if (filter) {
    where.push(...filter.where);
    args.push(...filter.args);
  }
  const { token, seq } = resolveToken(ctx, d, input.PageToken as string | undefined);
  const page = readPage(
    ctx.db,
    {
      from: d.table,
      seqColumn: 'seq',
      anchorTable: d.table,
      columns,
      where,
      args,
      order: filter?.order ?? d.order ?? 'asc',
      pageSize,
      token,
      page: input.Page as number | undefined,
    },
    seq,
  );
  return pageTokens(page);
}

export function pageTokens(page: { rows: Row[]; hasNext: boolean; hasPrevious: boolean }, sidColumn = 'sid'): ListPage {
  const first = page.rows[0];
  const last = page.rows[page.rows.length - 1];
  return {
    rows: page.rows,
    nextToken: page.hasNext && last ? formatPageToken('after', last[sidColumn] as string) : undefined,
    previousToken: page.hasPrevious && first ? formatPageToken('before', first[sidColumn] as string) : undefined,
  };
}

type Representer = (ctx: OperationContext, row: Row) => Record<string, unknown>;

/** Where a stored wire field's value comes from. */
export type StoredField =
  /** a column of the row; `scope` marks the account's and parents' SIDs, the same for every row of a list */
  | { kind: 'column' | 'scope'; column: string }
  /** `YYYY-MM-DDTHH:MM:SSZ` of a millisecond column (`nullable`: null stays null) */
  | { kind: 'date'; column: string; nullable: boolean }
  | { kind: 'url' }
  /** `{key: <url>/<path>}` */
  | { kind: 'links'; paths: [string, string][] };

/**
 * The wire fields every row of `d` has before its `represent` hook runs, in the order the representer writes
 * them (for a key named twice, the later source wins). The one definition of the stored part of the wire
 * format: the representer below and list pages written straight to text (list-writer.ts) are both built from it.
 */
export function storedFields(d: ResourceDescriptor): [string, StoredField][] {
  const fields: [string, StoredField][] = [
    ['account_sid', { kind: 'scope', column: 'account_sid' }],
    ['sid', { kind: 'column', column: 'sid' }],
    ['date_created', { kind: 'date', column: 'date_created', nullable: false }],
    ['date_updated', { kind: 'date', column: 'date_updated', nullable: true }],
    ['url', { kind: 'url' }],
  ];
  for (const p of d.parents) fields.push([p.column, { kind: 'scope', column: p.column }]);
  for (const c of d.columns) fields.push([c.name, { kind: 'column', column: c.name }]);
  if (d.links) fields.push(['links', { kind: 'links', paths: Object.entries(d.links) }]);
  return fields;
}

/** The source of one wire field as the representer resolves it (the last definition), if it is stored. */
export function storedField(d: ResourceDescriptor, key: string): StoredField | undefined {
  let found: StoredField | undefined;
  for (const [name, field] of storedFields(d)) if (name === key) found = field;
  return found;
}

/**
 * One compiled object literal per descriptor: the wire object gets its fixed shape in one allocation instead of
 * ~20 keyed stores that V8 sees as megamorphic across descriptors.
 * Same keys, same order and same values as the generic loop below, which stays for unusual column names.
 */
const representers = new WeakMap<ResourceDescriptor, Representer>();

function representer(d: ResourceDescriptor): Representer {
  let fn = representers.get(d);
  if (fn) return fn;
  const fields = storedFields(d);
  const linkNames = d.links ? Object.keys(d.links) : [];
  if ([...fields.map(([name]) => name), ...linkNames].some((n) => n === '__proto__')) {
    fn = (ctx, row) => genericRepresent(ctx, d, row);
  } else {
    const q = JSON.stringify;
    const value = (field: StoredField): string => {
      switch (field.kind) {
        case 'column':
        case 'scope':
          return `row[${q(field.column)}]`;
        case 'date':
          return field.nullable
            ? `row[${q(field.column)}] === null ? null : isoSeconds(row[${q(field.column)}])`
            : `isoSeconds(row[${q(field.column)}])`;
        case 'url':
          return 'url';
        case 'links':
          return `{${field.paths.map(([key, path]) => `${q(key)}: url + ${q('/' + path)}`).join(', ')}}`;
      }
    };
    const body = `const url = ctx.urlOf(name, row);\nreturn {${fields.map(([name, field]) => `${q(name)}: ${value(field)}`).join(', ')}};`;
    const make = new Function('isoSeconds', 'name', `return function represent(ctx, row) {\n${body}\n};`);
    fn = make(isoSeconds, d.name) as Representer;
  }
  representers.set(d, fn);
  return fn;
}

function genericRepresent(ctx: OperationContext, d: ResourceDescriptor, row: Row): Record<string, unknown> {
  const url = ctx.urlOf(d.name, row);
  const wire: Record<string, unknown> = {
    account_sid: row.account_sid,
    sid: row.sid,
    date_created: isoSeconds(row.date_created as number),
    date_updated: row.date_updated === null ? null : isoSeconds(row.date_updated as number),
    url,
  };
  for (const p of d.parents) wire[p.column] = row[p.column];
  for (const c of d.columns) wire[c.name] = row[c.name];
  if (d.links) {
    const links: Record<string, string> = {};
    for (const [key, path] of Object.entries(d.links)) links[key] = `${url}/${path}`;
    wire.links = links;
  }
  return wire;
}

/** Row → wire object (a superset of the spec's properties; the HTTP layer keeps only those). */
export function represent(ctx: OperationContext, d: ResourceDescriptor, row: Row): Record<string, unknown> {
  const wire = representer(d)(ctx, row);
  d.represent?.(row, ctx, wire);
  return wire;
}
