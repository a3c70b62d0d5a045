/**
 * One twilsock connection: `init` (token check), `update` (new token), tunnelled `message` requests, the client's
 * `reply` acks, `close`, `ping`, `telemetry.v1` and notification contexts; pushes `notification`, `client_update`
 * (token_about_to_expire) and `close` (410 when the token expires). Bounded: an init deadline, a heartbeat,
 * a cap on what waits to be sent.
 */
import { randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import { AccessTokenError, type ClientIdentity } from './access-token.js';
import { decodeFrame, encodeFrame, FramingError, type TwilsockFrame, type TwilsockHeader } from './framing.js';
import { decodeParams, statusText, UpstreamError, type ClientSession, type UpstreamAnswer, type UpstreamRequest } from './upstream.js';

/** what the session needs from the rest of the emulator (hub.ts) */
export interface SessionHost {
  now(): number;
  /** a real clock moves by itself; a manual one only when told (then `onClockChange` fires) */
  clockIsManual(): boolean;
  verify(token: unknown): ClientIdentity;
  /** the User of the identity, made on first connect as Twilio does */
  userSidFor(identity: ClientIdentity): string;
  continuation(token: unknown, identity: ClientIdentity): { token: string; reissued: boolean; reason?: string };
  route(session: ClientSession, request: UpstreamRequest): UpstreamAnswer | Promise<UpstreamAnswer>;
  /** every connection, from its first byte (only `ready` ones get pushes) */
  opened(session: TwilsockSession): void;
  /** the session passed init */
  ready(session: TwilsockSession): void;
  closed(session: TwilsockSession): void;
}

export interface SessionLimits {
  /** a connection must send a valid `init` within this (ms) */
  initDeadlineMs: number;
  /** a WebSocket ping this often; no pong by the next one ends the connection (ms) */
  heartbeatMs: number;
  /** warn `token_about_to_expire` this long before expiry (ms) */
  expiryWarningMs: number;
  /** frames waiting to be sent, in bytes, before the client is deemed stuck and cut */
  maxBufferedBytes: number;
  /** tunnelled requests one connection may have in flight (pre-events make them wait); more get 429 */
  maxInFlight: number;
  /** connections the emulator holds at once; more are closed with 1013 (try again later) */
  maxConnections: number;
}

/** the capabilities tce confirms (of those the client offers) */
const CAPABILITIES = ['client_update', 'telemetry.v1'];

function messageId(): string {
  return `TM${randomUUID().replace(/-/g, '')}`;
}

export class TwilsockSession implements ClientSession {
  accountSid = '';
  keySid = '';
  identity = '';
  serviceSid = '';
  expiresAt = 0;
  pushCredentialSid: string | undefined;
  userSid = '';
  readonly subscriptions = new Set<string>();
  /** when the socket opened (epoch ms, wall time), for the inspector */
  readonly openedAt = Date.now();
  /** the peer's address as the HTTP upgrade saw it (realtime-plugin.ts), for the inspector */
  remoteAddress: string | undefined;
  private state: 'awaiting-init' | 'ready' | 'closed' = 'awaiting-init';
  private initTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private alive = true;
  private warned = false;
  private inFlight = 0;

  constructor(
    private readonly socket: WebSocket,
    private readonly host: SessionHost,
    private readonly limits: SessionLimits,
    readonly httpBase: string,
  ) {
    this.initTimer = setTimeout(() => this.end(1008, 'no valid twilsock init in time'), limits.initDeadlineMs);
    this.heartbeat = setInterval(() => {
      if (!this.alive) return this.socket.terminate();
      this.alive = false;
      this.socket.ping();
    }, limits.heartbeatMs);
    this.heartbeat.unref();
    socket.on('pong', () => (this.alive = true));
    socket.on('message', (data) => this.receive(data as Buffer | Buffer[]));
    socket.on('close', () => this.dispose());
    socket.on('error', () => this.socket.terminate());
    host.opened(this);
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** tunnelled requests being answered now, for the inspector */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  private send(header: Omit<TwilsockHeader, 'payload_size'>, payload?: unknown): void {
    if (this.state === 'closed' || this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.limits.maxBufferedBytes) {
      // a client that does not read cannot hold the emulator's memory: it reconnects and replays what it missed
      this.socket.terminate();
      return;
    }
    this.socket.send(encodeFrame(header, payload));
  }

  notify(messageType: string, payload: unknown): void {
    if (this.state !== 'ready') return;
    this.send({ method: 'notification', id: messageId(), message_type: messageType, notification_ctx_id: '' }, payload);
  }

  private reply(id: string, code: number, extra: Record<string, unknown> = {}, payload?: unknown): void {
    this.send({ method: 'reply', id, status: { code, status: statusText(code) }, ...extra }, payload);
  }

  private refuse(id: string, error: AccessTokenError): void {
    this.send({ method: 'reply', id, status: { code: error.status, status: statusText(error.status), errorCode: error.code, description: error.message } });
  }

  private receive(data: Buffer | Buffer[]): void {
    let frame: TwilsockFrame;
    try {
      frame = decodeFrame(Array.isArray(data) ? Buffer.concat(data) : data);
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      // 406: the server cannot parse the protocol (the SDK treats it as fatal)
      this.send({ method: 'close', id: messageId(), status: { code: 406, status: 'Not Acceptable', description: error.message } });
      return this.end(1002, 'twilsock framing error');
    }
    const { header } = frame;
    try {
      this.dispatch(frame);
    } catch (error) {
      // a fault of tce's, not the client's: the client retries (500 on init backs off), the emulator stays up
      this.reply(header.id, 500, { status: { code: 500, status: 'Internal Server Error', description: `tce failed on ${header.method}: ${(error as Error).message}` } });
    }
  }

  private dispatch(frame: TwilsockFrame): void {
    const { header } = frame;
    if (this.state === 'awaiting-init' && header.method !== 'init' && header.method !== 'close') {
      this.send({ method: 'close', id: messageId(), status: { code: 406, status: 'Not Acceptable', description: `${header.method} before init` } });
      return this.end(1002, 'twilsock message before init');
    }
    switch (header.method) {
      case 'init':
        return this.init(header);
      case 'update':
        return this.update(header);
      case 'message':
        return void this.upstream(frame);
      case 'reply':
        // the client's ack of a notification: nothing waits for it
        return;
      case 'close':
        return this.end(1000, 'closed by the client');
      case 'ping':
      case 'telemetry.v1':
      case 'put_notification_ctx':
      case 'delete_notification_ctx':
        return this.reply(header.id, 200);
      default:
        return this.reply(header.id, 400, { status: { code: 400, status: 'Bad Request', description: `unknown twilsock method ${header.method}` } });
    }
  }

  private adopt(identity: ClientIdentity): void {
    this.accountSid = identity.accountSid;
    this.keySid = identity.keySid;
    this.identity = identity.identity;
    this.serviceSid = identity.serviceSid;
    this.expiresAt = identity.expiresAt;
    this.pushCredentialSid = identity.pushCredentialSid;
    this.warned = false;
    this.scheduleExpiry();
  }

  /** the header's token checked; undefined when it is refused (the refusal already sent) */
  private verified(header: TwilsockHeader): ClientIdentity | undefined {
    try {
      return this.host.verify(header.token);
    } catch (error) {
      if (!(error instanceof AccessTokenError)) throw error;
      this.refuse(header.id, error);
      return undefined;
    }
  }

  private init(header: TwilsockHeader): void {
    if (this.state === 'ready') return this.reply(header.id, 400, { status: { code: 400, status: 'Bad Request', description: 'init was already done' } });
    const identity = this.verified(header);
    if (!identity) return;
    this.adopt(identity);
    this.userSid = this.host.userSidFor(identity);
    const continuation = this.host.continuation(header.continuation_token, identity);
    clearTimeout(this.initTimer);
    this.initTimer = undefined;
    this.state = 'ready';
    const offered = Array.isArray(header.capabilities) ? (header.capabilities as unknown[]) : [];
    this.reply(header.id, 200, {
      continuation_token: continuation.token,
      continuation_token_status: { reissued: continuation.reissued, ...(continuation.reason ? { reissue_reason: 'INVALID', reissue_message: continuation.reason } : {}) },
      capabilities: CAPABILITIES.filter((c) => offered.includes(c)),
      init_registrations: [],
      debug_info: { server: 'tce' },
    });
    this.host.ready(this);
  }

  private update(header: TwilsockHeader): void {
    const identity = this.verified(header);
    if (!identity) return;
    if (identity.accountSid !== this.accountSid || identity.identity !== this.identity || identity.serviceSid !== this.serviceSid) {
      return this.refuse(header.id, new AccessTokenError(20106, `a token update must keep the identity and service: this connection is ${this.identity} in ${this.serviceSid}`, 403));
    }
    this.adopt(identity);
    this.reply(header.id, 200);
  }

  private async upstream(frame: TwilsockFrame): Promise<void> {
    const { header } = frame;
    const http = (header.http_request ?? {}) as Record<string, unknown>;
    const request: UpstreamRequest = {
      host: typeof http.host === 'string' ? http.host : '',
      path: typeof http.path === 'string' ? http.path : '',
      method: typeof http.method === 'string' ? http.method : 'GET',
      params: decodeParams(http.params),
      headers: typeof http.headers === 'object' && http.headers !== null ? (http.headers as Record<string, string>) : {},
      body: frame.json ?? frame.text,
    };
    let answer: UpstreamAnswer;
    this.inFlight++;
    try {
      if (this.inFlight > this.limits.maxInFlight) throw new UpstreamError(429, 20429, `Too Many Requests: at most ${this.limits.maxInFlight} requests in flight per connection`);
      answer = await this.host.route(this, request);
    } catch (error) {
      const e = error instanceof UpstreamError ? error : new UpstreamError(500, 20500, `tce failed on ${request.method} ${request.path}: ${(error as Error).message}`);
      answer = { status: e.status, body: { status: e.status, code: e.code, message: e.message } };
    } finally {
      this.inFlight--;
    }
    this.reply(
      header.id,
      200,
      { http_status: { code: answer.status, status: statusText(answer.status) }, http_headers: { 'Content-Type': 'application/json' } },
      answer.body ?? {},
    );
    answer.after?.();
  }

  /** Warn before the token expires, close with 410 when it has (by the emulator's clock, a manual one too). */
  checkExpiry(): void {
    if (this.state !== 'ready') return;
    const left = this.expiresAt - this.host.now();
    if (left <= 0) {
      this.send({ method: 'close', id: messageId(), status: { code: 410, status: 'Token expired', errorCode: 20104, description: 'Access Token expired' } });
      return this.end(1000, 'token expired');
    }
    if (left <= this.limits.expiryWarningMs && !this.warned) {
      this.warned = true;
      this.send({ method: 'client_update', id: messageId(), client_update_type: 'token_about_to_expire' });
    }
    this.scheduleExpiry();
  }

  private scheduleExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.host.clockIsManual()) return;
    const left = this.expiresAt - this.host.now();
    const next = left > this.limits.expiryWarningMs && !this.warned ? left - this.limits.expiryWarningMs : left;
    this.expiryTimer = setTimeout(() => this.checkExpiry(), Math.min(Math.max(next, 0) + 5, 2 ** 31 - 1));
    this.expiryTimer.unref();
  }

  /** Cut the connection as a network failure would (no close frame): the SDK reconnects by itself. */
  drop(): void {
    this.socket.terminate();
  }

  /** End the connection from the server's side. */
  end(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.socket.close(code, reason);
    this.dispose();
  }

  private dispose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.initTimer);
    clearTimeout(this.expiryTimer);
    clearInterval(this.heartbeat);
    this.subscriptions.clear();
    this.host.closed(this);
  }
}
