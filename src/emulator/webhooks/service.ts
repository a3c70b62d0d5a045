/**
 * The webhook service: turns committed changes into signed deliveries, durably.
 *
 * - Outbox: a delivery row is written in the same SQLite transaction as the change that causes it, so an
 *   acknowledged change never loses its webhook, across a crash or a restart (pending rows are resumed at start).
 * - Dispatcher: an undici pool; one delivery at a time per (URL, conversation) so each consumer sees a
 *   conversation's events in order; Twilio's timeouts (absolute deadlines) and retries with the
 *   `#ct #rt #tt #rc #rp` overrides.
 * - Window: the backlog lives in SQLite; memory holds a bounded window of it (per order key and overall), topped
 *   up from the table, oldest first, as deliveries finish. A consumer that never answers costs rows, not RAM.
 * - Faults: rules decided at enqueue from the seeded random source (faults.ts).
 * - Journal: every delivery with its attempts, for `/_emulator/webhooks/deliveries` and `waitForDelivery`.
 * Network timing is real time (performance.now / Date.now), not the emulator clock: a manual clock must not
 * stop webhooks from leaving.
 */
import { performance } from 'node:perf_hooks';
import type { Accounts } from '../accounts.js';
import type { Clock } from '../clock.js';
import type { RandomSource } from '../random.js';
import type { Database, Row } from '../store/database.js';
import { Conditions } from '../store/conditions.js';
import type { ResourceEvent } from '../resources/context.js';
import type { EventLog } from '../core.js';
import { isoMillis } from '../wire/dates.js';
import { connectionOptions, type RetryClass } from './connection-overrides.js';
import { FaultRules, type FaultAction } from './faults.js';
import { form, postEvents, preEventFields, type EventPayload } from './payloads.js';
import { signedRequest, type FormParams, type SignedRequest, type WebhookRequest } from './signing.js';
import { MAX_TIMER_MS } from './send.js';
import { createTransport, type DeliveryTransport } from './transport.js';
import { TargetResolver, type Target } from './targets.js';
import type { Attempt } from '../ui/inspector-types.js';

/** a delivery attempt as the journal and the inspector show it (one shape for both: ui/inspector-types.ts) */
export type { Attempt };

export type DeliveryState = 'pending' | 'held' | 'delivered' | 'failed' | 'dropped' | 'studio';

export interface Delivery {
  id: number;
  accountSid: string;
  eventType: string;
  kind: Target['kind'];
  conversationSid: string | null;
  webhookSid: string | null;
  orderKey: string;
  position: number;
  /** as configured, connection-override fragment included */
  url: string;
  method: 'GET' | 'POST';
  params: FormParams;
  idempotencyToken: string;
  state: DeliveryState;
  attempts: Attempt[];
  retryCount: number;
  nextAttemptAt: number;
  holdGroup: string | null;
  duplicateOf: number | null;
  createdAt: number;
  finishedAt: number | null;
}

/** What the journal shows of a delivery. */
export interface DeliveryView {
  id: number;
  eventType: string;
  kind: Target['kind'];
  conversationSid: string | null;
  webhookSid: string | null;
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  params: FormParams;
  idempotencyToken: string;
  state: DeliveryState;
  attempts: Attempt[];
  duplicateOf: number | null;
}

export interface PreEventResult {
  rejected: boolean;
  status: number | null;
  url: string;
  /** fields the consumer's JSON answer changes (Twilio's snake_case keys) */
  changes: Record<string, string>;
}

/** the deliveries of Programmable Messaging (not Conversations events): no RetryCount */
const MESSAGING_EVENT_TYPES = new Set(['StatusCallback', 'messaging.inbound']);
const FINAL: DeliveryState[] = ['delivered', 'failed', 'dropped', 'studio'];
const MAX_CONCURRENCY = 256;
/** Twilio's limit for the whole pre-event exchange: no answer within it lets the change through */
const PRE_EVENT_TIMEOUT_MS = 5000;
/** on stop, how long attempts in flight may take to finish (and be recorded) before they are dropped */
const STOP_GRACE_MS = 1000;

/** How much of the backlog stays in memory (the rest waits in SQLite). */
export interface DeliveryWindow {
  /** deliveries per order key (URL, conversation): they leave one at a time anyway */
  perKey: number;
  /** deliveries overall */
  total: number;
}

