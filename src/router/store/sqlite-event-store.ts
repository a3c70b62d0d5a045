/**
 * The EventStore on SQLite (the default): the log, the queue and the derived docs in one database. better-sqlite3
 * is synchronous, so each write is one short transaction; the writes of one event-loop turn are grouped into one
 * outer IMMEDIATE transaction (sqlite-group-commit.ts: each write a savepoint of it, answered after its COMMIT).
 * IMMEDIATE takes the write lock up front, which also keeps claims safe if a second process opens the same file.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { IncomingEvent, LoggedEvent } from '../events.js';
import {
  checkTtl,
  docText,
  EVENT_COLUMNS,
  lastOfEach,
  mergeWith,
  toAppliedRecord,
  toEntityDoc,
  toLoggedEvent,
  uniqueNameOf,
  type DocRow,
  type EventRow,
} from './event-rows.js';
import type { CommitSignal } from './sqlite-commit-signal.js';
import { openSqliteDatabase, type SqliteDatabase } from './sqlite-database.js';
import { SqliteGroupCommit } from './sqlite-group-commit.js';
import {
  CONVERSATION_KIND,
  type AcceptResult,
  type AppliedRecord,
  type ClaimedPartition,
  type EntityDoc,
  type EntityRef,
  type EventStore,
  type QueueStats,
  type SharedDocs,
} from './types.js';

export interface SqliteEventStoreOptions {
  /** the clock (epoch ms); tests move it to expire leases and dedupe windows */
  now?: () => number;
  /** close the database with the store (false when another store shares it) */
  ownsDatabase?: boolean;
  /** most writes committed together (1: a transaction per write) */
  maxBatch?: number;
  /** shared with the other threads writing the same file (sqlite-commit-signal.ts) */
  commitSignal?: CommitSignal;
}

export class SqliteEventStore implements EventStore {
  readonly kind = 'sqlite' as const;
  private readonly now: () => number;
  private readonly ownsDatabase: boolean;
  private closed = false;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly acceptTx: (event: IncomingEvent, now: number, ttlMs: number) => AcceptResult;
  private readonly claimTx: BetterSqlite3.Transaction<(workerId: string, maxPartitions: number, leaseMs: number, now: number) => string[]>;
  private readonly completeTx: BetterSqlite3.Transaction<
    (workerId: string, partitionKey: string, eventIds: readonly number[], docs: EntityDoc[], shared: SharedDocs | undefined) => boolean
  >;
  private readonly failureTx: BetterSqlite3.Transaction<
    (workerId: string, partitionKey: string, eventId: number, error: string, dead: boolean) => void
  >;
  private readonly replaceTx: BetterSqlite3.Transaction<(docs: EntityDoc[]) => void>;
  private readonly releaseTx: BetterSqlite3.Transaction<(workerId: string, partitionKey: string, notBefore: number | null) => void>;
  private readonly renewTx: BetterSqlite3.Transaction<(workerId: string, partitionKey: string, until: number) => boolean>;
  private readonly group: SqliteGroupCommit;

