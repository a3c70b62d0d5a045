/**
 * The client-SDK side of one emulator: the connected twilsock sessions, the Sync event log and its feed from the
 * core's change events, tunnelled-request routing by host (`aim.*` → aim.ts, `cds.*` → cds.ts), continuation
 * tokens, and live pushes of view events to the sessions subscribed to them.
 */
import { randomBytes } from 'node:crypto';
import type { EmulatorCore } from '../core.js';
import { ensureUser } from '../resources/users.js';
import { providePresence } from '../resources/presence.js';
import type { Account } from '../accounts.js';
import { verifyAccessToken, type ClientIdentity } from './access-token.js';
import { handleAim } from './aim.js';
import { handleCds } from './cds.js';
import { handleErs } from './ers.js';
import type { TwilsockSession } from './session.js';
import { SyncEventLog } from './sync-events.js';
import { MediaStore } from './media-store.js';
import { SyncFeed } from './sync-feed.js';
import { serviceOfHost, UpstreamError, type ClientSession, type UpstreamAnswer, type UpstreamRequest } from './upstream.js';
import { parseViewId, viewId } from './views.js';

/** A connected client as the in-process handle and the inspector show it. */
export interface ClientConnection {
  identity: string;
  accountSid: string;
  serviceSid: string;
  /** ISO 8601 */
  connectedAt: string;
  tokenExpiresAt: string;
  subscriptions: string[];
}

/** continuation tokens remembered (a reconnecting client presents its last one) */
const CONTINUATIONS = 10_000;
/**
 * How long after the last client left changes are still logged (wall time): a client whose connection dropped
 * replays what it missed when it is back. Before any client ever connected, REST pays nothing for the feed.
 */
const FEED_GRACE_MS = 10 * 60_000;

/** each core's hub, for whoever holds the core (the in-process handle, an inspector page) */
const hubs = new WeakMap<EmulatorCore, RealtimeHub>();

/** The client-SDK hub of an emulator core, once its app is built (undefined before). */
export function realtimeHubOf(core: EmulatorCore): RealtimeHub | undefined {
  return hubs.get(core);
}

export class RealtimeHub {
  readonly log = new SyncEventLog();
  readonly sessions = new Set<TwilsockSession>();
  readonly media: MediaStore;
  private readonly feed: SyncFeed;
  private readonly continuations = new Map<string, string>();
  /** conversation SID → the identity that created it through a client (bounded, oldest forgotten) */
  private readonly creatorsBySid = new Map<string, string>();
  private readonly creators = {
    remember: (conversationSid: string, identity: string) => {
      if (this.creatorsBySid.size >= CONTINUATIONS) this.creatorsBySid.delete(this.creatorsBySid.keys().next().value as string);
      this.creatorsBySid.set(conversationSid, identity);
    },
    creatorOf: (conversationSid: string) => this.creatorsBySid.get(conversationSid),
  };
  private readonly stops: (() => void)[] = [];
  /** changes the feed could not turn into view events (see accept's catch), for diagnosis */
  feedErrors = 0;
  lastFeedError: string | undefined;
  /** wall time the last client left; undefined before any connected */
  private lastLeftAt: number | undefined;
  /** users that had a client connected since start (REST is_online is null for the others; bounded, oldest forgotten) */
  private readonly everOnline = new Set<string>();

  constructor(private readonly core: EmulatorCore) {
    this.media = new MediaStore(core.random);
    hubs.set(core, this);
    providePresence(core.db, (userSid) => (this.online(userSid) ? true : this.everOnline.has(userSid) ? false : undefined));
    const feed = new SyncFeed({ db: core.db, log: this.log, usersWatching: (sid) => this.usersWatching(sid) });
    this.feed = feed;
    this.stops.push(core.events.subscribe((event) => {
      if (!this.feeding()) return;
      try {
        feed.accept(event);
      } catch (error) {
        // the after-commit listeners of other parts (webhooks, channel) must run whatever a view makes of a row;
        // clients miss this one change and catch up on their next read
        this.feedErrors++;
        this.lastFeedError = (error as Error).message;
      }
    }));
    this.stops.push(this.log.subscribe((event) => {
      const messageType = `com.twilio.rtd.cds.${event.objectType}`;
      for (const session of this.sessions) {
        if (session.subscriptions.has(event.objectSid)) session.notify(messageType, { event_type: event.eventType, event: event.event });
      }
      if (event.eventType === 'map_item_removed') this.revokeOnLeave(event.objectSid, event.event.item_data);
    }));
    // a manual clock moves by steps: tokens may have expired with the last one
    this.stops.push(core.clock.onChange(() => {
      for (const session of this.sessions) session.checkExpiry();
    }));
  }

  private feeding(): boolean {
    return this.sessions.size > 0 || (this.lastLeftAt !== undefined && Date.now() - this.lastLeftAt < FEED_GRACE_MS);
  }

