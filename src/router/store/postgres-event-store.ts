/**
 * The EventStore on PostgreSQL, for several router processes sharing one database.
 *
 * The queue is two tables: router_events (the log; a row is `pending` until applied or dead) and router_partitions
 * (one row per partition key: a pending count and a lease). A worker claims whole partitions with
 * `FOR UPDATE SKIP LOCKED` and a lease, so one partition is handled by one worker at a time, in id order, while
 * other partitions run in parallel; a crashed worker's partition comes back when its lease runs out.
 *
 * Why not pg-boss or graphile-worker: both hand out *jobs*, not ordered streams. We need strict FIFO per partition
 * (conversation) with many partitions in parallel: pg-boss has no per-key ordering at all, and graphile-worker's
 * named queues serialise a queue with a job-level lock but cannot lease a batch of a partition's events, tie the
 * completion to the lease, and commit it with the derived docs in one transaction. The log is also our source of
 * truth (replay), which a job table that deletes finished jobs is not.
 *
 * accept() batches the events that arrive together into one statement (postgres-accept-batch.ts). complete() and
 * release() are batched too (statement-batcher.ts): the calls of many partitions that arrive within WORKER_LINGER_MS,
 * or while the previous batch runs, go as one statement (COMPLETE_MANY, RELEASE_MANY; one call alone: COMPLETE), one
 * round trip and one implicit transaction, each partition still all or nothing on its own. With a hundred busy
 * conversations a run is a few events, and a statement per complete and per release cost PostgreSQL more than the
 * events: the router took 729 webhooks/s there, against 3,396 with one hot conversation (bench/router.js,
 * ROUTER_BENCH_CONVERSATIONS=100). Only a complete() that writes shared docs (SharedDocs: written by several
 * partitions, so by several workers at once) takes an explicit transaction: lock and read them (LOCK_SHARED), merge
 * in JS, then COMPLETE; four round trips.
 *
 * Only accept() must be durable before it answers (the 200 tells Twilio not to retry). The worker's writes (claim,
 * complete, recordFailure, release, renew) go through `workerPool`, whose connections run with
 * `synchronous_commit = off`: they answer without waiting for a WAL flush. A PostgreSQL crash can lose their last
 * ~0.6 s (3 × wal_writer_delay), never a part of one, and never out of order: the WAL is one sequence, so any later
 * synchronous commit (an accept) flushes them too. What is lost is redone from the queue: an applied mark lost with
 * its docs means the event is pending again and is applied again, once (derived state stays exactly-once); a lost
 * claim or release is a lease that runs out; a lost failure count is one more attempt. Side effects may repeat, as
 * they may after any crash between a side effect and complete() (handlers are idempotent).
 * Times are epoch ms from this process's clock (as in the SQLite store); the routers sharing a database are expected
 * to run NTP-synchronised clocks, and leases are long compared to any skew.
 */
import type pg from 'pg';
import type { IncomingEvent, LoggedEvent } from '../events.js';
import {
  checkTtl,
  docText,
  EVENT_COLUMNS,
  lastOfEach,
  mergeWith,
  refKey,
  toAppliedRecord,
  toEntityDoc,
  toLoggedEvent,
  uniqueNameOf,
  type DocRow,
  type EventRow,
} from './event-rows.js';
import { PostgresAcceptBatcher } from './postgres-accept-batch.js';
import { StatementBatcher } from './statement-batcher.js';
import { openPostgresPool, type PostgresPoolOptions } from './postgres-pool.js';
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

export interface PostgresEventStoreOptions {
  now?: () => number;
  /** end the pools with the store (false when the key-value store shares them) */
  ownsPool?: boolean;
  /** the pool of the worker's writes (see above: `asyncCommit`); default the one pool */
  workerPool?: pg.Pool;
}

/**
 * Every accept, claim, complete and release updates a conversation's row in router_partitions, and each applied event
 * leaves a dead version of its row in router_events: without autovacuum they are never reclaimed (one busy
 * conversation left 44,000 dead versions of its one row in two minutes here).
 */
