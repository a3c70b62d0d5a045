/**
 * A real fastify server running only the router's ingress plugin, on 127.0.0.1 port 0, with `accept` collecting
 * events (deduped by key, as the store would) and every log line captured. Requests go out through undici's Client,
 * which sends the request target byte for byte (undici's `request(url)` would re-encode the query: `'` → `%27`).
 * Signatures come from the twilio SDK, as Twilio computes them.
 */
import Fastify from 'fastify';
import { pino } from 'pino';
import twilio from 'twilio';
import { Client } from 'undici';
import type { RouterConfig } from '../../src/router/config-types.js';
import type { IncomingEvent } from '../../src/router/events.js';
import { ingressRoutes, type IngressOptions } from '../../src/router/ingress/routes.js';
import type { AcceptResult } from '../../src/router/store/types.js';

export const AUTH_TOKEN = '0123456789abcdef0123456789abcdef';
export const PATHS = {
  webhook: '/twilio/conversations/webhook',
  preEvent: '/twilio/conversations/pre-event',
  inbound: '/twilio/messaging/inbound',
  status: '/twilio/messaging/status',
};

export function routerConfig(overrides: Partial<RouterConfig> = {}): RouterConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    db: ':memory:',
    ingressOnly: false,
    trustProxy: false,
    authToken: AUTH_TOKEN,
    paths: PATHS,
    validateSignature: true,
    maxProcessingMs: 5000,
    dedupeTtlSeconds: 7 * 24 * 3600,
    compliance: { stopKeywords: ['STOP'], startKeywords: ['START'], helpKeywords: ['HELP'], helpText: 'help' },
    preEvent: { allowedIdentities: [], enforceTenant: false, piiPatterns: [] },
    fallback: { order: [] },
    worker: { concurrency: 4, leaseMs: 30_000, maxAttempts: 5, thread: false },
    twilio: { maxConcurrency: 8, timeoutMs: 10_000, maxRetries: 3 },
    logLevel: 'trace',
    ...overrides,
  };
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

export interface Ingress {
  port: number;
  events: IncomingEvent[];
  /** every log line (fastify's and the plugin's), as written */
  logs: string[];
  counters: Array<{ name: string; labels?: Record<string, string> }>;
  count(name: string, labels?: Record<string, string>): number;
  post(path: string, options?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<Answer>;
  close(): Promise<void>;
}

export interface IngressSetup {
  config?: Partial<RouterConfig>;
  accept?: IngressOptions['accept'];
  lookupConversation?: IngressOptions['lookupConversation'];
  bodyLimit?: number;
}

export async function startIngress(setup: IngressSetup = {}): Promise<Ingress> {
  const logs: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) });
  const app = Fastify({ loggerInstance: logger });
  const events: IncomingEvent[] = [];
  const seen = new Set<string>();
  const counters: Ingress['counters'] = [];
  const accept =
    setup.accept ??
    (async (event: IncomingEvent): Promise<AcceptResult> => {
      if (seen.has(event.dedupeKey)) return { status: 'duplicate' };
      seen.add(event.dedupeKey);
      events.push(event);
      return { status: 'accepted', id: events.length };
    });
  await app.register(ingressRoutes, {
    config: routerConfig(setup.config),
    accept,
    log: app.log,
    metrics: { inc: (name, labels) => void counters.push({ name, labels }) },
    lookupConversation: setup.lookupConversation,
    bodyLimit: setup.bodyLimit,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const client = new Client(`http://127.0.0.1:${port}`);
  return {
    port,
    events,
    logs,
    counters,
    count: (name, labels) =>
      counters.filter((c) => c.name === name && Object.entries(labels ?? {}).every(([k, v]) => c.labels?.[k] === v)).length,
    async post(path, options = {}) {
      const res = await client.request({ method: 'POST', path, headers: options.headers, body: options.body });
      return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), text: await res.body.text() };
    },
    async close() {
      await client.close();
      await app.close();
    },
  };
}

export const FORM = 'application/x-www-form-urlencoded';

/** A form body as Twilio encodes it (URLSearchParams: spaces as `+`), repeated keys for arrays. */
export function formBody(params: Record<string, string | string[]>): string {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) for (const v of Array.isArray(value) ? value : [value]) out.append(key, v);
  return out.toString();
}

/** X-Twilio-Signature for a form POST to `url`, as Twilio signs it. */
export function signForm(url: string, params: Record<string, string | string[]>, token = AUTH_TOKEN): string {
  return twilio.getExpectedTwilioSignature(token, url, params);
}

/** A JSON POST as Twilio signs it: `bodySHA256` of the raw bytes appended to the URL, the URL signed alone. */
export function signJson(url: string, rawBody: string, token = AUTH_TOKEN): { url: string; signature: string } {
  const signed = `${url}${url.includes('?') ? '&' : '?'}bodySHA256=${twilio.getExpectedBodyHash(rawBody)}`;
  return { url: signed, signature: twilio.getExpectedTwilioSignature(token, signed, {}) };
}

/** the request target (path + query) of a URL string, byte for byte */
export function targetOf(url: string): string {
  return url.replace(/^[a-z]+:\/\/[^/]*/i, '');
}
