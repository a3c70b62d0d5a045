/**
 * The Sync service ("cds"), tunnelled, over the views of views.ts: `GET /v3/{Documents,Lists,Maps}/{id}`, their
 * `/Items`, and `POST /v4/Subscriptions` (establish / cancel, with replay after the client's `last_event_id`).
 * Views are read-only to clients: they change through the client API and REST.
 */
import type { Database, Row } from '../store/database.js';
import { isoSeconds } from '../wire/dates.js';
import type { SyncEventLog, SyncObjectType } from './sync-events.js';
import { segments, UpstreamError, type ClientSession, type UpstreamAnswer, type UpstreamRequest } from './upstream.js';
import { COLLECTION_OF, conversationData, parseViewId, TYPE_OF, viewItems, type ViewRef } from './views.js';

const MAX_PAGE_SIZE = 100;
/** objects one subscribe request may name (the SDK batches at most max_batch_size) */
const MAX_BATCH = 100;
/** Sync objects one client may hold subscriptions to */
export const MAX_SUBSCRIPTIONS = 10_000;

const TYPE_OF_COLLECTION = new Map(Object.entries(COLLECTION_OF).map(([type, collection]) => [collection, type as SyncObjectType]));

export interface CdsDeps {
  db: Database;
  log: SyncEventLog;
  /** whether a client of the user is connected (reachability) */
  online(userSid: string): boolean;
}

/** Sync's own 404: the SDK treats `status` 404 as "no such object". */
function noSuchObject(id: string): UpstreamError {
  return new UpstreamError(404, 54100, `Sync object ${id} not found`);
}

/** The row that owns a view, if this client may read it; otherwise why not. */
function ownerOf(db: Database, session: ClientSession, ref: ViewRef, id: string): Row {
  if (ref.kind === 'conversation' || ref.kind === 'messages' || ref.kind === 'roster') {
    const conversation = db.get('SELECT * FROM conversations WHERE sid = ? AND chat_service_sid = ?', ref.ownerSid, session.serviceSid);
    if (!conversation) throw noSuchObject(id);
    // the document is readable in the service (a client reads the conversation it just created before joining it);
    // its messages and roster only by participants
    if (ref.kind !== 'conversation' && !db.get('SELECT 1 FROM participants WHERE conversation_sid = ? AND identity = ?', ref.ownerSid, session.identity)) {
      throw new UpstreamError(403, 54007, `Access forbidden: ${session.identity} is not a participant of ${ref.ownerSid}`);
    }
    return conversation;
  }
  const user = db.get('SELECT * FROM users WHERE sid = ? AND chat_service_sid = ?', ref.ownerSid, session.serviceSid);
  if (!user) throw noSuchObject(id);
  if (ref.kind === 'my-conversations' && ref.ownerSid !== session.userSid) {
    throw new UpstreamError(403, 54007, `Access forbidden: ${id} belongs to another user`);
  }
  return user;
}

function resolve(deps: CdsDeps, session: ClientSession, type: SyncObjectType, id: string): { ref: ViewRef; owner: Row } {
  const ref = parseViewId(id);
  if (!ref || TYPE_OF[ref.kind] !== type) throw noSuchObject(id);
  return { ref, owner: ownerOf(deps.db, session, ref, id) };
}

function objectUrl(request: UpstreamRequest, type: SyncObjectType, id: string): string {
  return `https://${request.host}/v3/${COLLECTION_OF[type]}/${encodeURIComponent(id)}`;
}

function itemQuery(params: Record<string, string>, type: SyncObjectType): { from?: string; order: 'asc' | 'desc'; limit: number; only?: string } {
  const size = params.PageSize === undefined ? 50 : Number(params.PageSize);
  if (!Number.isInteger(size) || size < 1) throw new UpstreamError(400, 20001, `PageSize must be a whole number >= 1, got ${params.PageSize}`);
  if (params.Order !== undefined && params.Order !== 'asc' && params.Order !== 'desc') throw new UpstreamError(400, 20001, `Order must be asc or desc, got ${params.Order}`);
  if (params.PageToken !== undefined) throw new UpstreamError(400, 20001, 'tce pages Sync items by From, not PageToken');
  const only = type === 'list' ? params.Index : params.Key;
  if (type === 'list' && [params.Index, params.From].some((v) => v !== undefined && !/^\d+$/.test(v))) {
    throw new UpstreamError(400, 20001, 'Index and From of a list are item indexes (whole numbers >= 0)');
  }
  return { from: params.From, order: params.Order === 'desc' ? 'desc' : 'asc', limit: Math.min(size, MAX_PAGE_SIZE), only };
}

function items(deps: CdsDeps, request: UpstreamRequest, type: SyncObjectType, id: string, ref: ViewRef, owner: Row, query: ReturnType<typeof itemQuery>) {
  const page = viewItems(deps.db, ref, owner, { ...query, online: deps.online });
  const base = `${objectUrl(request, type, id)}/Items`;
  const list = page.items.map((item) => {
    const eventId = deps.log.itemEventId(id, item.key);
    return {
      ...(type === 'list' ? { index: Number(item.key) } : { key: item.key }),
      url: `${base}/${encodeURIComponent(item.key)}`,
      revision: String(eventId),
      last_event_id: eventId,
      data: item.data,
      date_updated: item.dateUpdated,
      date_expires: null,
    };
  });
  return { items: list, meta: { previous_token: page.before ? 'previous' : null, next_token: page.more ? 'next' : null } };
}