export const AUTOVACUUM_OFF =
  "PostgreSQL's autovacuum is off (autovacuum or track_counts): the router's queue tables keep every dead row version " +
  'and grow for good. Turn autovacuum on, or VACUUM router_partitions and router_events on a schedule.';

const CLAIM = `
  WITH ready AS (
    SELECT partition_key FROM router_partitions
    WHERE pending > 0 AND (lease_until IS NULL OR lease_until <= $1) AND (not_before IS NULL OR not_before <= $1)
    ORDER BY last_claimed, partition_key
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ), leased AS (
    UPDATE router_partitions t SET lease_owner = $3, lease_until = $1 + $4, not_before = NULL, last_claimed = $1
    FROM ready WHERE t.partition_key = ready.partition_key
    RETURNING t.partition_key AS lease_key
  )
  SELECT leased.lease_key, e.* FROM leased
  LEFT JOIN LATERAL (
    SELECT ${EVENT_COLUMNS} FROM router_events ev
    WHERE ev.partition_key = leased.lease_key AND ev.status = 'pending'
    ORDER BY ev.id LIMIT $5
  ) e ON true
  ORDER BY leased.lease_key, e.id`;

/* The parts COMPLETE and COMPLETE_MANY share. */
/** marks the events of `seq` applied, each with its sequence number */
const MARK_SEQ = `
    UPDATE router_events e SET status = 'applied', apply_count = e.apply_count + 1, applied_seq = seq.applied_seq
    FROM seq WHERE e.id = seq.id
    RETURNING e.partition_key`;
/** adds the events `marked` marked to the counter stats() reads */
const TALLY_MARKED = `
    UPDATE router_counters SET value = value + (SELECT count(*) FROM marked) WHERE name = 'applied' AND EXISTS (SELECT 1 FROM marked)`;
/** upserts the docs of `source` (named d) that meet `condition` */
function upsertDocs(source: string, condition: string): string {
  return `
    INSERT INTO router_docs (kind, id, conversation_sid, unique_name, doc)
    SELECT d.kind, d.id, d.conversation_sid, d.unique_name, d.doc
    FROM ${source}
    WHERE ${condition}
    ON CONFLICT (kind, id) DO UPDATE SET conversation_sid = EXCLUDED.conversation_sid,
      unique_name = EXCLUDED.unique_name, doc = EXCLUDED.doc
    RETURNING 1`;
}

/*
 * `held` locks the partition row only while $2 owns it: a worker that took the partition over changed the owner
 * (and a takeover racing with us waits for, or skips, our lock). Nothing else happens when it is not held or the
 * event is no longer pending.
 */
/*
 * All or nothing in one statement: `ok` checks, under the partition's lock (`held`: only while $2 owns it), that every
 * event is this partition's and pending; nobody else can change that while we hold the lock. appliedSeq is drawn in
 * id order (PostgreSQL evaluates volatile output expressions after the ORDER BY sort).
 * `ok` finds the events by primary key and checks their partition and status in the aggregate's FILTER, where no index
 * can serve them: matched in the WHERE, the planner walked the partition's pending index instead, every pending event
 * of a hot partition (and every applied one not yet vacuumed) on every complete, a cost growing with the backlog.
 * Exported for the plan test.
 */
export const COMPLETE = `
  WITH held AS (
    SELECT partition_key FROM router_partitions WHERE partition_key = $1 AND lease_owner = $2 FOR UPDATE
  ), ok AS (
    SELECT EXISTS (SELECT 1 FROM held)
      AND count(*) FILTER (WHERE e.partition_key = $1 AND e.status = 'pending') = cardinality($3::bigint[]) AS all_pending
    FROM router_events e WHERE e.id = ANY ($3::bigint[])
  ), seq AS (
    SELECT id, nextval('router_applied_seq') AS applied_seq FROM unnest($3::bigint[]) AS u(id)
    WHERE (SELECT all_pending FROM ok) ORDER BY id
  ), marked AS (${MARK_SEQ}
  ), counted AS (
    UPDATE router_partitions t SET pending = t.pending - (SELECT count(*) FROM marked)
    WHERE t.partition_key = $1 AND EXISTS (SELECT 1 FROM marked)
    RETURNING 1
  ), tallied AS (${TALLY_MARKED}
  ), docs AS (${upsertDocs(
    'unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::json[]) AS d(kind, id, conversation_sid, unique_name, doc)',
    'EXISTS (SELECT 1 FROM marked)',
  )}
  )
  SELECT (SELECT count(*) FROM marked) AS marked, (SELECT count(*) FROM counted) AS counted, (SELECT count(*) FROM docs) AS docs`;

