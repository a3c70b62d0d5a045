/**
 * The router's way to Twilio (src/router/twilio) against the real emulator, through the official SDK: API-key auth,
 * 429 backoff with Retry-After, no retry of a failed POST, bounded concurrency, the deadline, idempotent creates
 * and inbound routing under concurrency. A counting proxy between the client and the emulator sees every request
 * that leaves the router: how many, when, and how many at once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useEmulator } from './support/emulator.js';
import { createTwilioClient, type TwilioClientDeps } from '../src/router/twilio/client.js';
import { createTwilioGateway } from '../src/router/twilio/gateway.js';
import { TwilioCallError } from '../src/router/twilio/errors.js';
import { BACKOFF_KEY, maskPath, retryAfterMs, type RetryInfo } from '../src/router/twilio/http-client.js';
import { inboundUniqueName, routeInbound, InboundRoutingError } from '../src/router/twilio/inbound-routing.js';
import type { KeyValueStore } from '../src/router/store/types.js';

const t = useEmulator();

// ---- a counting proxy: the router's requests, as the network sees them ----------------------------------------

interface Seen {
  method: string;
  path: string;
  start: number;
  end: number;
  status: number;
  /** headers that must never leave the router */
  leaked: string[];
}

interface CountingProxy {
  url: string;
  seen: Seen[];
  maxInFlight: number;
  reset(): void;
  close(): Promise<void>;
}

// a fresh connection per request toward the emulator: no idle-socket race of the proxy's own
const upstreamAgent = new http.Agent({ keepAlive: false });

async function startCountingProxy(target: () => string): Promise<CountingProxy> {
  let inFlight = 0;
  const proxy: CountingProxy = {
    url: '',
    seen: [],
    maxInFlight: 0,
    reset() {
      proxy.seen = [];
      proxy.maxInFlight = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const start = Date.now();
    inFlight++;
    proxy.maxInFlight = Math.max(proxy.maxInFlight, inFlight);
    let done = false;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      inFlight--;
      const leaked = Object.keys(req.headers).filter((h) => h.startsWith('x-tce'));
      proxy.seen.push({ method: req.method ?? '', path: decodeURIComponent((req.url ?? '').split('?')[0]), start, end: Date.now(), status, leaked });
    };
    const upstream = http.request(target() + req.url, { method: req.method, headers: req.headers, agent: upstreamAgent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on('end', () => finish(answer.statusCode ?? 0));
    });
    upstream.on('error', () => {
      finish(0);
      res.destroy();
    });
    // the client gave up (its deadline): stop the upstream request too
    res.on('close', () => {
      if (!done) {
        finish(-1);
        upstream.destroy();
      }
    });
    req.pipe(upstream);
  });
  // longer than the client's idle sockets live (node's agent: 5 s): a reused socket is never one the proxy just closed
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

let proxy: CountingProxy;
beforeAll(async () => {
  proxy = await startCountingProxy(() => t.emulator.url);
});
afterAll(async () => {
  await proxy.close();
});

// ---- helpers ---------------------------------------------------------------------------------------------------

interface ClientOptions {
  maxConcurrency?: number;
  timeoutMs?: number;
  maxRetries?: number;
  apiKey?: { sid: string; secret: string };
  conversationsServiceSid?: string;
}

function router(options: ClientOptions = {}, deps: TwilioClientDeps = {}) {
  proxy.reset();
  const retries: RetryInfo[] = [];
  const config = {
    twilioUrl: proxy.url,
    accountSid: t.emulator.accountSid,
    authToken: options.apiKey ? undefined : t.emulator.authToken,
    apiKeySid: options.apiKey?.sid,
    apiKeySecret: options.apiKey?.secret,
    conversationsServiceSid: options.conversationsServiceSid,
    twilio: { maxConcurrency: options.maxConcurrency ?? 8, timeoutMs: options.timeoutMs ?? 10_000, maxRetries: options.maxRetries ?? 5 },
  };
  const twilio = createTwilioClient(config, {
    baseDelayMs: 5,
    maxDelayMs: 50,
    onRetry: (info) => retries.push(info),
    ...deps,
  });
  const gateway = createTwilioGateway(twilio.client, config);
  return { ...twilio, gateway, retries };
}

