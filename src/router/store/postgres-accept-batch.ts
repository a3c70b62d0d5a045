/**
 * Group commit for PostgreSQL accepts: the events that arrive while earlier batches are committing go in together,
 * as ONE statement (one round trip, one transaction, one WAL flush; statement-batcher.ts). Under light load a batch
 * is one event and leaves at once; under load the in-flight limit makes the queue grow and each commit carries hundreds.
 *
 * Why a statement per batch and not one per event: each accept must be durable before the 200, and a commit waits
 * for the WAL flush. One event per commit, with a hot conversation serialised on its partition row, gave ~800 events/s;
 * a batch pays the flush once for all of them.
 *
 * A batch that fails as a whole (a constraint, an encoding error in one event) is retried event by event, so one bad
 * event rejects only its own promise. A connection error fails each of them the same way, and the ingress answers 503.
 */
import type pg from 'pg';
import type { AcceptResult } from './types.js';
import type { IncomingEvent } from '../events.js';
import { StatementBatcher } from './statement-batcher.js';

/*
 * The data flows input → dedupe (d) → fresh → partitions (p) → the event insert. p runs to completion (the scalar
 * subquery is an InitPlan, evaluated before the first row reaches the insert), so every partition row the batch
 * touches is locked before any event id is drawn: two batches touching one partition commit in id order, and a worker
 * never sees a partition's event N+1 before N. Rows are locked in key order (dedupe keys, then partition keys), so
 * two concurrent batches cannot deadlock. Within the batch, the first event of a dedupe key wins; ids follow `ord`.
 */
const ACCEPT_BATCH = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::bigint[])
      WITH ORDINALITY AS i(dedupe_key, partition_key, source, event_type, params, received_at, signature, correlation_id, expires_at, ord)
  ), firsts AS (
    SELECT DISTINCT ON (dedupe_key) * FROM input ORDER BY dedupe_key, ord
  ), d AS (
    INSERT INTO router_dedupe AS t (key, expires_at)
    SELECT dedupe_key, expires_at FROM firsts ORDER BY dedupe_key
    ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE t.expires_at <= $10
    RETURNING key
  ), fresh AS (
    SELECT f.* FROM firsts f JOIN d ON d.key = f.dedupe_key
  ), p AS (
    INSERT INTO router_partitions AS t (partition_key, pending)
    SELECT partition_key, count(*) FROM fresh GROUP BY partition_key ORDER BY partition_key
    ON CONFLICT (partition_key) DO UPDATE SET pending = t.pending + EXCLUDED.pending
    RETURNING 1
  )
  INSERT INTO router_events (source, event_type, dedupe_key, partition_key, params, received_at, signature, correlation_id)
  SELECT source, event_type, dedupe_key, partition_key, params::json, received_at, signature, correlation_id
  FROM fresh WHERE (SELECT count(*) FROM p) > 0
  ORDER BY ord
  RETURNING id, dedupe_key`;

interface Waiting {
  event: IncomingEvent;
  expiresAt: number;
}

export interface AcceptBatcherOptions {
  now: () => number;
  /** batches committing at once (each holds a pool connection) */
  maxInFlight?: number;
  /** most events per statement */
  maxBatch?: number;
}

export class PostgresAcceptBatcher {
  private readonly batcher: StatementBatcher<Waiting, AcceptResult>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: AcceptBatcherOptions,
  ) {
    this.batcher = new StatementBatcher((batch) => this.run(batch), { maxInFlight: options.maxInFlight ?? 1, maxBatch: options.maxBatch ?? 500 });
  }

  accept(event: IncomingEvent, expiresAt: number): Promise<AcceptResult> {
    return this.batcher.run({ event, expiresAt });
  }

  /** resolves when everything queued so far has committed or failed (close() waits for it) */
  drain(): Promise<void> {
    return this.batcher.drain();
  }

  private async run(batch: Waiting[]): Promise<AcceptResult[]> {
    const e = batch.map((w) => w.event);
    const result = await this.pool.query<{ id: string; dedupe_key: string }>({
      name: 'router-accept-batch',
      text: ACCEPT_BATCH,
      values: [
        e.map((x) => x.dedupeKey),
        e.map((x) => x.partitionKey),
        e.map((x) => x.source),
        e.map((x) => x.eventType),
        e.map((x) => JSON.stringify(x.params)),
        e.map((x) => x.receivedAt),
        e.map((x) => x.signature),
        e.map((x) => x.correlationId),
        batch.map((w) => w.expiresAt),
        this.options.now(),
      ],
    });
    return results(batch, new Map(result.rows.map((row) => [row.dedupe_key, Number(row.id)])));
  }
}

/** The first event of each accepted key gets its id; every other one (a key seen before, or twice here) is a duplicate. */
function results(batch: Waiting[], ids: Map<string, number>): AcceptResult[] {
  return batch.map((w) => {
    const id = ids.get(w.event.dedupeKey);
    if (id === undefined) return { status: 'duplicate' };
    ids.delete(w.event.dedupeKey);
    return { status: 'accepted', id };
  });
}