/*
 * Several partitions' completes in one statement (the worker's completes that arrive together: with many conversations
 * each run is a few events, and a statement each cost PostgreSQL more than the events themselves). Each partition is
 * all or nothing on its own, as in COMPLETE: `held` locks the partitions still leased to their caller, in key order
 * (as accepts lock them: no deadlock); `ok` keeps those whose events are all theirs, pending and named once; only
 * those are marked and have their docs written. Answers the ordinals ($1's) of the partitions completed.
 */
export const COMPLETE_MANY = `
  WITH parts AS (
    SELECT * FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS p(partition_key, worker_id, n)
  ), held AS (
    SELECT t.partition_key, parts.n FROM router_partitions t JOIN parts ON parts.partition_key = t.partition_key
    WHERE t.lease_owner = parts.worker_id
    ORDER BY t.partition_key
    FOR UPDATE OF t
  ), evs AS (
    SELECT * FROM unnest($3::bigint[], $4::bigint[]) AS v(id, n)
  ), checked AS (
    SELECT evs.n, evs.id, (e.partition_key = held.partition_key AND e.status = 'pending') IS TRUE AS good
    FROM evs JOIN held ON held.n = evs.n LEFT JOIN router_events e ON e.id = evs.id
  ), ok AS (
    SELECT n FROM checked GROUP BY n HAVING bool_and(good) AND count(DISTINCT id) = count(*)
  ), seq AS (
    SELECT evs.id, nextval('router_applied_seq') AS applied_seq FROM evs WHERE evs.n IN (SELECT n FROM ok) ORDER BY evs.id
  ), marked AS (${MARK_SEQ}
  ), counted AS (
    UPDATE router_partitions t SET pending = t.pending - c.marked
    FROM (SELECT partition_key, count(*) AS marked FROM marked GROUP BY partition_key) c
    WHERE t.partition_key = c.partition_key
    RETURNING 1
  ), tallied AS (${TALLY_MARKED}
  ), docs AS (${upsertDocs(
    'unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::json[], $10::bigint[]) AS d(kind, id, conversation_sid, unique_name, doc, n)',
    'd.n IN (SELECT n FROM ok)',
  )}
  )
  SELECT n, (SELECT count(*) FROM counted) AS counted, (SELECT count(*) FROM docs) AS docs FROM ok`;

/* Several partitions given back in one statement, locked in key order (as accepts lock them: no deadlock). */
const RELEASE_MANY = `
  WITH r AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) AS r(partition_key, worker_id, not_before)
  ), locked AS (
    SELECT t.partition_key, r.not_before FROM router_partitions t JOIN r ON r.partition_key = t.partition_key
    WHERE t.lease_owner = r.worker_id
    ORDER BY t.partition_key
    FOR UPDATE OF t
  )
  UPDATE router_partitions t SET lease_owner = NULL, lease_until = NULL, not_before = locked.not_before
  FROM locked WHERE t.partition_key = locked.partition_key`;

/*
 * The shared docs a complete() writes, locked and read as stored now, before COMPLETE in the same transaction: one
 * that exists is locked as it is (a no-op update; ON CONFLICT waits for, then sees, a concurrent writer's commit,
 * which SELECT … FOR UPDATE could not for a row inserted after its snapshot); one that does not is inserted as ours,
 * which locks its key until we commit. In (kind, id) order, so two completes lock them in the same order.
 */