async function setRestFaults(rules: unknown[]) {
  const answer = await t.http('PUT', '/_emulator/faults/rest', { body: JSON.stringify({ rules }), contentType: 'application/json' });
  expect(answer.status).toBe(200);
}

async function restFaults(): Promise<Array<{ times?: number }>> {
  return (await t.http('GET', '/_emulator/faults/rest')).body.rules;
}

async function rejection(promise: Promise<unknown>): Promise<TwilioCallError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail, it succeeded');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TwilioCallError);
  return error as TwilioCallError;
}

const seenOf = (method: string, path: string) => proxy.seen.filter((s) => s.method === method && s.path === path);

// ---- credentials -----------------------------------------------------------------------------------------------

describe('createTwilioClient', () => {
  it('authenticates with an API key (preferred over the auth token)', async () => {
    const key = (await t.http('POST', `/_emulator/accounts/${t.emulator.accountSid}/keys`, { body: '{}', contentType: 'application/json' })).body;
    const r = router({ apiKey: key });
    expect(r.auth).toBe('api-key');
    const { sid, created } = await r.gateway.ensureConversation('api-key-auth');
    expect(created).toBe(true);
    // the request really carried the key: a deleted key stops working at once
    await t.http('DELETE', `/_emulator/accounts/${t.emulator.accountSid}/keys/${key.sid}`);
    const error = await rejection(r.gateway.fetchConversation(sid));
    expect([error.status, error.code]).toEqual([401, 20003]);
    expect(error.retriable).toBe(false);
  });

  it('falls back to the auth token, and refuses to start without credentials', () => {
    expect(router().auth).toBe('auth-token');
    const base = { accountSid: t.emulator.accountSid, twilio: { maxConcurrency: 1, timeoutMs: 1000, maxRetries: 0 } };
    expect(() => createTwilioClient(base)).toThrow(/TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET \(preferred\), or TWILIO_AUTH_TOKEN/);
    expect(() => createTwilioClient({ ...base, apiKeySid: 'SK' + '0'.repeat(32) })).toThrow(/go together/);
    expect(() => createTwilioClient({ ...base, accountSid: undefined, authToken: 'x' })).toThrow(/TWILIO_ACCOUNT_SID is required/);
    expect(() => createTwilioClient({ ...base, authToken: 'x', twilio: { ...base.twilio, maxConcurrency: 0 } })).toThrow(/concurrency/);
  });
});

// ---- the HTTP client -------------------------------------------------------------------------------------------

