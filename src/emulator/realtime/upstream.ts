/**
 * Tunnelled HTTP requests (twilsock `message`): the SDK names a host and a path; `aim.*` is the Conversations
 * client API (aim.ts), `cds.*` the Sync service (cds.ts). The answer goes back in the `reply` as
 * `http_status` + body. Nothing here is HTTP on the wire: it is one WebSocket frame each way.
 */
import type { ClientIdentity } from './access-token.js';

/** The client a session speaks for, once its token is verified. */
export interface ClientSession extends ClientIdentity {
  /** the User (US…) of the identity in the service, made at connect as Twilio does */
  userSid: string;
  /** origin of the emulator as the client reached it (for media and REST URLs) */
  httpBase: string;
  /** Sync object SIDs this client subscribed to */
  readonly subscriptions: Set<string>;
  /** push a notification frame (`message_type` + JSON payload) */
  notify(messageType: string, payload: unknown): void;
}

export interface UpstreamRequest {
  /** e.g. aim.us1.twilio.com */
  host: string;
  /** the path, without its query */
  path: string;
  method: string;
  /** the query, decoded */
  params: Record<string, string>;
  headers: Record<string, string>;
  /** the body: parsed JSON, or text (form bodies) */
  body: unknown;
}

export interface UpstreamAnswer {
  status: number;
  body?: unknown;
  /** work to do once the reply is sent (subscription replays come after the reply, as at Twilio) */
  after?: () => void;
}

/** An answer that is an error: `{status, code, message}` as Twilio's client APIs write them. */
export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized',
  403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 413: 'Payload Too Large',
  429: 'Too Many Requests', 500: 'Internal Server Error',
};

export function statusText(code: number): string {
  return STATUS_TEXT[code] ?? 'Unknown';
}

/** Which service a host is: its first label (aim.us1.twilio.com → aim). */
export function serviceOfHost(host: string): string {
  return host.split('.')[0]?.toLowerCase() ?? '';
}

/** Query parameters as the SDK sends them (split, not decoded); a value that is not valid %-encoding stays as sent. */
export function decodeParams(params: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (typeof params !== 'object' || params === null) return out;
  for (const [key, value] of Object.entries(params as Record<string, unknown>)) {
    const raw = Array.isArray(value) ? value[value.length - 1] : value;
    if (typeof raw !== 'string') continue;
    try {
      out[key] = decodeURIComponent(raw.replace(/\+/g, ' '));
    } catch {
      out[key] = raw;
    }
  }
  return out;
}

/** path segments, %-decoded ('' for one that is not valid %-encoding: it then names nothing) */
export function segments(path: string): string[] {
  return path.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return '';
    }
  });
}