const LOCK_SHARED = `
  INSERT INTO router_docs (kind, id, conversation_sid, unique_name, doc)
  SELECT d.kind, d.id, d.conversation_sid, d.unique_name, d.doc
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::json[]) AS d(kind, id, conversation_sid, unique_name, doc)
  ORDER BY d.kind COLLATE "C", d.id COLLATE "C"
  ON CONFLICT (kind, id) DO UPDATE SET doc = router_docs.doc
  RETURNING kind, id, conversation_sid, doc`;

/**
 * A pending event's failure; or, giving up ($5), the failure of one the worker applied before it dead-lettered the
 * side effect (worker.ts): it keeps its apply_count. Giving up counts it in router_counters' `dead` (stats() reads it
 * there, not from the log). Only a pending one leaves the queue here.
 */
const FAILURE = `
  WITH held AS (
    SELECT partition_key FROM router_partitions WHERE partition_key = $1 AND lease_owner = $2 FOR UPDATE
  ), target AS (
    SELECT e.id, e.status AS was FROM router_events e JOIN held ON e.partition_key = held.partition_key
    WHERE e.id = $3 AND (e.status = 'pending' OR ($5::boolean AND e.status = 'applied'))
    FOR UPDATE OF e
  ), marked AS (
    UPDATE router_events e SET attempts = e.attempts + 1, last_error = $4,
      status = CASE WHEN $5::boolean THEN 'dead' ELSE e.status END
    FROM target WHERE e.id = target.id
    RETURNING target.was
  ), left_queue AS (
    UPDATE router_partitions t SET pending = t.pending - 1 FROM marked
    WHERE $5::boolean AND marked.was = 'pending' AND t.partition_key = $1
    RETURNING 1
  )
  UPDATE router_counters SET value = value + 1 WHERE name = 'dead' AND $5::boolean AND EXISTS (SELECT 1 FROM marked)`;

const DOC_COLUMNS = 'kind, id, conversation_sid, doc';

/** one partition's complete() without shared docs, waiting for its batch */
interface CompleteCall {
  workerId: string;
  partitionKey: string;
  eventIds: readonly number[];
  docs: EntityDoc[];
}

interface ReleaseCall {
  workerId: string;
  partitionKey: string;
  notBefore: number | null;
}

/** the most partitions one COMPLETE_MANY or RELEASE_MANY carries */
const MAX_PARTITIONS_PER_STATEMENT = 64;
/** how long a worker's complete or release waits for the other partitions' to join it (ms) */
const WORKER_LINGER_MS = 2;

export class PostgresEventStore implements EventStore {
  readonly kind = 'postgres' as const;
  private readonly now: () => number;
  private readonly ownsPool: boolean;
  private closed = false;
  private readonly workerPool: pg.Pool;
  private readonly accepts: PostgresAcceptBatcher;
  private readonly completes: StatementBatcher<CompleteCall, boolean>;
  private readonly releases: StatementBatcher<ReleaseCall, void>;
  private readonly reads: StatementBatcher<EntityRef[], EntityDoc[]>;