describe('TwilioHttpClient', () => {
  it('absorbs a 429 storm on a create: backs off, retries, and the create happens once', async () => {
    await setRestFaults([{ match: { method: 'POST', path: '/v1/Conversations' }, times: 4, action: { type: 'error', status: 429, code: 20429 } }]);
    const r = router({ maxRetries: 6 });
    const { created } = await r.gateway.ensureConversation('storm');
    expect(created).toBe(true);
    expect(seenOf('POST', '/v1/Conversations').map((s) => s.status)).toEqual([429, 429, 429, 429, 201]);
    expect(r.http.counters).toMatchObject({ requests: 1, attempts: 5, retries: 4, rateLimited: 4, givenUp: 0 });
    expect(r.retries.map((i) => [i.reason, i.status, i.code, i.attempt])).toEqual([1, 2, 3, 4].map((n) => ['rate-limited', 429, 20429, n]));
    expect((await restFaults())[0].times).toBe(0);
    expect((await t.client.conversations.v1.conversations.list()).map((c) => c.uniqueName)).toEqual(['storm']);
    expect(proxy.seen.flatMap((s) => s.leaked)).toEqual([]);
  });

  it('logs retries without bodies, credentials or whole phone numbers', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const r = router({ maxRetries: 1 }, { logger });
    const { sid } = await r.gateway.ensureConversation('sms:+15550009876');
    await setRestFaults([{ action: { type: 'error', status: 429, code: 20429 } }]);
    await rejection(r.gateway.postMessage(sid, { author: '+15550009876', body: 'my secret body' }, { webhooks: false }));
    await rejection(r.gateway.fetchConversation('sms:+15550009876'));
    const log = lines.join('');
    expect(log).toMatch(/twilio request retried/);
    expect(log).toMatch(/twilio request failed/);
    expect(log).toContain('+…9876');
    for (const secret of ['my secret body', t.emulator.authToken, '15550009876', 'Authorization', 'authorization']) expect(log).not.toContain(secret);
  });

  it('gives up on a 429 after maxRetries, with the 429 for the caller', async () => {
    await setRestFaults([{ match: { method: 'GET' }, action: { type: 'error', status: 429, code: 20429 } }]);
    const r = router({ maxRetries: 2 });
    const error = await rejection(r.gateway.fetchConversation('CH' + '0'.repeat(32)));
    expect([error.status, error.code, error.retriable]).toEqual([429, 20429, true]);
    expect(proxy.seen).toHaveLength(3);
    expect(r.http.counters.givenUp).toBe(1);
  });

  it('honours Retry-After: the next attempt waits at least that long', async () => {
    const r = router();
    await r.gateway.ensureConversation('retry-after');
    // one request a second: the next one is refused with Retry-After: 1
    await t.http('PUT', '/_emulator/limits', { body: JSON.stringify({ rps: 1, burst: 1 }), contentType: 'application/json' });
    proxy.reset();
    await r.gateway.fetchConversation('retry-after'); // takes the one token
    const found = await r.gateway.fetchConversation('retry-after');
    expect(found?.uniqueName).toBe('retry-after');
    const gets = proxy.seen.filter((s) => s.method === 'GET');
    const refused = gets.findIndex((s) => s.status === 429);
    expect(refused).toBeGreaterThan(0);
    const next = gets[refused + 1];
    expect(next.status).toBe(200);
    expect(next.start - gets[refused].end).toBeGreaterThanOrEqual(1000);
    expect(r.retries[0]).toMatchObject({ reason: 'rate-limited', retryAfterMs: 1000 });
    expect(r.retries[0].delayMs).toBeGreaterThanOrEqual(1000);
  });

  it('does not retry a POST answered 503 (it may have created), and retries a GET', async () => {
    await setRestFaults([
      { match: { method: 'POST', path: '/v1/Conversations' }, times: 3, action: { type: 'error', status: 503, code: 20503 } },
      { match: { method: 'GET', path: '/v1/Conversations/*' }, times: 2, action: { type: 'error', status: 503, code: 20503 } },
    ]);
    const r = router();
    const error = await rejection(r.gateway.ensureConversation('no-retry'));
    expect([error.status, error.code, error.retriable]).toEqual([503, 20503, true]);
    // exactly one request reached the emulator: the proxy saw one, and the rule was drawn once
    expect(seenOf('POST', '/v1/Conversations')).toHaveLength(1);
    expect((await restFaults())[0].times).toBe(2);
    expect(r.http.counters.retries).toBe(0);

    await setRestFaults([{ match: { method: 'GET', path: '/v1/Conversations/*' }, times: 2, action: { type: 'error', status: 503, code: 20503 } }]);
    const conversation = await t.client.conversations.v1.conversations.create({ uniqueName: 'get-retried' });
    proxy.reset();
    expect((await r.gateway.fetchConversation('get-retried'))?.sid).toBe(conversation.sid);
    expect(proxy.seen.map((s) => s.status)).toEqual([503, 503, 200]);
    expect(r.retries.map((i) => i.reason)).toEqual(['server-error', 'server-error']);
  });

  it('retries a GET whose connection dropped, never a POST', async () => {
    await setRestFaults([{ match: { path: '/v1/Conversations*' }, times: 1, action: { type: 'reset' } }]);
    const r = router();
    const error = await rejection(r.gateway.ensureConversation('dropped'));
    expect([error.status, error.kind, error.retriable]).toEqual([0, 'network', true]);
    expect(r.http.counters).toMatchObject({ attempts: 1, networkErrors: 1, retries: 0 });

    await t.client.conversations.v1.conversations.create({ uniqueName: 'dropped' });
    await setRestFaults([{ match: { path: '/v1/Conversations*' }, times: 1, action: { type: 'reset' } }]);
    const r2 = router();
    expect((await r2.gateway.fetchConversation('dropped'))?.uniqueName).toBe('dropped');
    expect(r2.http.counters).toMatchObject({ attempts: 2, networkErrors: 1, retries: 1 });
    expect(r2.retries[0].reason).toBe('network-error');
  });

  it('retries even a POST when the connection was refused: nothing received it', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const config = { twilioUrl: `http://127.0.0.1:${port}`, accountSid: t.emulator.accountSid, authToken: t.emulator.authToken, twilio: { maxConcurrency: 2, timeoutMs: 5000, maxRetries: 2 } };
    const refusing = createTwilioClient(config, { baseDelayMs: 5, maxDelayMs: 20 });
    const error = await rejection(createTwilioGateway(refusing.client, {}).ensureConversation('refused'));
    expect([error.kind, error.message]).toEqual(['network', expect.stringMatching(/ECONNREFUSED/)]);
    expect(refusing.http.counters).toMatchObject({ attempts: 3, retries: 2, networkErrors: 3, givenUp: 1 });
  });

  it('keeps at most maxConcurrency requests in flight, the others waiting their turn', async () => {
    await setRestFaults([{ match: { method: 'GET' }, action: { type: 'delay', ms: 100 } }]);
    const r = router({ maxConcurrency: 3 });
    const sampled: number[] = [];
    const calls = Array.from({ length: 12 }, () => r.gateway.fetchConversation('CH' + '1'.repeat(32)));
    await new Promise((resolve) => setTimeout(resolve, 30));
    sampled.push(r.http.inFlight, r.http.queued);
    expect(await Promise.all(calls)).toEqual(Array(12).fill(undefined));
    expect(sampled).toEqual([3, 9]);
    expect(proxy.seen).toHaveLength(12);
    expect(proxy.maxInFlight).toBe(3);
    expect(r.http.counters.maxInFlight).toBe(3);
  });

  it('ends a call at its deadline, whether Twilio is slow or the queue is long', async () => {
    await setRestFaults([{ match: { method: 'GET' }, action: { type: 'delay', ms: 5000 } }]);
    const r = router({ timeoutMs: 300, maxConcurrency: 1 });
    const began = Date.now();
    const [slow, queued] = await Promise.all([rejection(r.gateway.fetchConversation('slow')), rejection(r.gateway.fetchConversation('queued'))]);
    const took = Date.now() - began;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
    expect([slow.kind, slow.status, slow.retriable]).toEqual(['timeout', 0, true]);
    expect(slow.message).toMatch(/waiting for the answer/);
    // the second never got a slot in time (the first freed it at the same deadline, or not at all)
    expect(queued.message).toMatch(/waiting for a free slot|before sending/);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the proxy notes an aborted request when its socket closes
    expect(proxy.seen.map((s) => [s.path, s.status])).toEqual([['/v1/Conversations/slow', -1]]);
    expect(r.http.counters.timeouts).toBe(2);
    // the slot came back: the next call runs (fast now)
    await setRestFaults([]);
    expect(await r.gateway.fetchConversation('CH' + '2'.repeat(32))).toBeUndefined();
  });

  it('reads Retry-After as seconds or a date, and masks phone numbers in logged paths', () => {
    expect(retryAfterMs({ 'retry-after': '2' })).toBe(2000);
    expect(retryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 7_000)).toBe(3000);
    expect(retryAfterMs({})).toBeNull();
    expect(retryAfterMs({ 'retry-after': 'soon' })).toBeNull();
    expect(maskPath('/v1/Conversations/sms%3A%2B15551234567/Participants')).toBe('/v1/Conversations/sms%3A+…4567/Participants');
  });
});