  /** Opens (creating) a file or `:memory:`. */
  static open(file: string, options: Omit<SqliteEventStoreOptions, 'ownsDatabase'> = {}): SqliteEventStore {
    return new SqliteEventStore(openSqliteDatabase(file), { ...options, ownsDatabase: true });
  }

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteEventStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.ownsDatabase = options.ownsDatabase ?? false;
    this.group = new SqliteGroupCommit(db, { maxBatch: options.maxBatch, commitSignal: options.commitSignal });
    this.acceptTx = this.makeAccept();
    this.claimTx = this.db.transaction(this.claimIn.bind(this));
    this.completeTx = this.db.transaction(this.completeIn.bind(this));
    this.failureTx = this.db.transaction(this.failureIn.bind(this));
    this.replaceTx = this.db.transaction((docs: EntityDoc[]) => {
      this.sql('DELETE FROM router_docs').run();
      this.writeDocs(docs);
    });
    this.releaseTx = this.db.transaction((workerId: string, partitionKey: string, notBefore: number | null) => {
      this.sql(
        `UPDATE router_partitions SET lease_owner = NULL, lease_until = NULL, not_before = ?
         WHERE partition_key = ? AND lease_owner = ?`,
      ).run(notBefore, partitionKey, workerId);
    });
    this.renewTx = this.db.transaction(
      (workerId: string, partitionKey: string, until: number) =>
        this.sql(`UPDATE router_partitions SET lease_until = ? WHERE partition_key = ? AND lease_owner = ?`)
          .run(until, partitionKey, workerId).changes > 0,
    );
  }

  /** prepared once per SQL text */
  private sql(text: string): BetterSqlite3.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private makeAccept(): (event: IncomingEvent, now: number, ttlMs: number) => AcceptResult {
    const claimKey = this.sql(
      `INSERT INTO router_dedupe (key, expires_at) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE router_dedupe.expires_at <= ?`,
    );
    const append = this.sql(
      `INSERT INTO router_events (source, event_type, dedupe_key, partition_key, params, received_at, signature, correlation_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const enqueue = this.sql(
      `INSERT INTO router_partitions (partition_key, pending) VALUES (?, 1)
       ON CONFLICT (partition_key) DO UPDATE SET pending = pending + 1`,
    );
    const tx = this.db.transaction((event: IncomingEvent, now: number, ttlMs: number): AcceptResult => {
      // an existing key whose window has not run out: the upsert changes no row
      if (claimKey.run(event.dedupeKey, now + ttlMs, now).changes === 0) return { status: 'duplicate' };
      const id = append.run(
        event.source,
        event.eventType,
        event.dedupeKey,
        event.partitionKey,
        JSON.stringify(event.params),
        event.receivedAt,
        event.signature,
        event.correlationId,
      ).lastInsertRowid;
      enqueue.run(event.partitionKey);
      return { status: 'accepted', id: Number(id) };
    });
    return (event, now, ttlMs) => tx(event, now, ttlMs);
  }

  async accept(event: IncomingEvent, dedupeTtlSeconds: number): Promise<AcceptResult> {
    checkTtl(dedupeTtlSeconds, 'the dedupe window');
    const now = this.now();
    const ttlMs = Math.round(dedupeTtlSeconds * 1000);
    return this.group.run(() => this.acceptTx(event, now, ttlMs));
  }

  /** the leases only: the write lock is the ingress's too, so the events are read after it (claim) */
  private claimIn(workerId: string, maxPartitions: number, leaseMs: number, now: number): string[] {
    const keys = this.sql(
      `SELECT partition_key FROM router_partitions
       WHERE pending > 0 AND (lease_until IS NULL OR lease_until <= ?) AND (not_before IS NULL OR not_before <= ?)
       ORDER BY last_claimed, partition_key LIMIT ?`,
    ).pluck().all(now, now, maxPartitions) as string[];
    const lease = this.sql(
      `UPDATE router_partitions SET lease_owner = ?, lease_until = ?, not_before = NULL, last_claimed = ? WHERE partition_key = ?`,
    );
    for (const partitionKey of keys) lease.run(workerId, now + leaseMs, now, partitionKey);
    return keys;
  }

  async claim(workerId: string, maxPartitions: number, leaseMs: number, perPartition: number): Promise<ClaimedPartition[]> {
    return this.pendingEvents(await this.lease(workerId, maxPartitions, leaseMs), perPartition);
  }

  /** claim's write: the partitions leased to `workerId` */
  private async lease(workerId: string, maxPartitions: number, leaseMs: number): Promise<string[]> {
    const now = this.now();
    return this.group.run(() => this.claimTx(workerId, maxPartitions, leaseMs, now));
  }

  /**
   * claim's read, once the leases are committed: while this worker holds them only it marks their events, and the
   * events accepted since are later ones of the same partitions (read or not, the order holds)
   */
  private pendingEvents(partitionKeys: readonly string[], perPartition: number): ClaimedPartition[] {
    const pending = this.sql(
      `SELECT ${EVENT_COLUMNS} FROM router_events WHERE partition_key = ? AND status = 'pending' ORDER BY id LIMIT ?`,
    );
    return partitionKeys.map((partitionKey) => ({ partitionKey, events: (pending.all(partitionKey, perPartition) as EventRow[]).map(toLoggedEvent) }));
  }

  private holds(workerId: string, partitionKey: string): boolean {
    // only the owner counts: an expired lease nobody took over is still this worker's, and a claim that took it
    // over changed the owner (the write lock orders the two)
    return (
      this.sql(`SELECT 1 FROM router_partitions WHERE partition_key = ? AND lease_owner = ?`)
        .get(partitionKey, workerId) !== undefined
    );
  }

  private completeIn(
    workerId: string,
    partitionKey: string,
    eventIds: readonly number[],
    docs: EntityDoc[],
    shared: SharedDocs | undefined,
  ): boolean {
    if (!this.holds(workerId, partitionKey)) return false;
    // the run's sequence numbers taken at once: the last one is returned, the run holds the ones before it
    const lastSeq = this.sql(`UPDATE router_counters SET value = value + ? WHERE name = 'applied_seq' RETURNING value`)
      .pluck()
      .get(eventIds.length) as number;
    // one statement for the run: the i-th id (ascending) takes the i-th sequence number. The unary + keeps the
    // planner on the ids (a rowid lookup each) rather than scanning the partition's pending index
    const marked = this.sql(
      `UPDATE router_events SET status = 'applied', apply_count = apply_count + 1, applied_seq = ? + run.key
       FROM json_each(?) AS run
       WHERE router_events.id = run.value AND +router_events.partition_key = ? AND +router_events.status = 'pending'`,
    ).run(lastSeq - eventIds.length + 1, JSON.stringify([...eventIds].sort((a, b) => a - b)), partitionKey).changes;
    // one already applied (or dead, or not this partition's, or named twice): rolling back keeps the sequence and the
    // docs untouched
    if (marked !== eventIds.length) throw new NotPending();
    this.sql(`UPDATE router_partitions SET pending = pending - ? WHERE partition_key = ?`).run(eventIds.length, partitionKey);
    this.writeDocs(lastOfEach(docs));
    // read here, under the write lock: nobody can write them between this read and the commit
    if (shared) this.writeDocs(lastOfEach(shared.docs).map((doc) => mergeWith(this.storedDoc(doc), doc, shared)));
    return true;
  }

  private storedDoc(ref: EntityRef): EntityDoc | undefined {
    const row = this.sql(`SELECT kind, id, conversation_sid, doc FROM router_docs WHERE kind = ? AND id = ?`).get(ref.kind, ref.id);
    return row === undefined ? undefined : toEntityDoc(row as DocRow);
  }

  async complete(
    workerId: string,
    partitionKey: string,
    eventIds: readonly number[],
    docs: EntityDoc[],
    shared?: SharedDocs,
  ): Promise<boolean> {
    if (eventIds.length === 0) return true;
    try {
      return await this.group.run(() => this.completeTx(workerId, partitionKey, eventIds, docs, shared));
    } catch (error) {
      if (error instanceof NotPending) return false;
      throw error;
    }
  }

  private writeDocs(docs: EntityDoc[]): void {
    const upsert = this.sql(
      `INSERT INTO router_docs (kind, id, conversation_sid, unique_name, doc) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (kind, id) DO UPDATE SET conversation_sid = excluded.conversation_sid,
         unique_name = excluded.unique_name, doc = excluded.doc`,
    );
    for (const d of docs) {
      upsert.run(d.kind, d.id, d.conversationSid, d.kind === CONVERSATION_KIND ? uniqueNameOf(d) : null, docText(d));
    }
  }

  private failureIn(workerId: string, partitionKey: string, eventId: number, error: string, dead: boolean): void {
    if (!this.holds(workerId, partitionKey)) return;
    // a pending event; or, giving up, one the worker applied before it dead-lettered the side effect (worker.ts)
    const was = this.sql(
      `SELECT status FROM router_events WHERE id = ? AND partition_key = ? AND (status = 'pending' OR (? AND status = 'applied'))`,
    ).pluck().get(eventId, partitionKey, dead ? 1 : 0) as string | undefined;
    if (was === undefined) return;
    this.sql(
      `UPDATE router_events SET attempts = attempts + 1, last_error = ?, status = CASE WHEN ? THEN 'dead' ELSE status END WHERE id = ?`,
    ).run(error, dead ? 1 : 0, eventId);
    if (!dead) return;
    if (was === 'pending') this.sql(`UPDATE router_partitions SET pending = pending - 1 WHERE partition_key = ?`).run(partitionKey);
    this.sql(`UPDATE router_counters SET value = value + 1 WHERE name = 'dead'`).run();
  }

  async recordFailure(workerId: string, partitionKey: string, eventId: number, error: string, dead: boolean): Promise<void> {
    await this.group.run(() => this.failureTx(workerId, partitionKey, eventId, error, dead));
  }

  async release(workerId: string, partitionKey: string, notBefore?: number): Promise<void> {
    await this.group.run(() => this.releaseTx(workerId, partitionKey, notBefore ?? null));
  }

  async renew(workerId: string, partitionKey: string, leaseMs: number): Promise<boolean> {
    const until = this.now() + leaseMs;
    return this.group.run(() => this.renewTx(workerId, partitionKey, until));
  }

  async entities(refs: EntityRef[]): Promise<EntityDoc[]> {
    const found: EntityDoc[] = [];
    for (const ref of refs) {
      const doc = this.storedDoc(ref);
      if (doc) found.push(doc);
    }
    return found;
  }

  async conversationEntities(conversationSid: string): Promise<EntityDoc[]> {
    return this.docs(`WHERE conversation_sid = ?`, conversationSid);
  }

  async entitiesOfKind(kind: string): Promise<EntityDoc[]> {
    return this.docs(`WHERE kind = ?`, kind);
  }

  async allEntities(): Promise<EntityDoc[]> {
    return this.docs('');
  }

  private docs(where: string, ...args: string[]): EntityDoc[] {
    const rows = this.sql(`SELECT kind, id, conversation_sid, doc FROM router_docs ${where} ORDER BY kind, id`).all(...args);
    return (rows as DocRow[]).map(toEntityDoc);
  }

  async findConversation(sidOrUniqueName: string): Promise<string | undefined> {
    // a SID wins over a UniqueName that happens to look like one
    const sid = this.sql(
      `SELECT id FROM router_docs WHERE kind = ? AND (id = ? OR unique_name = ?) ORDER BY id = ? DESC, id LIMIT 1`,
    ).pluck().get(CONVERSATION_KIND, sidOrUniqueName, sidOrUniqueName, sidOrUniqueName) as string | undefined;
    return sid;
  }

  async replaceEntities(docs: EntityDoc[]): Promise<void> {
    this.replaceTx.immediate(docs);
  }

  async readLog(afterId: number, limit: number): Promise<LoggedEvent[]> {
    const rows = this.sql(`SELECT ${EVENT_COLUMNS} FROM router_events WHERE id > ? ORDER BY id LIMIT ?`).all(afterId, limit);
    return (rows as EventRow[]).map(toLoggedEvent);
  }

  async applied(): Promise<AppliedRecord[]> {
    const rows = this.sql(`SELECT id, partition_key, apply_count, applied_seq FROM router_events WHERE apply_count > 0 ORDER BY id`)
      .all();
    return (rows as Parameters<typeof toAppliedRecord>[0][]).map(toAppliedRecord);
  }

  async stats(): Promise<QueueStats> {
    // counters kept by the writes, so /metrics does not scan the log
    const row = this.sql(
      `SELECT (SELECT COALESCE(SUM(pending), 0) FROM router_partitions WHERE pending > 0) AS depth,
              (SELECT value FROM router_counters WHERE name = 'dead') AS dead,
              (SELECT value FROM router_counters WHERE name = 'applied_seq') AS applied`,
    ).get() as { depth: number; dead: number | null; applied: number };
    return { depth: Number(row.depth), dead: Number(row.dead ?? 0), applied: Number(row.applied) };
  }

  async purgeExpired(now: number): Promise<number> {
    return this.sql(`DELETE FROM router_dedupe WHERE expires_at <= ?`).run(now).changes;
  }

  async ping(): Promise<void> {
    this.sql('SELECT 1').get();
  }

  async setupWarnings(): Promise<string[]> {
    // the file's setup is the router's own (WAL, synchronous, checkpoints): nothing for an operator to fix
    return [];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.group.flush({ wait: true });
    if (this.ownsDatabase) this.db.close();
  }
}

/** thrown inside complete's transaction to roll it back */
class NotPending extends Error {}