  static async open(options: PostgresPoolOptions & Omit<PostgresEventStoreOptions, 'ownsPool'>): Promise<PostgresEventStore> {
    const pool = await openPostgresPool(options);
    try {
      const workerPool = await openPostgresPool({ ...options, asyncCommit: true, migrate: false });
      return new PostgresEventStore(pool, { now: options.now, ownsPool: true, workerPool });
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }

  constructor(
    private readonly pool: pg.Pool,
    options: PostgresEventStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.ownsPool = options.ownsPool ?? false;
    this.workerPool = options.workerPool ?? pool;
    this.accepts = new PostgresAcceptBatcher(pool, { now: this.now });
    this.completes = new StatementBatcher((calls) => this.completeBatch(calls), {
      maxBatch: MAX_PARTITIONS_PER_STATEMENT,
      lingerMs: WORKER_LINGER_MS,
      admit: admitDistinctPartitionsAndDocs,
    });
    // no linger (the API reads through here too): the worker's partitions prefetch together after a claim, and those
    // beyond the two in flight go as one query
    this.reads = new StatementBatcher((calls) => this.readBatch(calls), { maxInFlight: 2, maxBatch: MAX_PARTITIONS_PER_STATEMENT });
    this.releases = new StatementBatcher((calls) => this.releaseBatch(calls), {
      maxBatch: MAX_PARTITIONS_PER_STATEMENT,
      lingerMs: WORKER_LINGER_MS,
      admit: () => {
        const keys = new Set<string>();
        return (call) => !keys.has(call.partitionKey) && Boolean(keys.add(call.partitionKey));
      },
    });
  }

  async accept(event: IncomingEvent, dedupeTtlSeconds: number): Promise<AcceptResult> {
    checkTtl(dedupeTtlSeconds, 'the dedupe window');
    if (this.closed) throw new Error('the event store is closed');
    return this.accepts.accept(event, this.now() + Math.round(dedupeTtlSeconds * 1000));
  }

  async claim(workerId: string, maxPartitions: number, leaseMs: number, perPartition: number): Promise<ClaimedPartition[]> {
    const result = await this.workerPool.query<EventRow & { lease_key: string }>({
      name: 'router-claim',
      text: CLAIM,
      values: [this.now(), maxPartitions, workerId, leaseMs, perPartition],
    });
    const claimed = new Map<string, LoggedEvent[]>();
    for (const row of result.rows) {
      const events = claimed.get(row.lease_key) ?? [];
      if (row.id !== null) events.push(toLoggedEvent(row));
      claimed.set(row.lease_key, events);
    }
    const partitions: ClaimedPartition[] = [];
    for (const [partitionKey, events] of claimed) {
      // its last events were applied between our snapshot and our lock: hand it straight back
      if (events.length === 0) await this.release(workerId, partitionKey);
      else partitions.push({ partitionKey, events });
    }
    return partitions;
  }

  async complete(workerId: string, partitionKey: string, eventIds: readonly number[], docs: EntityDoc[], shared?: SharedDocs): Promise<boolean> {
    if (eventIds.length === 0) return true;
    // the common case, docs this partition alone writes: one statement with the other partitions' completes of the moment
    if (shared === undefined || shared.docs.length === 0) return this.completes.run({ workerId, partitionKey, eventIds, docs });
    const client = await this.workerPool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      // the last of each (kind, id), for the lock too: ON CONFLICT DO UPDATE refuses to touch one row twice
      const latest = lastOfEach(shared.docs);
      const locked = await client.query<DocRow>({ name: 'router-lock-shared', text: LOCK_SHARED, values: docColumns(latest) });
      const stored = new Map(locked.rows.map(toEntityDoc).map((doc) => [refKey(doc), doc]));
      const merged = latest.map((doc) => mergeWith(stored.get(refKey(doc)), doc, shared));
      const done = await this.completeOn(client, workerId, partitionKey, eventIds, [...docs, ...merged]);
      // not done: nothing was marked nor written, but the locking inserts must go
      await client.query(done ? 'COMMIT' : 'ROLLBACK');
      return done;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    } finally {
      // a connection whose ROLLBACK failed is not given back to the pool
      client.release(broken);
    }
  }

  private async completeOn(
    db: pg.Pool | pg.PoolClient,
    workerId: string,
    partitionKey: string,
    eventIds: readonly number[],
    docs: EntityDoc[],
  ): Promise<boolean> {
    const result = await db.query<{ marked: string }>({
      name: 'router-complete',
      text: COMPLETE,
      values: [partitionKey, workerId, eventIds, ...docColumns(docs)],
    });
    return Number(result.rows[0]?.marked ?? 0) === eventIds.length;
  }

