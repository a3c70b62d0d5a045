/**
 * The events of one claimed partition, folded in memory and committed together: one read of the docs they touch,
 * one complete() (the applied marks and the docs, in one transaction) for the whole run instead of a read and a
 * write per event. The worker flushes before every side effect, so a handler reading derived state sees every
 * earlier event of its partition, and at the end of the claim.
 *
 * A crash or a lost lease before the flush leaves the run's events pending: they are applied again, once, by
 * whoever takes the partition (their side effects may repeat, as after any crash; handlers are idempotent).
 */
import type { LoggedEvent } from '../events.js';
import type { EntityDoc, EntityRef, EventStore } from '../store/types.js';
import { applyEvent, entityKey, joinDocs } from '../state/fold.js';
import { eventDeltas, type Delta } from '../state/event-deltas.js';

/**
 * Docs that events of other partitions write too (a contact's failures come from status callbacks and inbound
 * messages; a suppression from audit events of any conversation): read fresh for each event, never cached, and
 * committed joined with the row as stored at commit (SharedDocs), so a partition that wrote one since our read
 * loses nothing. The others are this partition's alone and are written as they are.
 */
const SHARED_KINDS = new Set(['contact', 'suppression']);

export class PartitionRun {
  /** docs as this run left them, or as read (null: none yet) */
  private readonly known = new Map<string, EntityDoc | null>();
  /** written by the run and not yet committed */
  private readonly unflushed = new Map<string, EntityDoc>();
  /** eventDeltas of the events prefetched and not applied yet, by event id */
  private readonly deltas = new Map<number, Delta[]>();
  private ids: number[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly workerId: string,
    private readonly partitionKey: string,
  ) {}

  get size(): number {
    return this.ids.length;
  }

  /** one read for the docs of this partition that the claimed events touch */
  async prefetch(events: readonly LoggedEvent[]): Promise<void> {
    const refs = new Map<string, EntityRef>();
    for (const event of events) for (const ref of this.deltasOf(event)) if (!SHARED_KINDS.has(ref.kind)) refs.set(entityKey(ref), ref);
    await this.read([...refs.values()]);
  }

  /** what the event says about each doc, worked out once per event of the run (prefetch, apply, the fold) */
  private deltasOf(event: LoggedEvent): Delta[] {
    let deltas = this.deltas.get(event.id);
    if (!deltas) this.deltas.set(event.id, (deltas = eventDeltas(event)));
    return deltas;
  }

  /**
   * Fold the event into the run's docs (committed by the next flush). True when it wrote a doc other partitions write
   * too: the caller flushes at once, so the other partitions' handlers see it soon.
   */
  async apply(event: LoggedEvent): Promise<boolean> {
    const deltas = this.deltasOf(event);
    this.deltas.delete(event.id);
    // a delta names its doc (kind, id): it is the ref
    const refs: readonly EntityRef[] = deltas;
    await this.read(refs.filter((ref) => {
      const key = entityKey(ref);
      return SHARED_KINDS.has(ref.kind) ? !this.unflushed.has(key) : !this.known.has(key);
    }));
    const current = new Map<string, EntityDoc>();
    for (const ref of refs) {
      const doc = this.known.get(entityKey(ref));
      if (doc) current.set(entityKey(ref), doc);
    }
    let shared = false;
    for (const doc of applyEvent(current, event, deltas)) {
      this.known.set(entityKey(doc), doc);
      this.unflushed.set(entityKey(doc), doc);
      shared ||= SHARED_KINDS.has(doc.kind);
    }
    this.ids.push(event.id);
    return shared;
  }

  /** commit what the run applied; false when the lease was lost (nothing was written) */
  async flush(): Promise<boolean> {
    if (this.ids.length === 0) return true;
    const ids = this.ids;
    const owned: EntityDoc[] = [];
    const shared: EntityDoc[] = [];
    for (const doc of this.unflushed.values()) (SHARED_KINDS.has(doc.kind) ? shared : owned).push(doc);
    this.ids = [];
    this.unflushed.clear();
    return this.store.complete(this.workerId, this.partitionKey, ids, owned, shared.length > 0 ? { docs: shared, merge: joinDocs } : undefined);
  }

  private async read(refs: EntityRef[]): Promise<void> {
    if (refs.length === 0) return;
    const found = new Map((await this.store.entities(refs)).map((doc) => [entityKey(doc), doc]));
    for (const ref of refs) this.known.set(entityKey(ref), found.get(entityKey(ref)) ?? null);
  }
}