// ---- the shared backoff (Redis, as in production) --------------------------------------------------------------

const redisUrl = process.env.TCE_TEST_REDIS_URL;
if (!redisUrl) console.log('router-twilio: TCE_TEST_REDIS_URL is not set: the shared-backoff test (Redis) is skipped');
describe.skipIf(!redisUrl)('shared backoff through a KeyValueStore (Redis)', () => {
  let redis: Redis;
  const prefix = `tce:test:twilio:${process.pid}:${Date.now()}:`;
  // the few KeyValueStore calls the backoff makes, straight on Redis (the router's own Redis store is another part)
  const store = (): KeyValueStore => ({
    kind: 'redis',
    get: async (key) => (await redis.get(prefix + key)) ?? undefined,
    set: async (key, value, ttl) => void (ttl ? await redis.set(prefix + key, value, 'EX', ttl) : await redis.set(prefix + key, value)),
    setIfAbsent: async () => {
      throw new Error('unused');
    },
    del: async (key) => void (await redis.del(prefix + key)),
    list: async () => [],
    ping: async () => void (await redis.ping()),
    close: async () => undefined,
  });
  beforeAll(() => {
    redis = new Redis(redisUrl!);
  });
  afterAll(async () => {
    const keys = await redis.keys(prefix + '*');
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('a 429 with Retry-After seen by one replica holds the other replica back too', async () => {
    const shared = store();
    const a = router({}, { backoffStore: shared });
    await a.gateway.ensureConversation('shared-backoff');
    await t.http('PUT', '/_emulator/limits', { body: JSON.stringify({ rps: 1, burst: 1 }), contentType: 'application/json' });
    await a.gateway.fetchConversation('shared-backoff');
    const b = router({}, { backoffStore: shared }); // resets the proxy's record
    const aSecond = a.gateway.fetchConversation('shared-backoff'); // 429, Retry-After: 1, written to Redis
    await new Promise((resolve) => setTimeout(resolve, 100));
    const until = Number(await redis.get(prefix + BACKOFF_KEY));
    expect(until).toBeGreaterThan(Date.now());
    // the limit goes: only the shared backoff can hold b back now
    await t.http('PUT', '/_emulator/limits', { body: JSON.stringify({ rps: null, burst: null }), contentType: 'application/json' });
    await b.gateway.fetchConversation('shared-backoff');
    await aSecond;
    // b never met the 429: it waited for the shared time before sending anything
    expect(b.http.counters.rateLimited).toBe(0);
    expect(Math.min(...proxy.seen.filter((s) => s.status === 200).map((s) => s.start))).toBeGreaterThanOrEqual(until);
  });
});

// ---- the gateway -----------------------------------------------------------------------------------------------

describe('TwilioGateway', () => {
  it('ensureConversation: creates, then finds it by UniqueName; on the configured service', async () => {
    const service = await t.client.conversations.v1.services.create({ friendlyName: 'router' });
    const r = router({ conversationsServiceSid: service.sid });
    const first = await r.gateway.ensureConversation('acme:sms:+15550001111', { friendlyName: 'F', attributes: { tenantId: 'acme' } });
    const again = await r.gateway.ensureConversation('acme:sms:+15550001111');
    expect([first.created, again.created, again.sid]).toEqual([true, false, first.sid]);
    const fetched = await r.gateway.fetchConversation('acme:sms:+15550001111');
    expect(fetched).toMatchObject({ sid: first.sid, chatServiceSid: service.sid, friendlyName: 'F', attributes: { tenantId: 'acme' } });
    // not in the default service
    expect(await router().gateway.fetchConversation('acme:sms:+15550001111')).toBeUndefined();
    await r.gateway.updateConversationAttributes(first.sid, { tenantId: 'acme', task: 'call back' });
    expect((await r.gateway.fetchConversation(first.sid))?.attributes).toEqual({ tenantId: 'acme', task: 'call back' });
  });

  it('ensureParticipant: the same binding is success; a binding held by another conversation is an error', async () => {
    const r = router();
    const one = await r.gateway.ensureConversation('one');
    const two = await r.gateway.ensureConversation('two');
    const p = await r.gateway.ensureParticipant(one.sid, '+15550002222', '+15559990000');
    const again = await r.gateway.ensureParticipant(one.sid, '+15550002222', '+15559990000');
    expect([p.created, again.created, again.sid]).toEqual([true, false, p.sid]);
    const error = await rejection(r.gateway.ensureParticipant(two.sid, '+15550002222', '+15559990000'));
    expect([error.status, error.code]).toEqual([409, 50416]);
    expect(await r.gateway.listParticipants(one.sid)).toEqual([{ sid: p.sid, identity: null, address: '+15550002222', proxyAddress: '+15559990000', type: 'sms', attributes: '{}' }]);
    expect(await r.gateway.removeParticipant(one.sid, p.sid)).toBe(true);
    expect(await r.gateway.removeParticipant(one.sid, p.sid)).toBe(false);
    expect(await r.gateway.listParticipants(one.sid)).toEqual([]);
  });

  it('postMessage sets X-Twilio-Webhook-Enabled only when asked', async () => {
    const r = router();
    const { sid } = await r.gateway.ensureConversation('hooks');
    await t.client.conversations.v1.conversations(sid).webhooks.create({ target: 'webhook', 'configuration.url': 'http://127.0.0.1:9/hook', 'configuration.filters': ['onMessageAdded'] });
    const quiet = await r.gateway.postMessage(sid, { author: 'agent', body: 'no hooks' }, { webhooks: false });
    const loud = await r.gateway.postMessage(sid, { author: 'agent', body: 'hooks', attributes: { k: 1 } }, { webhooks: true });
    expect([quiet.index, loud.index]).toEqual([0, 1]);
    const fired = await t.emulator.control.waitForDelivery((d) => d.eventType === 'onMessageAdded' && d.conversationSid === sid, 5000);
    expect(fired).toBeDefined();
    const hooked = t.emulator.control.deliveries({ eventType: 'onMessageAdded', conversationSid: sid });
    expect(hooked).toHaveLength(1);
  });

  it('sendMessage: Programmable Messaging, with 21610 for an opted-out handset', async () => {
    const r = router();
    const sent = await r.gateway.sendMessage({ to: '+15550003333', from: '+15559990000', body: 'hello' });
    expect(sent.sid).toMatch(/^SM/);
    expect(sent.status).toBe('queued');
    await t.http('POST', '/_emulator/inbound', { body: JSON.stringify({ From: '+15550003333', To: '+15559990000', Body: 'STOP' }), contentType: 'application/json' });
    const error = await rejection(r.gateway.sendMessage({ to: '+15550003333', from: '+15559990000', body: 'again' }));
    expect([error.status, error.code, error.retriable]).toEqual([400, 21610, false]);
    await expect(r.gateway.sendMessage({ to: '+15550003333', body: 'x' })).rejects.toThrow(/from` or `messagingServiceSid/);
  });
});

// ---- inbound routing -------------------------------------------------------------------------------------------

const PROXY = '+15559990000';
const routing = { defaultProxyAddress: PROXY, defaultWhatsappProxy: 'whatsapp:+15559990001' };

async function outboxTo(address: string) {
  return (await t.http('GET', `/_emulator/outbox?to=${encodeURIComponent(address)}`)).body.messages as unknown[];
}

describe('routeInbound', () => {
  it('names conversations sms:/whatsapp:+E164, with the tenant first, and refuses what is no address', () => {
    expect(inboundUniqueName('+15550004444')).toBe('sms:+15550004444');
    expect(inboundUniqueName('whatsapp:+15550004444', 'acme')).toBe('acme:whatsapp:+15550004444');
    expect(() => inboundUniqueName('15550004444')).toThrow(InboundRoutingError);
    expect(() => inboundUniqueName('whatsapp:bob')).toThrow(/\+E164/);
  });

  it('creates the conversation once, then finds it; the sender is never texted its own message', async () => {
    const r = router();
    const first = await routeInbound(r.gateway, routing, { from: '+15550005555', to: PROXY, body: 'hi' });
    const second = await routeInbound(r.gateway, routing, { from: '+15550005555', body: 'again', mediaUrls: ['https://example.com/a.jpg'] });
    expect(first.createdConversation).toBe(true);
    expect(second).toMatchObject({ createdConversation: false, conversationSid: first.conversationSid, participantSid: first.participantSid });
    const conversation = await t.client.conversations.v1.conversations(first.conversationSid).fetch();
    expect(conversation.uniqueName).toBe('sms:+15550005555');
    const messages = await t.client.conversations.v1.conversations(first.conversationSid).messages.list();
    expect(messages.map((m) => [m.author, m.body, JSON.parse(m.attributes)])).toEqual([
      ['+15550005555', 'hi', {}],
      ['+15550005555', 'again', { mediaUrls: ['https://example.com/a.jpg'] }],
    ]);
    expect(await outboxTo('+15550005555')).toEqual([]);
    // an agent's reply does reach the handset: the outbox would show a send
    await r.gateway.postMessage(first.conversationSid, { author: 'agent', body: 'hello back' }, { webhooks: false });
    expect(await outboxTo('+15550005555')).toHaveLength(1);
  });

  it('routing the same inbound again (a worker retry) posts it once when its MessageSid is given', async () => {
    const r = router();
    const inbound = { from: '+15550008888', to: PROXY, body: 'once', messageSid: 'SM' + 'a'.repeat(32) };
    const first = await routeInbound(r.gateway, routing, inbound);
    const again = await routeInbound(r.gateway, routing, inbound);
    expect(again).toEqual({ ...first, createdConversation: false });
    const other = await routeInbound(r.gateway, routing, { ...inbound, messageSid: 'SM' + 'b'.repeat(32) });
    expect(other.messageSid).not.toBe(first.messageSid);
    const messages = await r.gateway.recentMessages(first.conversationSid, 10);
    expect(messages.map((m) => [m.body, m.attributes.inboundMessageSid])).toEqual([
      ['once', 'SM' + 'b'.repeat(32)],
      ['once', 'SM' + 'a'.repeat(32)],
    ]);
  });

  it('routes WhatsApp to whatsapp: conversations with the WhatsApp proxy, under the tenant', async () => {
    const r = router();
    const routed = await routeInbound(r.gateway, { ...routing, tenant: 'acme' }, { from: 'whatsapp:+15550006666', body: 'hola' });
    const conversation = await r.gateway.fetchConversation('acme:whatsapp:+15550006666');
    expect(conversation).toMatchObject({ sid: routed.conversationSid, attributes: { tenantId: 'acme', channel: 'whatsapp' } });
    expect(await r.gateway.listParticipants(routed.conversationSid)).toMatchObject([
      { address: 'whatsapp:+15550006666', proxyAddress: 'whatsapp:+15559990001', type: 'whatsapp' },
    ]);
    await expect(routeInbound(r.gateway, {}, { from: '+15550006666', body: 'x' })).rejects.toThrow(/DEFAULT_PROXY_ADDRESS/);
  });

  it('20 simultaneous first messages from one number: one conversation, one participant, 20 messages', async () => {
    const r = router({ maxConcurrency: 20 });
    const from = '+15550007777';
    const routed = await Promise.all(Array.from({ length: 20 }, (_, i) => routeInbound(r.gateway, routing, { from, to: PROXY, body: `m${i}` })));
    const conversations = await t.client.conversations.v1.conversations.list();
    expect(conversations.map((c) => c.uniqueName)).toEqual(['sms:+15550007777']);
    const sid = conversations[0].sid;
    expect(new Set(routed.map((x) => x.conversationSid))).toEqual(new Set([sid]));
    expect(routed.filter((x) => x.createdConversation)).toHaveLength(1);
    const participants = await t.client.conversations.v1.conversations(sid).participants.list();
    expect(participants).toHaveLength(1);
    expect(new Set(routed.map((x) => x.participantSid))).toEqual(new Set([participants[0].sid]));
    const messages = await t.client.conversations.v1.conversations(sid).messages.list();
    expect(messages.map((m) => m.body).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
    expect(await outboxTo(from)).toEqual([]);
    // the creates really raced: more than one POST met an existing conversation
    expect(seenOf('POST', '/v1/Conversations').filter((s) => s.status === 409).length).toBeGreaterThan(0);
  });
});