function descriptor(deps: CdsDeps, session: ClientSession, request: UpstreamRequest, type: SyncObjectType, id: string, withItems: boolean) {
  const { ref, owner } = resolve(deps, session, type, id);
  // everything up to the newest event is in what is read now (reads and event ids are in one thread)
  const lastEventId = deps.log.lastId;
  const url = objectUrl(request, type, id);
  const base = {
    sid: id,
    unique_name: id,
    url,
    revision: String(lastEventId),
    last_event_id: lastEventId,
    date_updated: isoSeconds((owner.date_updated as number | undefined) ?? 0),
    date_expires: null,
  };
  if (type === 'document') return { ...base, data: conversationData(deps.db, owner) };
  const links = { items: `${url}/Items` };
  if (!withItems) return { ...base, links };
  return { ...base, links, items: items(deps, request, type, id, ref, owner, { order: 'asc', limit: MAX_PAGE_SIZE }).items };
}

interface SubscriptionRequest {
  object_sid: string;
  object_type: string;
  last_event_id?: number;
}

function subscriptions(deps: CdsDeps, session: ClientSession, body: Record<string, unknown>): UpstreamAnswer {
  const action = body.action;
  if (action !== 'establish' && action !== 'cancel') throw new UpstreamError(400, 20001, `action must be establish or cancel, got ${String(action)}`);
  const requests = Array.isArray(body.requests) ? (body.requests as SubscriptionRequest[]) : [];
  if (requests.length > MAX_BATCH) throw new UpstreamError(400, 20001, `at most ${MAX_BATCH} objects per request`);
  const correlationId = body.correlation_id;
  const established: Record<string, unknown>[] = [];
  const failed: Record<string, unknown>[] = [];
  const replays: { event_type: string; event: Record<string, unknown> }[] = [];
  for (const r of requests) {
    const sid = typeof r?.object_sid === 'string' ? r.object_sid : '';
    const type = r?.object_type as SyncObjectType;
    if (action === 'cancel') {
      session.subscriptions.delete(sid);
      established.push({ object_sid: sid, object_type: type });
      continue;
    }
    try {
      if (!TYPE_OF_COLLECTION.has(COLLECTION_OF[type])) throw noSuchObject(sid);
      resolve(deps, session, type, sid);
      if (!session.subscriptions.has(sid) && session.subscriptions.size >= MAX_SUBSCRIPTIONS) {
        throw new UpstreamError(429, 54900, `a client may hold at most ${MAX_SUBSCRIPTIONS} subscriptions`);
      }
      session.subscriptions.add(sid);
      const from = typeof r.last_event_id === 'number' ? r.last_event_id : deps.log.lastId;
      const replay = deps.log.since(sid, from);
      for (const e of replay.events) replays.push({ event_type: e.eventType, event: e.event });
      established.push({ object_sid: sid, object_type: type, replay_status: replay.complete ? 'completed' : 'interrupted', last_event_id: deps.log.lastId });
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      failed.push({ object_sid: sid, object_type: type, error: { status: error.status, code: error.code, message: error.message } });
    }
  }
  const after = () => {
    // replayed events first (strictly ordered, as twilio.sync.event), then the subscription states
    for (const replay of replays) session.notify('twilio.sync.event', replay);
    const kind = action === 'cancel' ? 'subscription_canceled' : 'subscription_established';
    if (established.length) session.notify('twilio.sync.event', { event_type: kind, correlation_id: correlationId, events: established });
    if (failed.length) session.notify('twilio.sync.event', { event_type: 'subscription_failed', correlation_id: correlationId, events: failed });
  };
  return { status: 200, body: { max_batch_size: MAX_BATCH, ttl_in_s: -1, estimated_delivery_in_ms: 5000 }, after };
}

export function handleCds(deps: CdsDeps, session: ClientSession, request: UpstreamRequest): UpstreamAnswer {
  const parts = segments(request.path);
  const method = request.method.toUpperCase();
  if (parts[0] === 'v4' && parts[1] === 'Subscriptions' && parts.length === 2 && method === 'POST') {
    const body = typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {};
    return subscriptions(deps, session, body);
  }
  const type = parts[0] === 'v3' ? TYPE_OF_COLLECTION.get(parts[1] ?? '') : undefined;
  const id = parts[2];
  if (!type || !id) throw new UpstreamError(404, 20404, `tce does not serve ${method} ${request.path} of Sync`);
  if (method !== 'GET') throw new UpstreamError(403, 54007, `Access forbidden: the conversation views are read-only to clients (${method} ${request.path})`);
  if (parts.length === 3) return { status: 200, body: descriptor(deps, session, request, type, id, request.params.Include === 'items') };
  if (parts[3] === 'Items' && type !== 'document' && (parts.length === 4 || parts.length === 5)) {
    const { ref, owner } = resolve(deps, session, type, id);
    const query = itemQuery(request.params, type);
    if (parts.length === 5) query.only = parts[4];
    return { status: 200, body: items(deps, request, type, id, ref, owner, query) };
  }
  throw new UpstreamError(404, 20404, `tce does not serve ${method} ${request.path} of Sync`);
}
