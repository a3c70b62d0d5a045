/**
 * The router's storage, behind two interfaces:
 * - EventStore: the event log, the work queue (partitions leased to workers) and the derived state (entity docs).
 *   SQLite (default) and PostgreSQL.
 * - KeyValueStore: small keyed facts with an optional expiry: the suppression list, the WhatsApp window, one-shot
 *   guards (fallback once), the shared Twilio backoff, and a fast duplicate check. SQLite, PostgreSQL and Redis.
 * One contract suite (test/router-store.test.ts) runs against every implementation.
 */
import type { IncomingEvent, LoggedEvent } from '../events.js';

export type AcceptResult = { status: 'accepted'; id: number } | { status: 'duplicate' };

/** One entity of derived state: a JSON document keyed by (kind, id). Docs are written only by the worker and replay. */
export interface EntityDoc {
  kind: string;
  id: string;
  /** the conversation it belongs to, when any (the state API reads a conversation's entities by it) */
  conversationSid: string | null;
  doc: Record<string, unknown>;
}

/** The kind of a conversation's own doc: findConversation looks these up by id or by `doc.uniqueName`. */
export const CONVERSATION_KIND = 'conversation';

export interface EntityRef {
  kind: string;
  id: string;
}

/**
 * Docs that events of several partitions write, for complete(): each is written as `merge(stored, doc)`, `stored`
 * being the row as it is when the transaction commits (read under its lock), so no concurrent writer's update is lost.
 * The store knows nothing of what a doc holds: `merge` is the caller's.
 */
export interface SharedDocs {
  docs: EntityDoc[];
  /** two versions of one doc joined: commutative, associative and idempotent (`stored` may equal `written`) */
  merge(stored: EntityDoc, written: EntityDoc): EntityDoc;
}

export interface ClaimedPartition {
  partitionKey: string;
  /** its pending events, oldest first (at most the claim's perPartition) */
  events: LoggedEvent[];
}

export interface QueueStats {
  /** events accepted and not yet applied (dead ones excluded) */
  depth: number;
  /** events whose handler gave up (dead-lettered) */
  dead: number;
  /** events applied */
  applied: number;
}

/** What the scale-out and exactly-once tests read: how often, and in which global order, each event was applied. */
export interface AppliedRecord {
  id: number;
  partitionKey: string;
  /** how many times complete() succeeded for it: must be 1 */
  applyCount: number;
  /** a global sequence number taken at completion; increasing with id within a partition when order held */
  appliedSeq: number;
}

export interface EventStore {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Dedupe + append to the log + enqueue, in one transaction. A key seen within `dedupeTtlSeconds` is a duplicate
   * and nothing is written. Throws only when it cannot commit (the caller answers 5xx).
   */
  accept(event: IncomingEvent, dedupeTtlSeconds: number): Promise<AcceptResult>;
  /**
   * Lease up to `maxPartitions` partitions that have pending events, are not leased (or whose lease ran out) and
   * whose `notBefore` has passed, to `workerId` until now + leaseMs; answer each with up to `perPartition` of its
   * pending events, oldest first. Safe across processes (PostgreSQL: FOR UPDATE SKIP LOCKED).
   */
  claim(workerId: string, maxPartitions: number, leaseMs: number, perPartition: number): Promise<ClaimedPartition[]>;
  /**
   * One transaction: upsert `docs` (the last of each (kind, id) wins) and `shared.docs` (each merged with its stored
   * row, see SharedDocs), mark the events applied, in id order (applyCount + 1, appliedSeq from a global sequence).
   * All or nothing: does nothing and answers false when `workerId` no longer holds the partition's lease (another
   * worker took it over) or one of them is not pending. `docs` and `shared.docs` name different docs.
   */
  complete(workerId: string, partitionKey: string, eventIds: readonly number[], docs: EntityDoc[], shared?: SharedDocs): Promise<boolean>;
  /**
   * The handler failed: attempts + 1 and the error kept; `dead: true` takes it out of the queue for good. With `dead`,
   * an event already applied (the worker folds it before it dead-letters the side effect) is counted dead too, and
   * keeps its apply_count.
   */
  recordFailure(workerId: string, partitionKey: string, eventId: number, error: string, dead: boolean): Promise<void>;
  /** Give the partition back; with `notBefore` (epoch ms) no worker claims it before then (backoff, in order). */
  release(workerId: string, partitionKey: string, notBefore?: number): Promise<void>;
  /** Extend the lease while a slow handler runs. False when it was lost. */
  renew(workerId: string, partitionKey: string, leaseMs: number): Promise<boolean>;

  entities(refs: EntityRef[]): Promise<EntityDoc[]>;
  conversationEntities(conversationSid: string): Promise<EntityDoc[]>;
  entitiesOfKind(kind: string): Promise<EntityDoc[]>;
  /** the ConversationSid for a SID or a UniqueName, from the conversation docs (`doc.uniqueName`) */
  findConversation(sidOrUniqueName: string): Promise<string | undefined>;
  /** every entity doc (replay compares; the log may be large, but derived state is what the router serves) */
  allEntities(): Promise<EntityDoc[]>;
  /** replay: delete every doc and write these, in one transaction */
  replaceEntities(docs: EntityDoc[]): Promise<void>;

  /** the log, oldest first, from after `afterId` */
  readLog(afterId: number, limit: number): Promise<LoggedEvent[]>;
  applied(): Promise<AppliedRecord[]>;
  stats(): Promise<QueueStats>;
  /** drop dedupe keys older than their window; answer how many went */
  purgeExpired(now: number): Promise<number>;
  ping(): Promise<void>;
  /** what an operator should fix in the database's setup (the router logs each at startup); none when all is well */
  setupWarnings(): Promise<string[]>;
  close(): Promise<void>;
}

export interface KeyValueStore {
  readonly kind: 'sqlite' | 'postgres' | 'redis';
  get(key: string): Promise<string | undefined>;
  /** set, replacing; ttlSeconds: expiry (none when omitted) */
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** set only when absent (Redis: SET NX EX); true when this call set it */
  setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean>;
  del(key: string): Promise<void>;
  /** live keys starting with `prefix`, at most `limit`, in key order */
  list(prefix: string, limit: number): Promise<Array<{ key: string; value: string }>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
