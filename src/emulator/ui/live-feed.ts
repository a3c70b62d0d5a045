/**
 * The inspector's live stream (`GET /_emulator/ui/api/events`, server-sent events): what changed, so an open page
 * fetches again what it shows. Fed by the after-commit change feed (`core.events.subscribe`) and by webhook
 * delivery attempts, read from the delivery table while someone listens.
 *
 * Bounded everywhere: changes are batched per tick (one write per client per tick, at most MAX_BATCH items, past
 * that one "overflow" item that says "fetch everything again"); a client whose socket holds more than
 * MAX_BUFFERED bytes unsent is dropped; at most MAX_CLIENTS at once; a heartbeat keeps proxies from timing out.
 * Nothing is subscribed or polled while no one listens.
 */
import type { ServerResponse } from 'node:http';
import type { EmulatorCore } from '../core.js';
import type { ResourceEvent } from '../resources/context.js';

export const MAX_CLIENTS = 32;
const MAX_BATCH = 200;
const MAX_BUFFERED = 256 * 1024;
const TICK_MS = 100;
const WEBHOOK_POLL_MS = 250;
const HEARTBEAT_MS = 15_000;
/** unfinished deliveries watched for new attempts (more are still seen when they finish or appear) */
const MAX_WATCHED = 10_000;

export interface LiveItem {
  kind: 'resource' | 'webhook' | 'overflow';
  /** resource: the resource's name (Conversation, ConversationMessage, ConversationMessageReceipt, …) */
  resource?: string;
  action?: string;
  sid?: string;
  conversationSid?: string | null;
  accountSid?: string;
}

export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private batch: LiveItem[] = [];
  private overflowed = false;
  private unsubscribe?: () => void;
  private tick?: NodeJS.Timeout;
  private poll?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  /** webhook watch: the highest delivery id seen, and each unfinished delivery's signature (state + attempts) */
  private lastId = 0;
  private readonly unfinished = new Map<number, { conversationSid: string | null; signature: string }>();
  private closed = false;

  constructor(private readonly core: EmulatorCore) {}

  get size(): number {
    return this.clients.size;
  }

  /** Attach a response (already hijacked from fastify); false when full or closed. */
  add(res: ServerResponse): boolean {
    if (this.closed || this.clients.size >= MAX_CLIENTS) return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\n: connected\n\n`);
    this.clients.add(res);
    res.on('close', () => this.remove(res));
    if (this.clients.size === 1) this.start();
    return true;
  }

  private remove(res: ServerResponse): void {
    if (!this.clients.delete(res)) return;
    if (!res.writableEnded) res.end();
    if (this.clients.size === 0) this.stop();
  }

  private start(): void {
    this.unsubscribe = this.core.events.subscribe((event) => this.onChange(event));
    const max = this.core.db.get('SELECT max(id) AS m FROM webhook_deliveries');
    this.lastId = Number(max?.m ?? 0);
    this.unfinished.clear();
    this.watchWebhooks(false);
    this.poll = setInterval(() => this.watchWebhooks(true), WEBHOOK_POLL_MS);
    this.heartbeat = setInterval(() => this.broadcast(': heartbeat\n\n'), HEARTBEAT_MS);
    this.poll.unref();
    this.heartbeat.unref();
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.tick) clearTimeout(this.tick);
    if (this.poll) clearInterval(this.poll);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.tick = this.poll = this.heartbeat = undefined;
    this.batch = [];
    this.overflowed = false;
  }

  private onChange(event: ResourceEvent): void {
    const row = event.row;
    const conversationSid = event.resource === 'Conversation' ? (row.sid as string) : ((row.conversation_sid as string | undefined) ?? null);
    this.push({ kind: 'resource', resource: event.resource, action: event.type, sid: row.sid as string, conversationSid, accountSid: event.accountSid });
  }

  private push(item: LiveItem): void {
    if (this.batch.length >= MAX_BATCH) this.overflowed = true;
    else this.batch.push(item);
    if (!this.tick) {
      this.tick = setTimeout(() => this.flush(), TICK_MS);
      this.tick.unref();
    }
  }

  private flush(): void {
    this.tick = undefined;
    const items = this.overflowed ? [...this.batch, { kind: 'overflow' as const }] : this.batch;
    this.batch = [];
    this.overflowed = false;
    if (items.length) this.broadcast(`data: ${JSON.stringify(items)}\n\n`);
  }

  private broadcast(chunk: string): void {
    for (const res of this.clients) {
      // a client that does not read is dropped, not buffered for without end
      if (res.writableLength > MAX_BUFFERED) this.remove(res);
      else res.write(chunk);
    }
  }

  /**
   * Webhook attempts are written by the delivery service, not the change feed: the new rows (by id) and the
   * unfinished ones (a small partial index) are compared with the last look.
   */
  private watchWebhooks(report: boolean): void {
    if (this.closed) return;
    const db = this.core.db;
    for (const r of db.all('SELECT id, conversation_sid FROM webhook_deliveries WHERE id > ? ORDER BY id LIMIT 1000', this.lastId)) {
      this.lastId = Number(r.id);
      if (report) this.push({ kind: 'webhook', sid: String(r.id), conversationSid: (r.conversation_sid as string | null) ?? null });
    }
    const seen = new Set<number>();
    for (const r of db.all('SELECT id, conversation_sid, state, length(attempts) AS n FROM webhook_deliveries WHERE finished_at IS NULL LIMIT ?', MAX_WATCHED)) {
      const id = Number(r.id);
      seen.add(id);
      const signature = `${r.state as string}:${r.n as number}`;
      const before = this.unfinished.get(id);
      if (before && before.signature !== signature && report) this.push({ kind: 'webhook', sid: String(id), conversationSid: before.conversationSid });
      this.unfinished.set(id, { conversationSid: (r.conversation_sid as string | null) ?? null, signature });
    }
    for (const [id, was] of this.unfinished) {
      if (seen.has(id)) continue;
      this.unfinished.delete(id);
      if (report) this.push({ kind: 'webhook', sid: String(id), conversationSid: was.conversationSid });
    }
  }

  /** Close every stream (the emulator is closing). */
  close(): void {
    this.closed = true;
    for (const res of [...this.clients]) this.remove(res);
    this.stop();
  }
}