  private async completeBatch(calls: CompleteCall[]): Promise<boolean[]> {
    if (calls.length === 1) {
      const [{ workerId, partitionKey, eventIds, docs }] = calls as [CompleteCall];
      return [await this.completeOn(this.workerPool, workerId, partitionKey, eventIds, docs)];
    }
    const ids: number[] = [];
    const idPartitions: number[] = [];
    const docs: EntityDoc[] = [];
    const docPartitions: number[] = [];
    calls.forEach((call, i) => {
      for (const id of call.eventIds) {
        ids.push(id);
        idPartitions.push(i + 1);
      }
      for (const doc of lastOfEach(call.docs)) {
        docs.push(doc);
        docPartitions.push(i + 1);
      }
    });
    const result = await this.workerPool.query<{ n: string }>({
      name: 'router-complete-many',
      text: COMPLETE_MANY,
      values: [calls.map((c) => c.partitionKey), calls.map((c) => c.workerId), ids, idPartitions, ...docColumns(docs), docPartitions],
    });
    const done = new Set(result.rows.map((row) => Number(row.n)));
    return calls.map((_, i) => done.has(i + 1));
  }

  async recordFailure(workerId: string, partitionKey: string, eventId: number, error: string, dead: boolean): Promise<void> {
    await this.workerPool.query({ name: 'router-failure', text: FAILURE, values: [partitionKey, workerId, eventId, error, dead] });
  }

  async release(workerId: string, partitionKey: string, notBefore?: number): Promise<void> {
    await this.releases.run({ workerId, partitionKey, notBefore: notBefore ?? null });
  }

  private async releaseBatch(calls: ReleaseCall[]): Promise<void[]> {
    await this.workerPool.query({
      name: 'router-release-many',
      text: RELEASE_MANY,
      values: [calls.map((c) => c.partitionKey), calls.map((c) => c.workerId), calls.map((c) => c.notBefore)],
    });
    return calls.map(() => undefined);
  }