/** the first `perKey` pending rows of every order key, oldest first: what a window refill may load */
const WINDOW_SQL = `SELECT * FROM (
  SELECT *, row_number() OVER (PARTITION BY order_key ORDER BY position) AS rn FROM webhook_deliveries WHERE state = 'pending'
) WHERE rn <= ? ORDER BY position LIMIT ?`;
const KEY_SQL = "SELECT * FROM webhook_deliveries WHERE state = 'pending' AND order_key = ? ORDER BY position LIMIT ?";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function toDelivery(row: Row): Delivery {
  return {
    id: Number(row.id),
    accountSid: row.account_sid as string,
    eventType: row.event_type as string,
    kind: row.kind as Target['kind'],
    conversationSid: (row.conversation_sid as string | null) ?? null,
    webhookSid: (row.webhook_sid as string | null) ?? null,
    orderKey: row.order_key as string,
    position: Number(row.position),
    url: row.url as string,
    method: row.method === 'GET' ? 'GET' : 'POST',
    params: JSON.parse(row.params as string) as FormParams,
    idempotencyToken: row.idempotency_token as string,
    state: row.state as DeliveryState,
    attempts: JSON.parse(row.attempts as string) as Attempt[],
    retryCount: Number(row.retry_count),
    nextAttemptAt: Number(row.next_attempt_at),
    holdGroup: (row.hold_group as string | null) ?? null,
    duplicateOf: row.duplicate_of === null ? null : Number(row.duplicate_of),
    createdAt: Number(row.created_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
  };
}

function classify(error: unknown): { retry: RetryClass; message: string } {
  const code = (error as { code?: string }).code ?? '';
  const message = `${code || 'error'}: ${(error as Error).message ?? String(error)}`;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_SOCKET') return { retry: 'rt', message };
  return { retry: 'ct', message };
}

export class WebhookService {
  readonly targets: TargetResolver;
  readonly faults: FaultRules;
  /** the window: per order key, a prefix (by position) of its pending rows */
  private readonly queues = new Map<string, Delivery[]>();
  private readonly loaded = new Set<number>();
  /** keys in the window with more pending rows in SQLite */
  private readonly spilled = new Set<string>();
  /** spilled keys whose window ran low: topped up at the next refill */
  private readonly low = new Set<string>();
  /** pending rows in SQLite whose key has nothing in the window */
  private backlog = false;
  private refillQueued = false;
  readonly window: DeliveryWindow = { perKey: 100, total: 10_000 };
  private readonly inFlight = new Set<string>();
  private readonly waiting = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly held = new Map<string, { members: Delivery[]; timer?: NodeJS.Timeout; window: number }>();
  private readonly groupOf = new WeakMap<FaultAction, string>();
  private readonly finishedListeners = new Set<(d: Delivery) => void>();
  private readonly running = new Set<Promise<void>>();
  private active = 0;
  private nextPosition = 1;
  private groups = 0;
  private stopped = false;
  /** set when stop() drops the attempts still in flight: they are not recorded, the rows stay pending */
  private abandoning = false;
  /** attempts in flight when a reset took their account's deliveries: they end unrecorded, and are not retried */
  private readonly resetInFlight = new Set<Delivery>();
  /**
   * The last delivery id handed out. Ids are never reused in a process: SQLite gives a plain INTEGER PRIMARY KEY the
   * highest remaining id + 1, so after a reset a new delivery could take the id of an attempt still in flight, whose
   * result would then be written over the new one's row (and the journal and the inspector's feed would show it).
   */
  private lastId: number | undefined;
  /** once set, a pre-event stops waiting for its consumer */
  private halted = false;
  /** the pre-events waiting: each one's way to stop waiting */
  private readonly haltWaiters = new Set<() => void>();
  private unsubscribe?: () => void;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly random: RandomSource,
    private readonly events: EventLog,
    private readonly accounts: Accounts,
    /** how requests leave: a thread of their own unless the caller says otherwise (transport.ts) */
    readonly transport: DeliveryTransport = createTransport(),
  ) {
    this.targets = new TargetResolver(db);
    this.faults = new FaultRules(random);
  }

  /** Subscribe to changes and resume what a previous run left pending. */
  start(): void {
    this.unsubscribe = this.events.onWrite((event) => this.onWrite(event));
    const max = this.db.get('SELECT max(position) AS p FROM webhook_deliveries');
    this.nextPosition = Number(max?.p ?? 0) + 1;
    // Held (reorder) deliveries of a previous run are released in their original order.
    this.db.transaction(() => this.db.run("UPDATE webhook_deliveries SET state = 'pending' WHERE state = 'held' AND finished_at IS NULL"));
    this.backlog = true;
    this.refillSoon();
  }

  /** Deliveries held in memory (the window, reorder holds included): bounded whatever the backlog. */
  get inMemory(): number {
    let held = 0;
    for (const group of this.held.values()) held += group.members.length;
    return this.loaded.size + held;
  }

  /**
   * Stop within a bounded time whatever consumers do: pre-events in flight stop waiting at once (their REST calls
   * go ahead as if unanswered), attempts in flight get STOP_GRACE_MS, then are dropped and stay pending in SQLite
   * for the next start (the same idempotency token: a consumer may see one twice, as with Twilio's retries).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopPreEvents();
    this.unsubscribe?.();
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const group of this.held.values()) if (group.timer) clearTimeout(group.timer);
    this.timers.clear();
    await Promise.race([Promise.allSettled([...this.running]), sleep(STOP_GRACE_MS)]);
    this.abandoning = true;
    await this.transport.close(0);
    await Promise.allSettled([...this.running]);
    this.db.flush();
  }

  /** Pre-events in flight stop waiting for their consumer (the first step of shutting down). */
  stopPreEvents(): void {
    this.halted = true;
    for (const stop of this.haltWaiters) stop();
  }

  /** `sent`'s answer, unless `guardMs` pass first or the service halts: then a timeout or a shutdown error. */
  private untilHalted<T>(sent: Promise<T>, guardMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (message: string, code: string) => () => done(Object.assign(new Error(message), { code }));
      const stop = fail('the emulator is shutting down', 'SHUTDOWN');
      const guard = setTimeout(fail(`no answer within ${guardMs} ms`, 'UND_ERR_HEADERS_TIMEOUT'), guardMs);
      const done = (error: Error | null, value?: T) => {
        clearTimeout(guard);
        this.haltWaiters.delete(stop);
        if (error) reject(error);
        else resolve(value as T);
      };
      this.haltWaiters.add(stop);
      sent.then((value) => done(null, value), (error: Error) => done(error));
      if (this.halted) stop();
    });
  }

  /** Forget cached configuration, and the deliveries of one account (or all): the control plane's reset. */
  reset(accountSid?: string): void {
    this.targets.invalidate();
    const gone = (d: Delivery) => accountSid === undefined || d.accountSid === accountSid;
    for (const [key, q] of this.queues) {
      // an attempt in flight finishes on its own; everything queued behind it goes
      const kept = q.filter((d, i) => !gone(d) || (i === 0 && this.inFlight.has(key)));
      // that attempt is the old data's: it finishes unwritten, and leaves the queue without a retry
      if (kept[0] && gone(kept[0])) this.resetInFlight.add(kept[0]);
      // In place: the attempt in flight shifts this very array when it finishes (kick); a new array would keep
      // its head there, and the delivery would be sent a second time.
      q.splice(0, q.length, ...kept);
      if (!kept.length) {
        this.queues.delete(key);
        this.spilled.delete(key);
        this.low.delete(key);
      }
    }
    this.loaded.clear();
    for (const q of this.queues.values()) for (const d of q) this.loaded.add(d.id);
    for (const [key, group] of this.held) {
      group.members = group.members.filter((d) => !gone(d));
      if (group.members.length === 0) {
        if (group.timer) clearTimeout(group.timer);
        this.held.delete(key);
      }
    }
    if (accountSid) this.db.run('DELETE FROM webhook_deliveries WHERE account_sid = ?', accountSid);
    else this.db.run('DELETE FROM webhook_deliveries');
  }

  // ---- enqueue -------------------------------------------------------------------------------------------

  private onWrite(event: ResourceEvent): void {
    this.invalidateFor(event);
    if (!event.webhooks) return;
    const row = event.row;
    const conversationSid = ((event.resource === 'Conversation' ? row.sid : row.conversation_sid) as string | undefined) ?? null;
    if (typeof row.chat_service_sid !== 'string' || !this.targets.anyPost(event.accountSid, row.chat_service_sid, conversationSid)) return;
    for (const payload of postEvents(this.db, event, this.clock.now())) {
      for (const target of this.targets.postTargets(event.accountSid, payload)) this.enqueue(event.accountSid, payload, target);
    }
  }

  private invalidateFor(event: ResourceEvent): void {
    switch (event.resource) {
      case 'ConfigurationWebhook':
        return this.targets.invalidate('account', event.accountSid);
      case 'ServiceWebhookConfiguration':
        return this.targets.invalidate('service', event.row.chat_service_sid as string);
      case 'ConversationScopedWebhook':
        return this.targets.invalidate('scoped', event.row.conversation_sid as string);
      case 'Service':
        if (event.type === 'deleted') this.targets.invalidate('service', event.row.sid as string);
        return;
      case 'Conversation':
        if (event.type === 'deleted') this.targets.invalidate('scoped', event.row.sid as string);
        return;
      default:
        return;
    }
  }

  private enqueue(accountSid: string, payload: EventPayload, target: Target): void {
    const params: FormParams = { ...payload.params };
    if (target.webhookSid) {
      params.WebhookSid = target.webhookSid;
      params.WebhookType = target.webhookType ?? 'webhook';
    }
    const now = Date.now();
    const base: Delivery = {
      id: 0,
      accountSid,
      eventType: payload.eventType,
      kind: target.kind,
      conversationSid: payload.conversationSid,
      webhookSid: target.webhookSid ?? null,
      orderKey: `${target.url}|${payload.conversationSid ?? accountSid}`,
      position: 0,
      url: target.url,
      method: target.method,
      params,
      idempotencyToken: this.random.hex(32),
      state: target.kind === 'studio' ? 'studio' : 'pending',
      attempts: [],
      retryCount: 0,
      nextAttemptAt: now,
      holdGroup: null,
      duplicateOf: null,
      createdAt: now,
      finishedAt: target.kind === 'studio' ? now : null,
    };
    this.enqueueDelivery(base);
  }

  /** Write a delivery (and the copies a fault adds) to the outbox, acting out the fault rule that matches it. */
  private enqueueDelivery(base: Delivery): void {
    const now = base.createdAt;
    const accountSid = base.accountSid;
    const action = base.state === 'pending' ? this.faults.decide({ accountSid, eventType: base.eventType, url: base.url, conversationSid: base.conversationSid }) : undefined;
    let copies = 0;
    if (action) {
      switch (action.type) {
        case 'drop':
          base.state = 'dropped';
          base.finishedAt = now;
          break;
        case 'delay':
          base.nextAttemptAt = now + this.faults.delayMs(action);
          break;
        case 'fail': {
          // The consumer "failed" the first attempt: Twilio's retry path runs for real from here.
          base.attempts.push({ at: isoMillis(now), retryCount: 0, status: action.status, latencyMs: 0, error: 'injected failure' });
          const conn = connectionOptions(base.url);
          const retryable = conn.retryOn.has(action.status >= 500 ? '5xx' : '4xx') && conn.retries > 0;
          if (retryable) base.retryCount = 1;
          else {
            base.state = 'failed';
            base.finishedAt = now;
          }
          break;
        }
        case 'reorder': {
          let group = this.groupOf.get(action);
          if (!group) this.groupOf.set(action, (group = `reorder-${++this.groups}`));
          base.state = 'held';
          base.holdGroup = group;
          break;
        }
        case 'duplicate':
          copies = action.count;
          break;
      }
    }
    const first = this.insert(base);
    const all = [first];
    for (let i = 0; i < copies; i++) all.push(this.insert({ ...base, attempts: [], duplicateOf: first.id }));
    this.db.afterCommit(() => {
      for (const d of all) this.schedule(d, action);
      for (const d of all) if (FINAL.includes(d.state)) this.finished(d);
    });
  }

  private insert(d: Delivery): Delivery {
    const position = this.nextPosition++;
    this.lastId ??= Number(this.db.get('SELECT max(id) AS m FROM webhook_deliveries')?.m ?? 0);
    const id = ++this.lastId;
    this.db.run(
      `INSERT INTO webhook_deliveries (id, account_sid, event_type, kind, conversation_sid, webhook_sid, order_key, position, url, method,
         params, idempotency_token, state, attempts, retry_count, next_attempt_at, hold_group, duplicate_of, created_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id, d.accountSid, d.eventType, d.kind, d.conversationSid, d.webhookSid, d.orderKey, position, d.url, d.method,
      JSON.stringify(d.params), d.idempotencyToken, d.state, JSON.stringify(d.attempts), d.retryCount, d.nextAttemptAt,
      d.holdGroup, d.duplicateOf, d.createdAt, d.finishedAt,
    );
    return { ...d, id, position };
  }

  // ---- dispatch ------------------------------------------------------------------------------------------

  private schedule(d: Delivery, action?: FaultAction): void {
    if (d.state === 'pending') this.queue(d);
    else if (d.state === 'held' && d.holdGroup && action?.type === 'reorder') this.hold(d, action);
  }

  /** A delivery to send: into the window when it fits behind its key's loaded rows, else left to SQLite. */
  private queue(d: Delivery): void {
    if (this.loaded.has(d.id)) return;
    const key = d.orderKey;
    const q = this.queues.get(key);
    // a key with nothing loaded may have older rows waiting in SQLite while there is a backlog
    const behind = q ? this.spilled.has(key) : this.backlog;
    if (behind || (q?.length ?? 0) >= this.window.perKey || this.loaded.size >= this.window.total) {
      if (q) this.spilled.add(key);
      else this.backlog = true;
      this.refillSoon();
      return;
    }
    this.load(d);
    this.kick(key);
  }

  private load(d: Delivery): void {
    let q = this.queues.get(d.orderKey);
    if (!q) this.queues.set(d.orderKey, (q = []));
    q.push(d);
    this.loaded.add(d.id);
  }

  /** Top the window up once what is being written now is committed (a refill must not see uncommitted rows). */
  private refillSoon(): void {
    if (this.refillQueued || this.stopped) return;
    if (this.low.size === 0 && !(this.backlog && this.loaded.size <= this.window.total / 2)) return;
    this.refillQueued = true;
    this.db.afterCommit(() => {
      // calls made while it runs (its own kicks) are folded in; keys that ran low meanwhile get the next turn
      this.refill();
      this.refillQueued = false;
      if (this.low.size) setImmediate(() => this.refillSoon());
    });
  }

  /** Load the next rows of spilled keys that ran low, then (below half full) the oldest rows of keys not loaded. */
  private refill(): void {
    if (this.stopped) return;
    const touched = new Set<string>();
    for (const key of this.low) {
      this.low.delete(key);
      if (!this.spilled.has(key)) continue;
      if (this.backlog) {
        // keys outside the window are waiting: a drained key joins them, and the backlog refill takes the oldest
        // rows first, so a busy conversation cannot starve the others
        if (!this.queues.get(key)?.length) {
          this.queues.delete(key);
          this.spilled.delete(key);
        }
        continue;
      }
      // its loaded rows are the first ones this returns: what follows them is next
      const rows = this.db.all(KEY_SQL, key, this.window.perKey);
      let room = true;
      for (const row of rows) {
        if (this.loaded.has(Number(row.id))) continue;
        if (this.loaded.size >= this.window.total) {
          room = false;
          break;
        }
        this.load(toDelivery(row));
      }
      if (room && rows.length < this.window.perKey) this.spilled.delete(key);
      else if (!room && !this.queues.get(key)?.length) {
        // no room overall and nothing loaded: the key leaves the window, the backlog refill brings it back in order
        this.queues.delete(key);
        this.spilled.delete(key);
        this.backlog = true;
      }
      touched.add(key);
    }
    if (this.backlog && this.loaded.size <= this.window.total / 2) {
      const limit = this.window.total;
      const rows = this.db.all(WINDOW_SQL, this.window.perKey, limit);
      let cut = rows.length >= limit;
      const fresh = new Set<string>();
      for (const row of rows) {
        if (this.loaded.has(Number(row.id))) continue;
        if (this.loaded.size >= this.window.total) {
          cut = true;
          break;
        }
        // in position order, after the key's loaded rows (they are its first ones): the key's order holds
        const d = toDelivery(row);
        this.load(d);
        fresh.add(d.orderKey);
        touched.add(d.orderKey);
      }
      for (const key of fresh) if (cut || (this.queues.get(key)?.length ?? 0) >= this.window.perKey) this.spilled.add(key);
      this.backlog = cut;
    }
    for (const key of touched) this.kick(key);
  }

  private hold(d: Delivery, action: Extract<FaultAction, { type: 'reorder' }>): void {
    const key = d.holdGroup as string;
    let group = this.held.get(key);
    if (!group) {
      group = { members: [], window: action.window };
      group.timer = setTimeout(() => this.release(key), action.ms);
      this.held.set(key, group);
    }
    group.members.push(d);
    if (group.members.length >= group.window) this.release(key);
  }

  /** Let a reorder window go: its deliveries leave one by one, in a seeded shuffled order. */
  private release(key: string): void {
    const group = this.held.get(key);
    if (!group) return;
    this.held.delete(key);
    if (group.timer) clearTimeout(group.timer);
    const orderKey = `${key}:${++this.groups}`;
    const shuffled = this.faults.shuffle(group.members);
    this.db.transaction(() => {
      for (const d of shuffled) {
        d.state = 'pending';
        d.orderKey = orderKey;
        d.position = this.nextPosition++;
        this.db.run('UPDATE webhook_deliveries SET state = ?, order_key = ?, position = ? WHERE id = ?', d.state, d.orderKey, d.position, d.id);
      }
    });
    for (const d of shuffled) this.queue(d);
  }

  private kick(key: string): void {
    if (this.stopped || this.inFlight.has(key)) return;
    const q = this.queues.get(key);
    if (!q || q.length === 0) {
      // a spilled key keeps its (empty) place until the refill brings its next rows
      if (q && this.spilled.has(key)) {
        this.low.add(key);
        this.refillSoon();
      } else {
        this.queues.delete(key);
      }
      return;
    }
    const head = q[0];
    const wait = head.nextAttemptAt - Date.now();
    if (wait > 0) {
      if (!this.timers.has(key)) {
        this.timers.set(key, setTimeout(() => {
          this.timers.delete(key);
          this.kick(key);
        }, Math.min(wait, MAX_TIMER_MS)));
      }
      return;
    }
    if (this.active >= MAX_CONCURRENCY) {
      this.waiting.add(key);
      return;
    }
    this.inFlight.add(key);
    this.active++;
    const run = this.attempt(head).then(
      (final) => {
        if (!final || q[0] !== head) return;
        q.shift();
        this.loaded.delete(head.id);
        if (this.spilled.has(key) && q.length <= this.window.perKey / 2) this.low.add(key);
        this.refillSoon();
      },
      () => undefined,
    ).finally(() => {
      this.active--;
      this.inFlight.delete(key);
      this.running.delete(run);
      this.kick(key);
      for (const next of this.waiting) {
        if (this.active >= MAX_CONCURRENCY) break;
        this.waiting.delete(next);
        this.kick(next);
      }
    });
    this.running.add(run);
  }

  /**
   * The parameters an attempt sends: a post-event carries its RetryCount; a pre-event does not, nor does a
   * Messaging StatusCallback or incoming-message webhook (Twilio documents no RetryCount there).
   */
  private paramsOf(d: Delivery): FormParams {
    return d.kind === 'pre' || MESSAGING_EVENT_TYPES.has(d.eventType) ? d.params : { ...d.params, RetryCount: String(d.retryCount) };
  }

  /** What an attempt sends, before framing: the URL without its overrides fragment, the parameters, the token. */
  private webhookRequest(d: Delivery, authToken: string): WebhookRequest {
    return { url: connectionOptions(d.url).url, method: d.method, params: this.paramsOf(d), idempotencyToken: d.idempotencyToken, authToken };
  }

  /** The request an attempt sends, as the journal shows it: URL, headers and body, signed with the auth token. */
  requestFor(d: Delivery, authToken: string): SignedRequest & { params: FormParams } {
    const request = this.webhookRequest(d, authToken);
    return { ...signedRequest(request), params: request.params };
  }


  /** One attempt; true when the delivery reached a final state. */
  private async attempt(d: Delivery): Promise<boolean> {
    const conn = connectionOptions(d.url);
    const account = this.accounts.get(d.accountSid);
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    let retryClass: RetryClass | undefined;
    const t0 = performance.now();
    // Absolute deadlines: the attempt gets its connect and read timeouts, and no more than what `#tt` has left
    // (a delivery resumed after a restart, past its total, gets one full attempt).
    const perAttempt = conn.connectTimeoutMs + conn.readTimeoutMs;
    const left = (d.attempts.length ? Date.parse(d.attempts[0].at) : started) + conn.totalTimeoutMs - started;
    if (!account) error = 'account no longer exists';
    else {
      try {
        const res = await this.transport.send({
          ...this.webhookRequest(d, account.authToken),
          connectTimeoutMs: conn.connectTimeoutMs,
          readTimeoutMs: conn.readTimeoutMs,
          totalTimeoutMs: left > 0 ? Math.min(perAttempt, left) : perAttempt,
        });
        status = res.status;
        if (status >= 500) retryClass = '5xx';
        else if (status >= 400) retryClass = '4xx';
        else if (status >= 300) retryClass = '4xx';
      } catch (e) {
        // dropped by stop(): not the consumer's doing; the row stays pending for the next start
        if (this.abandoning) return false;
        const c = classify(e);
        error = c.message;
        retryClass = c.retry;
      }
    }
    const latencyMs = Math.round((performance.now() - t0) * 100) / 100;
    d.attempts.push({ at: isoMillis(started), retryCount: d.retryCount, status, latencyMs, error });
    const ok = status !== null && status >= 200 && status < 300;
    const firstAttempt = Date.parse(d.attempts[0].at);
    // its row went with a reset while it was in flight: it ends here, announced but not written, and never retried
    const orphaned = this.resetInFlight.delete(d);
    const canRetry = !orphaned && !ok && retryClass !== undefined && conn.retryOn.has(retryClass) && d.retryCount < conn.retries && Date.now() - firstAttempt < conn.totalTimeoutMs;
    if (ok) d.state = 'delivered';
    else if (canRetry) {
      d.retryCount++;
      d.nextAttemptAt = Date.now() + Math.min(1000, 100 * 2 ** (d.retryCount - 1));
    } else d.state = 'failed';
    const final = d.state !== 'pending';
    if (final) d.finishedAt = Date.now();
    if (orphaned) {
      this.finished(d);
      return true;
    }
    this.db.transaction(() =>
      this.db.run(
        'UPDATE webhook_deliveries SET state = ?, attempts = ?, retry_count = ?, next_attempt_at = ?, finished_at = ? WHERE id = ?',
        d.state, JSON.stringify(d.attempts), d.retryCount, d.nextAttemptAt, d.finishedAt, d.id,
      ),
    );
    if (final) this.db.afterCommit(() => this.finished(d));
    return final;
  }

  private finished(d: Delivery): void {
    for (const listener of this.finishedListeners) listener(d);
  }

  /**
   * A callback that is not a Conversations event (Messaging API StatusCallback, a number's incoming-message
   * webhook): signed, retried, journaled and ordered like any delivery, by `orderKey`.
   */
  enqueueCallback(accountSid: string, url: string, eventType: string, params: FormParams, orderKey: string, method: 'GET' | 'POST' = 'POST'): void {
    const now = Date.now();
    this.enqueueDelivery({
      id: 0, accountSid, eventType, kind: 'post', conversationSid: null, webhookSid: null, orderKey: `${url}|${orderKey}`, position: 0,
      url, method, params, idempotencyToken: this.random.hex(32), state: 'pending', attempts: [], retryCount: 0,
      nextAttemptAt: now, holdGroup: null, duplicateOf: null, createdAt: now, finishedAt: null,
    });
  }

  // ---- pre-event webhooks ---------------------------------------------------------------------------------

  /** Whether a pre-event webhook is configured for this event (a cached look-up: the common case is no). */
  hasPreTarget(accountSid: string, serviceSid: string, eventType: string): boolean {
    return this.targets.preTarget(accountSid, serviceSid, eventType) !== undefined;
  }

  /**
   * Call the pre-event webhook for a proposed change, if one is configured for it. Twilio's rules: any 4xx or
   * 5xx rejects the change; no answer within 5 s (or no connection) lets it through unchanged; a 200 with a
   * JSON body may change fields. Journaled like every delivery.
   */
  async preEvent(accountSid: string, serviceSid: string, eventType: string, resource: string, current: Row | undefined, input: Record<string, unknown>, parents: Record<string, Row>, source: string, clientIdentity?: string): Promise<PreEventResult | undefined> {
    const target = this.targets.preTarget(accountSid, serviceSid, eventType);
    if (!target) return undefined;
    const params = form({ AccountSid: accountSid, EventType: eventType, Source: source, ClientIdentity: clientIdentity, ...preEventFields(this.db, accountSid, resource, current, input, parents) });
    const now = Date.now();
    const d = this.db.transaction(() =>
      this.insert({
        id: 0, accountSid, eventType, kind: 'pre', conversationSid: (parents.Conversation?.sid as string | undefined) ?? null, webhookSid: null,
        orderKey: `pre|${now}`, position: 0, url: target.url, method: target.method, params, idempotencyToken: this.random.hex(32),
        state: 'pending', attempts: [], retryCount: 0, nextAttemptAt: now, holdGroup: null, duplicateOf: null, createdAt: now, finishedAt: null,
      }),
    );
    const account = this.accounts.get(accountSid);
    const conn = connectionOptions(d.url);
    const t0 = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    let text = '';
    try {
      // 5 s for the whole exchange, connect included (send.ts enforces it where the request leaves); the
      // guard here also holds if the webhook thread is slow to answer, and stop() ends the wait at once
      const sent = this.transport.send({
        ...this.webhookRequest(d, account?.authToken ?? ''),
        connectTimeoutMs: Math.min(conn.connectTimeoutMs, PRE_EVENT_TIMEOUT_MS),
        readTimeoutMs: Math.min(conn.readTimeoutMs, PRE_EVENT_TIMEOUT_MS),
        totalTimeoutMs: PRE_EVENT_TIMEOUT_MS,
        maxBody: 1 << 20,
      });
      const res = await this.untilHalted(sent, PRE_EVENT_TIMEOUT_MS + 250);
      status = res.status;
      text = res.text;
    } catch (e) {
      error = classify(e).message;
    }
    const rejected = status !== null && status >= 400;
    let changes: Record<string, string> = {};
    if (status !== null && status >= 200 && status < 300 && text.trim().startsWith('{')) {
      try {
        const parsed = JSON.parse(text) as Record<string, unknown>;
        changes = Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
      } catch {
        changes = {};
      }
    }
    d.attempts.push({ at: isoMillis(now), retryCount: 0, status, latencyMs: Math.round((performance.now() - t0) * 100) / 100, error });
    d.state = status !== null && status >= 200 && status < 300 ? 'delivered' : 'failed';
    d.finishedAt = Date.now();
    this.db.transaction(() =>
      this.db.run('UPDATE webhook_deliveries SET state = ?, attempts = ?, finished_at = ? WHERE id = ?', d.state, JSON.stringify(d.attempts), d.finishedAt, d.id),
    );
    this.db.afterCommit(() => this.finished(d));
    return { rejected, status, url: conn.url, changes };
  }

  // ---- journal ---------------------------------------------------------------------------------------------

  view(d: Delivery): DeliveryView {
    const account = this.accounts.get(d.accountSid);
    const retry = d.attempts.length ? d.attempts[d.attempts.length - 1].retryCount : d.retryCount;
    const req = d.kind === 'studio' ? { headers: {}, params: d.params } : this.requestFor({ ...d, retryCount: retry }, account?.authToken ?? '');
    return {
      id: d.id,
      eventType: d.eventType,
      kind: d.kind,
      conversationSid: d.conversationSid,
      webhookSid: d.webhookSid,
      url: d.url,
      method: d.method,
      headers: req.headers,
      params: req.params,
      idempotencyToken: d.idempotencyToken,
      state: d.state,
      attempts: d.attempts,
      duplicateOf: d.duplicateOf,
    };
  }

  /** Deliveries in id order: the first `limit` that match, or with `newest` the last `limit`. */
  journal(filter: { eventType?: string; conversationSid?: string; state?: string; limit?: number; newest?: boolean } = {}): DeliveryView[] {
    const conditions = new Conditions()
      .equals('event_type', filter.eventType)
      .equals('conversation_sid', filter.conversationSid)
      .equals('state', filter.state);
    const limit = Math.min(Math.max(1, filter.limit ?? 1000), 10_000);
    const rows = this.db.all(
      `SELECT * FROM webhook_deliveries${conditions.where()} ORDER BY id${filter.newest ? ' DESC' : ''} LIMIT ?`,
      ...conditions.args,
      limit,
    );
    if (filter.newest) rows.reverse();
    return rows.map((r) => this.view(toDelivery(r)));
  }

  /** Forget finished deliveries (pending ones still go out). */
  clearJournal(): void {
    this.db.transaction(() => this.db.run("DELETE FROM webhook_deliveries WHERE state NOT IN ('pending', 'held')"));
  }

  /** Resolve with the first finished delivery (delivered, failed, dropped, studio) the predicate accepts. */
  waitForDelivery(predicate: (d: DeliveryView) => boolean, timeoutMs = 5000): Promise<DeliveryView> {
    for (const d of this.journal({ limit: 10_000 })) if (FINAL.includes(d.state) && predicate(d)) return Promise.resolve(d);
    return new Promise((resolve, reject) => {
      const listener = (d: Delivery) => {
        const view = this.view(d);
        if (!predicate(view)) return;
        clearTimeout(timer);
        this.finishedListeners.delete(listener);
        resolve(view);
      };
      const timer = setTimeout(() => {
        this.finishedListeners.delete(listener);
        reject(new Error(`no matching webhook delivery within ${timeoutMs} ms`));
      }, timeoutMs);
      this.finishedListeners.add(listener);
    });
  }
}
