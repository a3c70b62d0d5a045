/**
 * Recording a session for `tce contracts diff`: a twilio SDK http client that passes every request through (to
 * real Twilio, or to the emulator when given a base URL) and records the exchange sanitized, plus
 * `recordWebhook` for what a receiver saw.
 *
 *   const recorder = new Recorder({ accountSid });
 *   const client = twilio(apiKey, apiSecret, { accountSid, httpClient: recorder.httpClient() });
 *   …
 *   recorder.save('recordings/nightly');
 *
 * Like src/client.ts, this module needs `twilio` installed; `tce contracts diff` does not load it.
 */
import RequestClient from 'twilio/lib/base/RequestClient.js';
import { RECORDING_FORMAT, RECORDING_VERSION, REPLAYED_HEADERS, writeRecording, type Entry, type Pairs, type Recording } from './recording.js';
import { sanitize, sanitizeHeaders, sanitizePairs, type SidMap } from './sanitize.js';

export interface RecorderOptions {
  /** the account the session runs as: recorded first, as {AC1}, and bound to the replay's account */
  accountSid?: string;
  /** more strings to redact wherever they appear (the credentials a client authenticates with are added) */
  secrets?: string[];
}

export interface WebhookSeen {
  method?: string;
  /** the URL or path the webhook was sent to */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** the raw form body, or its parsed params */
  body: string | Record<string, string | string[]>;
}

/** the page links of an answer that a later request may fetch */
const PAGE_LINKS = ['meta.next_page_url', 'meta.previous_page_url', 'meta.first_page_url', 'meta.url', 'next_page_uri', 'previous_page_uri', 'first_page_uri', 'uri'];

export class Recorder {
  private sids: SidMap = {};
  /** kept in a list (sanitize takes one) but each secret once: every request adds its password again */
  private readonly secrets: string[];
  private readonly list: Entry[] = [];
  private readonly account?: string;
  /** normalized path?query of each page link → the entry and link that gave it */
  private readonly links = new Map<string, { n: number; link: string }>();

  constructor(options: RecorderOptions = {}) {
    this.secrets = [...(options.secrets ?? [])];
    if (options.accountSid) this.account = this.clean(options.accountSid);
  }

  /** an SDK http client that records through this recorder; `baseUrl` points it at an emulator */
  httpClient(options: { baseUrl?: string | URL } & RequestClient.RequestClientOptions = {}): RecordingRequestClient {
    return new RecordingRequestClient(this, options);
  }

  get entries(): readonly Entry[] {
    return this.list;
  }

  toJSON(): Recording {
    return { format: RECORDING_FORMAT, version: RECORDING_VERSION, ...(this.account ? { account: this.account } : {}), entries: this.list };
  }

  /** write DIR/recording.json; returns its path */
  save(dir: string): string {
    return writeRecording(dir, this.toJSON());
  }

  recordWebhook(seen: WebhookSeen): void {
    const url = new URL(seen.url, 'http://receiver.invalid');
    const raw: Pairs = typeof seen.body === 'string' ? [...new URLSearchParams(seen.body)] : toPairs(seen.body);
    const get = (name: string) => raw.find(([k]) => k === name)?.[1];
    const eventType = get('EventType') ?? (get('MessageStatus') !== undefined ? 'message-status' : get('Body') !== undefined ? 'incoming-message' : 'unknown');
    const opts = { secrets: this.secrets, shapeDates: true };
    const headers = sanitizeHeaders(seen.headers, this.sids, opts);
    const params = sanitizePairs(raw, headers.sids, opts);
    const path = sanitize(url.pathname, params.sids, opts);
    this.sids = path.sids;
    this.list.push({ kind: 'webhook', n: this.list.length + 1, eventType, method: (seen.method ?? 'POST').toUpperCase(), path: path.value, headers: headers.value, params: params.value });
  }

  /** @internal the RecordingRequestClient's report of one exchange */
  recordExchange(opts: RequestClient.RequestOptions<unknown>, headers: Record<string, string>, status: number, rawBody: unknown): void {
    if (opts.password && !this.secrets.includes(opts.password)) this.secrets.push(opts.password);
    const url = new URL(opts.uri);
    const query: Pairs = [...url.searchParams, ...toPairs(opts.params as Record<string, unknown> | undefined)];
    const follow = this.links.get(normalize(url.pathname, query));
    let body: unknown = rawBody;
    if (typeof body === 'string') {
      try {
        body = body === '' ? null : JSON.parse(body);
      } catch {
        // not JSON: kept as text
      }
    }
    const n = this.list.length + 1;
    this.rememberLinks(n, body, url);
    const plain = { secrets: this.secrets };
    const p = sanitize(url.pathname, this.sids, plain);
    const q = sanitizePairs(query, p.sids, plain);
    const f = sanitizePairs(toPairs(opts.data as Record<string, unknown> | undefined), q.sids, plain);
    const replayed = Object.fromEntries(Object.entries(headers).filter(([k]) => REPLAYED_HEADERS.has(k.toLowerCase())));
    const h = sanitizeHeaders(replayed, f.sids, plain);
    const b = sanitize(body ?? null, h.sids, { secrets: this.secrets, shapeDates: true });
    this.sids = b.sids;
    this.list.push({
      kind: 'rest', n, method: opts.method.toUpperCase(), host: url.host, path: p.value, query: q.value, form: f.value,
      headers: h.value, ...(follow ? { follow } : {}), status, body: b.value,
    });
  }

  private clean(sid: string): string {
    const out = sanitize(sid, this.sids);
    this.sids = out.sids;
    return out.value;
  }

  private rememberLinks(n: number, body: unknown, base: URL): void {
    for (const link of PAGE_LINKS) {
      const value = link.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), body);
      if (typeof value !== 'string' || value === '') continue;
      const target = new URL(value, base);
      const key = normalize(target.pathname, [...target.searchParams]);
      if (!this.links.has(key)) this.links.set(key, { n, link });
    }
  }
}

/** A twilio SDK RequestClient that records each exchange; with a baseUrl it sends to that origin (the emulator). */
export class RecordingRequestClient extends RequestClient {
  private readonly base?: URL;

  constructor(private readonly recorder: Recorder, options: { baseUrl?: string | URL } & RequestClient.RequestClientOptions = {}) {
    const { baseUrl, ...rest } = options;
    super(rest);
    if (baseUrl) this.base = new URL(baseUrl);
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>) {
    // the request as the SDK built it; RequestClient adds Authorization to the headers object it is given
    const headers = { ...((opts.headers ?? {}) as Record<string, string>) };
    const target = new URL(opts.uri);
    if (this.base) {
      target.protocol = this.base.protocol;
      target.host = this.base.host;
    }
    const response = await super.request<TData>({ ...opts, uri: target.toString(), headers: { ...headers } });
    this.recorder.recordExchange(opts as RequestClient.RequestOptions<unknown>, headers, response.statusCode, response.body);
    return response;
  }
}

function toPairs(params: Record<string, unknown> | undefined): Pairs {
  const out: Pairs = [];
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, v instanceof Date ? v.toISOString() : String(v)]);
  }
  return out;
}

function normalize(path: string, query: Pairs): string {
  return `${path}?${[...query].sort(([a, x], [b, y]) => (a === b ? x.localeCompare(y) : a.localeCompare(b))).map(([k, v]) => `${k}=${v}`).join('&')}`;
}
