/**
 * The REST request log (`GET /_emulator/requests`): one entry per Twilio REST request answered (/v1 and
 * /2010-04-01, refusals included: auth, test credentials, limits, faults, validation, 404/405), so a test can
 * prove what a client did or did NOT call. Bounded: a ring of the last `capacity` requests in memory, counting
 * the ones that fell off. Never a body or an Authorization header: method, path (with query), operation, status,
 * account, the webhook-enabled flag and the latency. Times are wall-clock (as the webhook journal's attempts), so
 * a manual emulator clock does not make every entry simultaneous.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { invalidParameter } from '../wire/errors.js';
import { compileGlob } from '../../shared/glob.js';
import { parseDateTime } from '../wire/dates.js';
import { webhooksEnabled } from './params.js';

export const REQUEST_LOG_CAPACITY = 10_000;

export interface RequestLogEntry {
  at: string;
  method: string;
  /** path and query as requested */
  path: string;
  /** the spec's operationId (2010 Messages: CreateMessage, FetchMessage, DeleteMessage, ListMessage); null for an unknown path */
  operationId: string | null;
  /** null: no answer was sent (an injected `reset` fault dropped the connection) */
  status: number | null;
  accountSid: string | null;
  webhookEnabled: boolean;
  latencyMs: number;
}

export interface RequestLogFilter {
  method?: string;
  /** a prefix of the path (query included), or a `*` glob of the path without query (as fault rules match) */
  path?: string;
  accountSid?: string;
  /** epoch ms: entries at or after it */
  since?: number;
  /** the first `limit` matches, oldest first */
  limit?: number;
}

interface Stored {
  at: number;
  method: string;
  path: string;
  operationId: string | null;
  status: number | null;
  accountSid: string | null;
  webhookEnabled: boolean;
  latencyMs: number;
}

export class RequestLog {
  private readonly ring: (Stored | undefined)[];
  /** index of the oldest entry */
  private head = 0;
  private size = 0;
  private droppedCount = 0;

  constructor(readonly capacity = REQUEST_LOG_CAPACITY) {
    this.ring = new Array<Stored | undefined>(capacity);
  }

  get dropped(): number {
    return this.droppedCount;
  }

  add(entry: Stored): void {
    if (this.size < this.capacity) {
      this.ring[(this.head + this.size) % this.capacity] = entry;
      this.size++;
      return;
    }
    // full: the oldest falls off
    this.ring[this.head] = entry;
    this.head = (this.head + 1) % this.capacity;
    this.droppedCount++;
  }

  /** Oldest first. */
  list(filter: RequestLogFilter = {}): RequestLogEntry[] {
    const method = filter.method?.toUpperCase();
    const glob = filter.path?.includes('*') ? compileGlob(filter.path) : undefined;
    const prefix = glob ? undefined : filter.path;
    const out: RequestLogEntry[] = [];
    for (let i = 0; i < this.size && (filter.limit === undefined || out.length < filter.limit); i++) {
      const e = this.ring[(this.head + i) % this.capacity] as Stored;
      if (method !== undefined && e.method !== method) continue;
      if (filter.accountSid !== undefined && e.accountSid !== filter.accountSid) continue;
      if (filter.since !== undefined && e.at < filter.since) continue;
      if (prefix !== undefined && !e.path.startsWith(prefix)) continue;
      if (glob && !glob(pathOnly(e.path))) continue;
      out.push({ ...e, at: new Date(e.at).toISOString() });
    }
    return out;
  }

  /** Forget everything (or one account's entries); the dropped count restarts with a full clear. */
  clear(accountSid?: string): void {
    if (accountSid === undefined) {
      this.ring.fill(undefined);
      this.head = 0;
      this.size = 0;
      this.droppedCount = 0;
      return;
    }
    const kept: Stored[] = [];
    for (let i = 0; i < this.size; i++) {
      const e = this.ring[(this.head + i) % this.capacity] as Stored;
      if (e.accountSid !== accountSid) kept.push(e);
    }
    this.ring.fill(undefined);
    kept.forEach((e, i) => (this.ring[i] = e));
    this.head = 0;
    this.size = kept.length;
  }
}

function pathOnly(url: string): string {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/** The query of `GET /_emulator/requests`, checked (400 naming the field). */
export function parseRequestLogFilter(query: Record<string, string | undefined>): RequestLogFilter {
  const filter: RequestLogFilter = {};
  if (query.method) filter.method = query.method;
  if (query.path) filter.path = query.path;
  if (query.accountSid) filter.accountSid = query.accountSid;
  if (query.since !== undefined && query.since !== '') {
    const since = parseDateTime(query.since);
    if (since === undefined) throw invalidParameter(`since must be an ISO 8601 date-time: ${query.since}`);
    filter.since = since;
  }
  if (query.limit !== undefined) {
    const limit = Number(query.limit);
    if (!(Number.isInteger(limit) && limit > 0)) throw invalidParameter('limit must be a positive integer');
    filter.limit = limit;
  }
  return filter;
}

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;

/**
 * The account a request names: the authenticated one (its test SID with test credentials); for a refused one, the
 * Basic username when it is an AccountSid (nothing else of the header is read), else the 2010 path's AccountSid.
 */
function accountOf(request: FastifyRequest): string | null {
  const account = request.account;
  if (account) return account.testCredentials ? account.testAccountSid : account.sid;
  const header = request.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const user = decoded.slice(0, Math.max(0, decoded.indexOf(':')));
    if (ACCOUNT_SID.test(user)) return user;
  }
  const fromPath = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\//.exec(request.url);
  return fromPath ? fromPath[1] : null;
}

function operationOf(request: FastifyRequest): string | null {
  return request.operationId ?? (request.routeOptions.config as { operationId?: string } | undefined)?.operationId ?? null;
}

/** Record a request as answered (`status` null: no answer, the connection was dropped). */
export function logRequest(log: RequestLog, request: FastifyRequest, reply: FastifyReply, status: number | null): void {
  log.add({
    at: Date.now(),
    method: request.method,
    path: request.url,
    operationId: operationOf(request),
    status,
    accountSid: accountOf(request),
    webhookEnabled: webhooksEnabled(request.headers['x-twilio-webhook-enabled']),
    latencyMs: Math.round(reply.elapsedTime * 100) / 100,
  });
}