  /**
   * A participant left (its roster item removed, the event already pushed): its clients stop getting the
   * conversation's messages and roster, as they could not read them any more.
   */
  private revokeOnLeave(objectSid: string, data: unknown): void {
    const ref = parseViewId(objectSid);
    const identity = (data as { identity?: unknown } | undefined)?.identity;
    if (ref?.kind !== 'roster' || typeof identity !== 'string') return;
    const streams = [viewId({ kind: 'messages', ownerSid: ref.ownerSid }), objectSid];
    for (const session of this.sessions) {
      if (session.identity === identity) for (const sid of streams) session.subscriptions.delete(sid);
    }
  }

  now(): number {
    return this.core.clock.now();
  }

  clockIsManual(): boolean {
    return this.core.clock.currentMode === 'manual';
  }

  verify(token: unknown): ClientIdentity {
    return verifyAccessToken(this.core.db, token, this.core.clock.now());
  }

  userSidFor(identity: ClientIdentity): string {
    const account = this.core.accounts.get(identity.accountSid) as Account;
    const ctx = this.core.systemContext(account, '');
    return this.core.db.transaction(() => ensureUser(ctx, identity.serviceSid, identity.identity)).sid as string;
  }

  /** The token a client resumes with: its own if tce issued it to the same identity, else a new one (reissued). */
  continuation(token: unknown, identity: ClientIdentity): { token: string; reissued: boolean; reason?: string } {
    const who = `${identity.accountSid}|${identity.serviceSid}|${identity.identity}`;
    if (typeof token === 'string' && this.continuations.get(token) === who) return { token, reissued: false };
    const fresh = `CT${randomBytes(16).toString('hex')}`;
    if (this.continuations.size >= CONTINUATIONS) this.continuations.delete(this.continuations.keys().next().value as string);
    this.continuations.set(fresh, who);
    return typeof token === 'string' && token !== ''
      ? { token: fresh, reissued: true, reason: 'the continuation token is unknown to this emulator or belongs to another identity' }
      : { token: fresh, reissued: false };
  }

  route(session: ClientSession, request: UpstreamRequest): UpstreamAnswer | Promise<UpstreamAnswer> {
    switch (serviceOfHost(request.host)) {
      case 'aim':
        return handleAim({ core: this.core, media: this.media, creators: this.creators, sessionsOf: (service, identities) => this.sessionsOf(service, identities) }, session, request);
      case 'ers':
        return handleErs(this.core, session, request);
      case 'cds':
        return handleCds({ db: this.core.db, log: this.log, online: (userSid) => this.online(userSid) }, session, request);
      default:
        throw new UpstreamError(404, 20404, `tce serves the aim, cds and ers hosts over twilsock, not ${request.host || '(no host)'}`);
    }
  }

  sessionsOf(serviceSid: string, identities: Set<string>): ClientSession[] {
    return [...this.sessions].filter((s) => s.ready && s.serviceSid === serviceSid && identities.has(s.identity));
  }

  private usersWatching(conversationSid: string): string[] {
    const document = viewId({ kind: 'conversation', ownerSid: conversationSid });
    return [...new Set([...this.sessions].filter((s) => s.subscriptions.has(document)).map((s) => s.userSid))];
  }

  connections(): ClientConnection[] {
    return [...this.sessions].filter((s) => s.ready).map((s) => ({
      identity: s.identity,
      accountSid: s.accountSid,
      serviceSid: s.serviceSid,
      connectedAt: new Date(s.openedAt).toISOString(),
      tokenExpiresAt: new Date(s.expiresAt).toISOString(),
      subscriptions: [...s.subscriptions].sort(),
    }));
  }

  /** Cut the connections of an identity (all when none is given), as a network failure would; how many. */
  drop(identity?: string): number {
    const cut = [...this.sessions].filter((s) => s.ready && (identity === undefined || s.identity === identity));
    for (const session of cut) session.drop();
    return cut.length;
  }

  online(userSid: string): boolean {
    for (const s of this.sessions) if (s.ready && s.userSid === userSid) return true;
    return false;
  }

  /** A session passed init: its user may have come online. */
  ready(session: TwilsockSession): void {
    if (this.everOnline.size >= CONTINUATIONS && !this.everOnline.has(session.userSid)) this.everOnline.delete(this.everOnline.values().next().value as string);
    this.everOnline.add(session.userSid);
    if ([...this.sessions].filter((s) => s.ready && s.userSid === session.userSid).length === 1) this.feed.reachability(session.userSid, true);
  }

  opened(session: TwilsockSession): void {
    this.sessions.add(session);
  }

  closed(session: TwilsockSession): void {
    this.sessions.delete(session);
    if (session.userSid && !this.online(session.userSid)) this.feed.reachability(session.userSid, false);
    if (this.sessions.size === 0) this.lastLeftAt = Date.now();
  }

  /** Close every connection (the emulator is closing) and stop listening to the core. */
  stop(): void {
    for (const session of [...this.sessions]) session.end(1001, 'the emulator is closing');
    for (const stop of this.stops.splice(0)) stop();
  }
}