  async renew(workerId: string, partitionKey: string, leaseMs: number): Promise<boolean> {
    const result = await this.workerPool.query(
      `UPDATE router_partitions SET lease_until = $3 WHERE partition_key = $1 AND lease_owner = $2`,
      [partitionKey, workerId, this.now() + leaseMs],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async entities(refs: EntityRef[]): Promise<EntityDoc[]> {
    if (refs.length === 0) return [];
    return this.reads.run(refs);
  }

  /** every call's docs from one query, each call's in the order of its refs (as the SQLite store answers) */
  private async readBatch(calls: EntityRef[][]): Promise<EntityDoc[][]> {
    const refs = calls.flat();
    const result = await this.pool.query<DocRow>(
      `SELECT ${DOC_COLUMNS} FROM router_docs WHERE (kind, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [refs.map((r) => r.kind), refs.map((r) => r.id)],
    );
    const found = new Map(result.rows.map(toEntityDoc).map((doc) => [refKey(doc), doc]));
    return calls.map((call) => call.flatMap((ref) => found.get(refKey(ref)) ?? []));
  }

  async conversationEntities(conversationSid: string): Promise<EntityDoc[]> {
    return this.docs('WHERE conversation_sid = $1', [conversationSid]);
  }

  async entitiesOfKind(kind: string): Promise<EntityDoc[]> {
    return this.docs('WHERE kind = $1', [kind]);
  }

  async allEntities(): Promise<EntityDoc[]> {
    return this.docs('', []);
  }

  private async docs(where: string, values: string[]): Promise<EntityDoc[]> {
    // COLLATE "C": the same order as SQLite's, whatever the database's locale
    const result = await this.pool.query<DocRow>(
      `SELECT ${DOC_COLUMNS} FROM router_docs ${where} ORDER BY kind COLLATE "C", id COLLATE "C"`,
      values,
    );
    return result.rows.map(toEntityDoc);
  }

  async findConversation(sidOrUniqueName: string): Promise<string | undefined> {
    // a SID wins over a UniqueName that happens to look like one
    const result = await this.pool.query<{ id: string }>(
      `SELECT id FROM router_docs WHERE kind = $1 AND (id = $2 OR unique_name = $2) ORDER BY id = $2 DESC, id LIMIT 1`,
      [CONVERSATION_KIND, sidOrUniqueName],
    );
    return result.rows[0]?.id;
  }

  async replaceEntities(docs: EntityDoc[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('DELETE FROM router_docs');
      // in slices: one huge parameter would be parsed into memory at once
      const unique = lastOfEach(docs);
      for (let i = 0; i < unique.length; i += 1000) {
        await client.query(
          `INSERT INTO router_docs (kind, id, conversation_sid, unique_name, doc)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::json[])`,
          docColumns(unique.slice(i, i + 1000)),
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async readLog(afterId: number, limit: number): Promise<LoggedEvent[]> {
    const result = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM router_events WHERE id > $1 ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
    return result.rows.map(toLoggedEvent);
  }

  async applied(): Promise<AppliedRecord[]> {
    const result = await this.pool.query<{ id: string; partition_key: string; apply_count: number; applied_seq: string }>(
      `SELECT id, partition_key, apply_count, applied_seq FROM router_events WHERE apply_count > 0 ORDER BY id`,
    );
    return result.rows.map(toAppliedRecord);
  }

  async stats(): Promise<QueueStats> {
    // depth from the partitions' counters (small); dead kept by recordFailure(), applied by complete() (a dead event
    // may have been applied: its side effect was dead-lettered after the fold). None of them reads the log.
    const result = await this.pool.query<{ depth: string; dead: string; applied: string }>(
      `SELECT (SELECT COALESCE(SUM(pending), 0) FROM router_partitions WHERE pending > 0) AS depth,
              (SELECT value FROM router_counters WHERE name = 'dead') AS dead,
              (SELECT value FROM router_counters WHERE name = 'applied') AS applied`,
    );
    const row = result.rows[0]!;
    return { depth: Number(row.depth), dead: Number(row.dead), applied: Number(row.applied) };
  }

  async purgeExpired(now: number): Promise<number> {
    const result = await this.pool.query('DELETE FROM router_dedupe WHERE expires_at <= $1', [now]);
    return result.rowCount ?? 0;
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async setupWarnings(): Promise<string[]> {
    // autovacuum needs track_counts too; a server may have either off (some CI images turn autovacuum off for speed)
    const { rows } = await this.pool.query<{ autovacuum: string; track_counts: string }>(
      `SELECT current_setting('autovacuum') AS autovacuum, current_setting('track_counts') AS track_counts`,
    );
    const row = rows[0];
    return row?.autovacuum === 'on' && row.track_counts === 'on' ? [] : [AUTOVACUUM_OFF];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.accepts.drain(), this.completes.drain(), this.releases.drain(), this.reads.drain()]);
    if (this.ownsPool) {
      if (this.workerPool !== this.pool) await this.workerPool.end();
      await this.pool.end();
    }
  }
}

/**
 * Docs as five parallel arrays for unnest(): each doc travels as JSON text into a json[] (json keeps the text as is;
 * json_to_recordset would unescape strings and refuse a NUL).
 */
function docColumns(docs: EntityDoc[]): [string[], string[], Array<string | null>, Array<string | null>, string[]] {
  const unique = lastOfEach(docs);
  return [
    unique.map((d) => d.kind),
    unique.map((d) => d.id),
    unique.map((d) => d.conversationSid),
    unique.map((d) => (d.kind === CONVERSATION_KIND ? uniqueNameOf(d) : null)),
    unique.map((d) => docText(d)),
  ];
}

/**
 * A batch of completes names each partition once (two completes of one partition in one statement would be checked
 * against the same snapshot) and each doc once (ON CONFLICT DO UPDATE refuses to touch a row twice in a statement).
 * Docs are a partition's own, so a doc in two partitions' completes is a caller's mistake; it costs a batch, not a row.
 */
function admitDistinctPartitionsAndDocs(): (call: CompleteCall) => boolean {
  const partitions = new Set<string>();
  const docs = new Set<string>();
  return (call) => {
    const keys = call.docs.map(refKey);
    if (partitions.has(call.partitionKey) || keys.some((key) => docs.has(key))) return false;
    partitions.add(call.partitionKey);
    for (const key of keys) docs.add(key);
    return true;
  };
}
