/**
 * The system under test: the reference router, started here (createRouter, SQLite `:memory:` unless stores are
 * given, pointed at the target), or the user's service at `--consumer <url>`. Either way it is reached only over
 * HTTP, as Twilio reaches it: its webhook paths, and, when it has them, the router's API (`/api/*`: state,
 * suppressions, sends) behind a bearer token.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { Target } from './target.js';

/** the paths webhooks are posted to (the router's defaults; a `--consumer` serves the same) */
export const CONSUMER_PATHS = {
  webhook: '/twilio/conversations/webhook',
  inbound: '/twilio/messaging/inbound',
  status: '/twilio/messaging/status',
} as const;

/** the numbers scenarios text from and to (the consumer's defaults for inbound conversations) */
export const PROXY = '+15550001000';
export const WHATSAPP_PROXY = 'whatsapp:+15550001000';
/** the WhatsApp template the router falls back with outside the 24 h window */
export const TEMPLATE_SID = 'HX0123456789abcdef0123456789abcdef';

export interface StateView {
  conversation: { sid: string; uniqueName: string | null; state: string | null; attributes: string | null; removed: boolean };
  participants: Array<{ sid: string; address: string | null; proxyAddress: string | null; reachable: boolean; suppressed: boolean; lastErrorCode: number | null; removed: boolean }>;
  messages: Array<{ sid: string; index: number | null; author: string | null; body: string | null; removed?: boolean; delivery: Record<string, string>; errorCodes?: Record<string, number> }>;
}

export interface ApiAnswer {
  status: number;
  body: any;
}

export interface Consumer {
  kind: 'router' | 'consumer';
  /** base URL */
  url: string;
  webhookUrl: string;
  inboundUrl: string;
  statusUrl: string;
  /** the router's API answers (`GET /api/suppressions` with the token): capability `router-state` */
  hasApi: boolean;
  /** POST /api/messages `{ conversation, body }` */
  send(conversation: string, body: string): Promise<ApiAnswer>;
  /** GET /api/conversations/{id}/state; undefined on 404 */
  state(conversation: string): Promise<StateView | undefined>;
  /** nothing accepted is still waiting to be applied (GET /stats `depth`, when the consumer has it) */
  idle(): Promise<boolean>;
  close(): Promise<void>;
}

export interface ConsumerOptions {
  /** a running service instead of the reference router */
  url?: string;
  /** its API's bearer token (default TCE_CONSUMER_API_TOKEN) */
  apiToken?: string;
  /** router stores (default SQLite :memory:) */
  db?: string;
  databaseUrl?: string;
  redisUrl?: string;
  databaseSchema?: string;
  redisKeyPrefix?: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function over(url: string, token: string | undefined, close: () => Promise<void>, kind: Consumer['kind']): Omit<Consumer, 'hasApi'> {
  const api = async (method: string, path: string, body?: unknown): Promise<ApiAnswer> => {
    const response = await fetch(url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body: parsed };
  };
  return {
    kind,
    url,
    webhookUrl: url + CONSUMER_PATHS.webhook,
    inboundUrl: url + CONSUMER_PATHS.inbound,
    statusUrl: url + CONSUMER_PATHS.status,
    send: (conversation, body) => api('POST', '/api/messages', { conversation, body }),
    async state(conversation) {
      const answer = await api('GET', `/api/conversations/${encodeURIComponent(conversation)}/state`);
      if (answer.status === 404) return undefined;
      if (answer.status !== 200) throw new Error(`GET /api/conversations/${conversation}/state answered ${answer.status}`);
      return answer.body as StateView;
    },
    async idle() {
      const answer = await api('GET', '/stats').catch(() => undefined);
      if (!answer || answer.status !== 200 || typeof answer.body?.depth !== 'number') return true;
      return answer.body.depth === 0;
    },
    close,
  };
}

async function probeApi(consumer: Omit<Consumer, 'hasApi'>, token: string | undefined): Promise<boolean> {
  if (!token) return false;
  try {
    const response = await fetch(`${consumer.url}/api/suppressions`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json().catch(() => undefined)) as { suppressions?: unknown } | undefined;
    return response.status === 200 && Array.isArray(body?.suppressions);
  } catch {
    return false;
  }
}

/** the reference router, fresh, pointed at the target */
export async function startReferenceRouter(target: Target, options: ConsumerOptions = {}): Promise<Consumer> {
  const { createRouter } = await import('../router/create-router.js');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const apiToken = randomBytes(12).toString('hex');
  const router = await createRouter({
    port,
    host: '127.0.0.1',
    // behind a target's receiver (a tunnel), signatures are over the public URL
    publicUrl: target.exposeConsumer && target.publicUrl ? target.publicUrl : url,
    twilioUrl: target.twilioUrl,
    accountSid: target.accountSid,
    authToken: target.authToken,
    apiToken,
    logLevel: 'silent',
    db: options.db ?? ':memory:',
    databaseUrl: options.databaseUrl,
    redisUrl: options.redisUrl,
    databaseSchema: options.databaseSchema,
    redisKeyPrefix: options.redisKeyPrefix,
    defaultProxyAddress: PROXY,
    defaultWhatsappProxy: WHATSAPP_PROXY,
    fallback: { order: ['whatsapp'], whatsappTemplateSid: TEMPLATE_SID },
    worker: { concurrency: 8, leaseMs: 10_000, maxAttempts: 5 },
    twilio: { maxRetries: 12 },
  });
  const consumer = over(url, apiToken, () => router.close(), 'router');
  return { ...consumer, hasApi: true };
}

/** the user's service at `url` */
export async function connectConsumer(url: string, options: ConsumerOptions = {}): Promise<Consumer> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--consumer must be a URL, got ${url}`);
  }
  const base = parsed.origin + parsed.pathname.replace(/\/+$/, '');
  const token = options.apiToken ?? process.env.TCE_CONSUMER_API_TOKEN;
  const consumer = over(base, token, async () => undefined, 'consumer');
  return { ...consumer, hasApi: await probeApi(consumer, token) };
}
