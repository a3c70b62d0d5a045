/** Row ↔ object mapping shared by the SQLite and PostgreSQL event stores (column names are the same in both). */
import type { EventParams, EventSource, LoggedEvent } from '../events.js';
import type { AppliedRecord, EntityDoc, EntityRef, SharedDocs } from './types.js';

/** pg answers BIGINT as a string and json as an object; SQLite answers numbers and text. */
type Cell = string | number | bigint | null | Record<string, unknown>;

export interface EventRow {
  id: Cell;
  source: Cell;
  event_type: Cell;
  dedupe_key: Cell;
  partition_key: Cell;
  params: Cell;
  received_at: Cell;
  signature: Cell;
  correlation_id: Cell;
}

export const EVENT_COLUMNS = 'id, source, event_type, dedupe_key, partition_key, params, received_at, signature, correlation_id';

export function toLoggedEvent(row: EventRow): LoggedEvent {
  return {
    id: Number(row.id),
    source: String(row.source) as EventSource,
    eventType: String(row.event_type),
    dedupeKey: String(row.dedupe_key),
    partitionKey: String(row.partition_key),
    params: (typeof row.params === 'string' ? JSON.parse(row.params) : row.params) as EventParams,
    receivedAt: Number(row.received_at),
    signature: row.signature === 'valid' ? 'valid' : 'unchecked',
    correlationId: String(row.correlation_id),
  };
}

export interface DocRow {
  kind: Cell;
  id: Cell;
  conversation_sid: Cell;
  doc: Cell;
}

export function toEntityDoc(row: DocRow): EntityDoc {
  const entity: EntityDoc = {
    kind: String(row.kind),
    id: String(row.id),
    conversationSid: row.conversation_sid === null ? null : String(row.conversation_sid),
    doc: (typeof row.doc === 'string' ? JSON.parse(row.doc) : row.doc) as Record<string, unknown>,
  };
  // SQLite's text is the doc's JSON.stringify as written (PostgreSQL's jsonb comes back parsed, its keys reordered)
  if (typeof row.doc === 'string') rememberText(entity, row.doc);
  return entity;
}

const TEXT = Symbol('the doc as JSON text');

function rememberText(entity: EntityDoc, text: string): void {
  // not enumerable: a spread copy ({ ...entity, doc: other }) must not carry the old doc's text
  Object.defineProperty(entity, TEXT, { value: text, enumerable: false });
}

/**
 * The doc as JSON text, worked out once per EntityDoc: a doc is never changed once built (the fold makes new ones),
 * and the worker compares each doc with the one before it (sameDoc) and then writes it, so one serialisation serves
 * the comparison with the next event's version as well as the store.
 */
export function docText(entity: EntityDoc): string {
  const known = (entity as EntityDoc & { [TEXT]?: string })[TEXT];
  if (known !== undefined) return known;
  const text = JSON.stringify(entity.doc);
  rememberText(entity, text);
  return text;
}

/** the column findConversation searches: a conversation doc's `uniqueName`, when it is a string */
export function uniqueNameOf(doc: EntityDoc): string | null {
  const name = doc.doc.uniqueName;
  return typeof name === 'string' && name !== '' ? name : null;
}

export function toAppliedRecord(row: { id: Cell; partition_key: Cell; apply_count: Cell; applied_seq: Cell }): AppliedRecord {
  return {
    id: Number(row.id),
    partitionKey: String(row.partition_key),
    applyCount: Number(row.apply_count),
    appliedSeq: Number(row.applied_seq),
  };
}

/** Bad input gets a clear error before anything is written. */
export function checkTtl(ttlSeconds: number, what: string): void {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`${what} must be a positive number of seconds, got ${ttlSeconds}`);
}

/** a doc's (kind, id) as one map key */
export function refKey(ref: EntityRef): string {
  return `${ref.kind}\u0000${ref.id}`;
}

/** One upsert cannot touch a row twice: the last doc of each (kind, id) wins, as it would applied one by one. */
export function lastOfEach(docs: EntityDoc[]): EntityDoc[] {
  const byKey = new Map<string, EntityDoc>();
  for (const d of docs) byKey.set(refKey(d), d);
  return [...byKey.values()];
}

/**
 * Two versions of a doc are the same. Docs are canonical (fold.ts writes them so, and JSON text keeps key order
 * through both stores), so their plain serialisations compare; a doc that is not would only count as changed.
 */
export const sameDoc = (a: EntityDoc, b: EntityDoc): boolean => a.conversationSid === b.conversationSid && docText(a) === docText(b);

/** What complete() writes for a shared doc: `doc` joined with the row stored now (none, or the same: `doc` as is). */
export function mergeWith(stored: EntityDoc | undefined, doc: EntityDoc, shared: SharedDocs): EntityDoc {
  if (stored === undefined || sameDoc(stored, doc)) return doc;
  return shared.merge(stored, doc);
}
