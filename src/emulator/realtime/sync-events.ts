/**
 * The Sync (CDS) event log behind the client views: every change to a view object gets an event id, one counter
 * for the whole emulator (the SDK only compares ids within an object), and recent events are kept per object so a
 * subscription can replay what happened after the client's `last_event_id`. Bounded: a number of objects, of
 * events each and of events in all; a replay that reaches past what was kept says so (`replay_status: interrupted`).
 */

export type SyncObjectType = 'document' | 'list' | 'map';

export interface SyncEvent {
  id: number;
  objectSid: string;
  objectType: SyncObjectType;
  /** list_item_added, map_item_removed, document_updated, … */
  eventType: string;
  /** the wire event: `{ id, list_sid, item_index, item_data, … }` */
  event: Record<string, unknown>;
  /** the map key or list index it changed, for the item's own last_event_id */
  itemKey?: string;
}

const EVENTS_PER_OBJECT = 200;
const OBJECTS = 20_000;
/** events kept in all (each holds an item's data, up to a few KB): the least recently changed objects go first */
const EVENTS = 50_000;

interface ObjectLog {
  events: SyncEvent[];
  /** the id of the newest event no longer kept (0: none dropped) */
  droppedThrough: number;
  /** item key → id of its newest event */
  items: Map<string, number>;
}

export class SyncEventLog {
  private counter = 0;
  private kept = 0;
  private readonly objects = new Map<string, ObjectLog>();
  /** the newest event id of any object forgotten whole */
  private forgottenThrough = 0;
  private readonly listeners = new Set<(event: SyncEvent) => void>();

  /** the id of the newest event: an object read now has seen everything up to it */
  get lastId(): number {
    return this.counter;
  }

  append(objectSid: string, objectType: SyncObjectType, eventType: string, event: Record<string, unknown>, itemKey?: string): SyncEvent {
    const id = ++this.counter;
    // revisions are event ids too: an item's or document's revision is the id of its newest event
    const wire: Record<string, unknown> = { ...event, id };
    if (eventType.startsWith('document_')) wire.document_revision = String(id);
    else if (itemKey !== undefined) wire.item_revision = String(id);
    const entry: SyncEvent = { id, objectSid, objectType, eventType, event: wire, itemKey };
    let log = this.objects.get(objectSid);
    if (log) {
      // most recently changed last: the Map's first entry is the one to forget
      this.objects.delete(objectSid);
    } else {
      log = { events: [], droppedThrough: 0, items: new Map() };
      if (this.objects.size >= OBJECTS) this.forgetOldest();
    }
    this.objects.set(objectSid, log);
    log.events.push(entry);
    this.kept++;
    if (log.events.length > EVENTS_PER_OBJECT) {
      log.droppedThrough = (log.events.shift() as SyncEvent).id;
      this.kept--;
    }
    // never the object just changed: it is the newest entry of the Map
    while (this.kept > EVENTS && this.objects.size > 1) this.forgetOldest();
    if (itemKey !== undefined) {
      log.items.delete(itemKey);
      log.items.set(itemKey, id);
      if (log.items.size > EVENTS_PER_OBJECT * 5) log.items.delete(log.items.keys().next().value as string);
    }
    for (const listener of this.listeners) listener(entry);
    return entry;
  }

  private forgetOldest(): void {
    const [sid, log] = this.objects.entries().next().value as [string, ObjectLog];
    this.objects.delete(sid);
    this.kept -= log.events.length;
    const newest = log.events[log.events.length - 1]?.id ?? log.droppedThrough;
    this.forgottenThrough = Math.max(this.forgottenThrough, newest);
  }

  /** The object's events after `lastEventId`, and whether that is all of them. */
  since(objectSid: string, lastEventId: number): { events: SyncEvent[]; complete: boolean } {
    const log = this.objects.get(objectSid);
    if (!log) return { events: [], complete: lastEventId >= this.forgottenThrough };
    return { events: log.events.filter((e) => e.id > lastEventId), complete: lastEventId >= log.droppedThrough };
  }

  /** the id of the newest event of an object's item (0 when none is known) */
  itemEventId(objectSid: string, itemKey: string): number {
    return this.objects.get(objectSid)?.items.get(itemKey) ?? 0;
  }

  /** the id of the newest event of an object (0 when none is known) */
  objectEventId(objectSid: string): number {
    const log = this.objects.get(objectSid);
    return log ? (log.events[log.events.length - 1]?.id ?? log.droppedThrough) : 0;
  }

  subscribe(listener: (event: SyncEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
