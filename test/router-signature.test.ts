/**
 * The signature matrix: what breaks Twilio signature checks in the field, each variant signed the way Twilio signs
 * it (the SDK's getExpectedTwilioSignature) and posted to a real fastify server running the router's ingress. A
 * valid variant is accepted (200, the event handed to accept) and the same request with a forged body is refused
 * (403, nothing accepted). Sources: twilio-node#411 / twilio-python#392 (default port), twilio-node#146 (http vs
 * https behind a tunnel), twilio-php#790 (query signed as sent: order, `+` vs `%20`), twilio-node#1183 / #621 (`'`,
 * `@`, `:`), bottender#815 (JSON bodySHA256 missing or not over the raw bytes).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RouterConfig } from '../src/router/config-types.js';
import { publicUrlOf } from '../src/router/ingress/signature.js';
import { FORM, formBody, PATHS, signForm, signJson, startIngress, targetOf, type Ingress } from './support/router-ingress.js';

const W = PATHS.webhook;
let sequence = 0;

/** an onMessageAdded with a body full of characters that encode differently (`'`, `%`, `+`, spaces, non-ASCII) */
function messageAdded(): Record<string, string> {
  sequence++;
  return {
    AccountSid: 'AC00000000000000000000000000000001',
    EventType: 'onMessageAdded',
    ConversationSid: 'CH00000000000000000000000000000001',
    MessageSid: `IM${String(sequence).padStart(32, '0')}`,
    Index: String(sequence),
    Author: 'tenant-a:alice',
    Body: `it's 100% sure + fine: café ✓ #${sequence}`,
    Attributes: '{"k":"v w"}',
    Source: 'SDK',
    DateCreated: '2026-12-01T10:00:00.000Z',
    RetryCount: '0',
  };
}

interface Case {
  name: string;
  config?: Partial<RouterConfig>;
  /** the URL Twilio signed (the webhook URL as configured at Twilio) */
  signed: (port: number) => string;
  /** the request target the router receives (a proxy strips publicUrl's prefix); default the signed URL's path and query, byte for byte */
  target?: string;
  /** headers as the proxy / tunnel delivers them; default Host = 127.0.0.1:port */
  headers?: (port: number) => Record<string, string>;
  /** true: the router must accept it; false: a correctly signed request for another URL, refused */
  valid: boolean;
}

const local = (port: number, target = W) => `http://127.0.0.1:${port}${target}`;

const CASES: Case[] = [
  { name: 'direct: Host and socket protocol', signed: (p) => local(p), valid: true },

  // default port (twilio-node#411, twilio-python#392)
  { name: 'signed with :80, Host without port', signed: () => `http://hooks.example.com:80${W}`, headers: () => ({ host: 'hooks.example.com' }), valid: true },
  { name: 'signed without port, Host with :80', signed: () => `http://hooks.example.com${W}`, headers: () => ({ host: 'hooks.example.com:80' }), valid: true },
  { name: 'signed with :443, publicUrl without port', config: { publicUrl: 'https://hooks.example.com' }, signed: () => `https://hooks.example.com:443${W}`, valid: true },
  { name: 'signed without port, publicUrl with :443', config: { publicUrl: 'https://hooks.example.com:443' }, signed: () => `https://hooks.example.com${W}`, valid: true },
  { name: 'signed with another port than the Host', signed: () => `http://hooks.example.com:8080${W}`, headers: () => ({ host: 'hooks.example.com:9090' }), valid: false },

  // http vs https behind a TLS-terminating tunnel (twilio-node#146)
  {
    name: 'tunnel, trustProxy: X-Forwarded-Proto https',
    config: { trustProxy: true },
    signed: () => `https://abc.tunnel.example${W}`,
    headers: () => ({ host: 'abc.tunnel.example', 'x-forwarded-proto': 'https' }),
    valid: true,
  },
  {
    name: 'tunnel, trustProxy: X-Forwarded-Host and Proto, local Host',
    config: { trustProxy: true },
    signed: () => `https://abc.tunnel.example${W}`,
    headers: (p) => ({ host: `127.0.0.1:${p}`, 'x-forwarded-host': 'abc.tunnel.example', 'x-forwarded-proto': 'https' }),
    valid: true,
  },
  {
    name: 'tunnel, trustProxy: the first of a proxy chain counts',
    config: { trustProxy: true },
    signed: () => `https://abc.tunnel.example${W}`,
    headers: () => ({ host: 'internal:8080', 'x-forwarded-host': 'abc.tunnel.example, internal:8080', 'x-forwarded-proto': 'https, http' }),
    valid: true,
  },
  {
    name: 'tunnel, publicUrl https',
    config: { publicUrl: 'https://abc.tunnel.example' },
    signed: () => `https://abc.tunnel.example${W}`,
    headers: () => ({ host: 'abc.tunnel.example' }),
    valid: true,
  },
  {
    name: 'tunnel without trustProxy: X-Forwarded-Proto ignored (http is not https)',
    signed: () => `https://abc.tunnel.example${W}`,
    headers: () => ({ host: 'abc.tunnel.example', 'x-forwarded-proto': 'https' }),
    valid: false,
  },
  {
    name: 'without trustProxy: X-Forwarded-Host ignored',
    signed: () => `http://abc.tunnel.example${W}`,
    headers: (p) => ({ host: `127.0.0.1:${p}`, 'x-forwarded-host': 'abc.tunnel.example', 'x-forwarded-proto': 'http' }),
    valid: false,
  },
  {
    name: 'trustProxy, but the tunnel says http while Twilio signed https',
    config: { trustProxy: true },
    signed: () => `https://abc.tunnel.example${W}`,
    headers: () => ({ host: 'abc.tunnel.example', 'x-forwarded-proto': 'http' }),
    valid: false,
  },

  // the query string, signed as sent (twilio-php#790)
  {
    name: 'query in Twilio order, `+` spaces, %27',
    signed: (p) => local(p, `${W}?Digits=1&Retry=1&RetryMessage=Couldn%27t+find+an+address.&AccountSid=AC1`),
    valid: true,
  },
  { name: 'query with %20 spaces', signed: (p) => local(p, `${W}?note=a%20b%20c&x=1`), valid: true },
  { name: 'query unsorted (z before a)', signed: (p) => local(p, `${W}?z=1&a=2&m=3`), valid: true },
  { name: 'query reordered in transit (signed a&z, received z&a)', signed: (p) => local(p, `${W}?a=1&z=2`), target: `${W}?z=2&a=1`, valid: false },
  { name: 'query with a repeated key', signed: (p) => local(p, `${W}?tag=x&tag=y`), valid: true },
  { name: 'empty query (`?` alone)', signed: (p) => local(p, `${W}?`), valid: true },

  // `'`, `@`, `:` in the URL (twilio-node#1183, #621)
  { name: "raw ' and + in the query (O'Hara+Smith)", signed: (p) => local(p, `${W}?name=O'Hara+Smith&city=Trezzo+Sull'Adda`), valid: true },
  { name: 'raw @ and : in the query (sip:alice@host)', signed: (p) => local(p, `${W}?Caller=sip:alice@10.0.0.1:5060&at=12:30`), valid: true },
  { name: 'escaped %3A %40 in the query, signed escaped', signed: (p) => local(p, `${W}?Caller=sip%3Aalice%4010.0.0.1`), valid: true },
  { name: "' in the public path prefix", config: { publicUrl: "https://example.com/o'hara" }, signed: () => `https://example.com/o'hara${W}?a=1`, target: `${W}?a=1`, valid: true },

  // PUBLIC_WEBHOOK_BASE_URL with a path prefix a proxy strips
  { name: 'publicUrl with a path prefix', config: { publicUrl: 'https://example.com/router' }, signed: () => `https://example.com/router${W}?x=1`, target: `${W}?x=1`, valid: true },
  { name: 'publicUrl with a path prefix and a trailing slash', config: { publicUrl: 'https://example.com/router/' }, signed: () => `https://example.com/router${W}`, target: W, valid: true },
  { name: 'publicUrl prefix missing from what Twilio signed', config: { publicUrl: 'https://example.com/router' }, signed: () => `https://example.com${W}`, valid: false },
  {
    name: 'publicUrl wins over X-Forwarded-* even with trustProxy',
    config: { publicUrl: 'https://public.example.com', trustProxy: true },
    signed: () => `https://evil.example.com${W}`,
    headers: () => ({ host: 'public.example.com', 'x-forwarded-host': 'evil.example.com', 'x-forwarded-proto': 'https' }),
    valid: false,
  },
];

describe('signature matrix: form bodies', () => {
  const servers = new Map<string, Ingress>();
  const serverFor = async (config: Partial<RouterConfig> = {}) => {
    const key = JSON.stringify(config);
    let server = servers.get(key);
    if (!server) {
      server = await startIngress({ config });
      servers.set(key, server);
    }
    return server;
  };
  afterAll(async () => {
    for (const server of servers.values()) await server.close();
  });

  for (const c of CASES) {
    it(`${c.valid ? 'accepts' : 'refuses'}: ${c.name}`, async () => {
      const server = await serverFor(c.config);
      const url = c.signed(server.port);
      const params = messageAdded();
      const headers = {
        host: `127.0.0.1:${server.port}`,
        ...c.headers?.(server.port),
        'content-type': FORM,
        'x-twilio-signature': signForm(url, params),
        'i-twilio-idempotency-token': `token-${params.MessageSid}`,
      };
      const target = c.target ?? targetOf(url);
      const before = server.events.length;
      const answer = await server.post(target, { headers, body: formBody(params) });
      if (!c.valid) {
        expect(answer.status).toBe(403);
        expect(server.events.length).toBe(before);
        return;
      }
      expect(answer.status, answer.text).toBe(200);
      expect(server.events.length).toBe(before + 1);
      const event = server.events[server.events.length - 1];
      expect(event).toMatchObject({ source: 'conversations', eventType: 'onMessageAdded', signature: 'valid', partitionKey: params.ConversationSid });
      expect({ ...event.params }).toEqual(params);

      // the same URL, headers and signature with a forged body: refused, nothing accepted
      const forged = { ...params, Body: `${params.Body} (forged)` };
      const refused = await server.post(target, { headers, body: formBody(forged) });
      expect(refused.status).toBe(403);
      expect(server.events.length).toBe(before + 1);
    });
  }
});

describe('signature matrix: JSON bodies (bodySHA256)', () => {
  let server: Ingress;
  beforeAll(async () => {
    server = await startIngress();
  });
  afterAll(() => server.close());

  const json = () => {
    const params = messageAdded();
    // pretty-printed with non-ASCII: the hash is over these bytes, not over a re-serialization
    return { params, raw: JSON.stringify({ ...params, Media: [{ Sid: 'ME1', Size: 1 }], Index: Number(params.Index), Spare: null }, null, 2) };
  };
  const post = (target: string, signature: string, raw: string, extra: Record<string, string> = {}) =>
    server.post(target, { headers: { 'content-type': 'application/json', 'x-twilio-signature': signature, ...extra }, body: raw });

  it('accepts a JSON body whose bodySHA256 is the hash of the raw bytes; params are the top-level fields as text', async () => {
    const { params, raw } = json();
    const { url, signature } = signJson(local(server.port), raw);
    const answer = await post(targetOf(url), signature, raw);
    expect(answer.status, answer.text).toBe(200);
    const event = server.events.at(-1)!;
    expect(event.signature).toBe('valid');
    expect(event.params.Body).toBe(params.Body);
    expect(event.params.Index).toBe(params.Index);
    expect(event.params.Media).toBe('[{"Sid":"ME1","Size":1}]');
    expect('Spare' in event.params).toBe(false);
  });

  it('accepts bodySHA256 next to a query of its own, with the port toggled', async () => {
    const { raw } = json();
    const signed = signJson(`http://hooks.example.com:80${W}?tenant=o'hara+x`, raw);
    const answer = await post(targetOf(signed.url), signed.signature, raw, { host: 'hooks.example.com' });
    expect(answer.status, answer.text).toBe(200);
  });

  it('refuses a forged JSON body under a valid URL signature (the hash no longer matches the bytes)', async () => {
    const { raw } = json();
    const { url, signature } = signJson(local(server.port), raw);
    const before = server.events.length;
    const forged = raw.replace('"Author": "tenant-a:alice"', '"Author": "tenant-b:mallory"');
    expect(forged).not.toBe(raw);
    expect((await post(targetOf(url), signature, forged)).status).toBe(403);
    expect(server.events.length).toBe(before);
  });

  it('refuses a JSON body whose bodySHA256 is of a re-serialization, not of the raw bytes (bottender#815)', async () => {
    const { raw } = json();
    const reserialized = JSON.stringify(JSON.parse(raw));
    const { url, signature } = signJson(local(server.port), reserialized);
    expect((await post(targetOf(url), signature, raw)).status).toBe(403);
  });

  it('refuses a JSON body signed without bodySHA256 (the URL alone would let any body through)', async () => {
    const { raw } = json();
    const url = local(server.port);
    const signature = signForm(url, {});
    const before = server.counters.length;
    expect((await post(W, signature, raw)).status).toBe(403);
    expect(server.counters.slice(before)).toContainEqual({ name: 'signature_rejected', labels: { source: 'conversations', reason: 'missing-body-hash' } });
  });

  it('refuses a JSON body whose bodySHA256 is empty or garbage', async () => {
    const { raw } = json();
    for (const hash of ['', 'abc', 'z'.repeat(64)]) {
      const url = `${local(server.port)}?bodySHA256=${hash}`;
      expect((await post(targetOf(url), signForm(url, {}), raw)).status).toBe(403);
    }
  });
});

describe('signature: the other endpoints, missing and bad signatures, validation off', () => {
  it('inbound and status validate too; inbound answers empty TwiML so Twilio sends nothing', async () => {
    const server = await startIngress();
    try {
      const inbound = { MessageSid: 'SM00000000000000000000000000000001', From: '+15550001111', To: '+15550002222', Body: "it's me", NumMedia: '0', AccountSid: 'AC1' };
      const url = local(server.port, PATHS.inbound);
      const answer = await server.post(PATHS.inbound, { headers: { 'content-type': FORM, 'x-twilio-signature': signForm(url, inbound) }, body: formBody(inbound) });
      expect(answer.status).toBe(200);
      expect(answer.contentType).toMatch(/^text\/xml/);
      expect(answer.text).toMatch(/<Response>\s*<\/Response>|<Response\/>/);
      expect(server.events.at(-1)).toMatchObject({ source: 'messaging-inbound', eventType: 'inbound', partitionKey: 'address:+15550001111' });

      const status = { MessageSid: 'SM00000000000000000000000000000001', MessageStatus: 'delivered', SmsSid: 'SM00000000000000000000000000000001', SmsStatus: 'delivered', To: '+15550001111', From: '+15550002222', AccountSid: 'AC1' };
      const statusUrl = local(server.port, PATHS.status);
      const ok = await server.post(PATHS.status, { headers: { 'content-type': FORM, 'x-twilio-signature': signForm(statusUrl, status) }, body: formBody(status) });
      expect(ok.status).toBe(200);
      expect(server.events.at(-1)).toMatchObject({ source: 'messaging-status', eventType: 'status', partitionKey: 'message:SM00000000000000000000000000000001' });

      // a signature for the status URL does not open the inbound one
      const crossed = await server.post(PATHS.inbound, { headers: { 'content-type': FORM, 'x-twilio-signature': signForm(statusUrl, status) }, body: formBody(status) });
      expect(crossed.status).toBe(403);
    } finally {
      await server.close();
    }
  });

  it('missing, empty, or wrong-token signatures are refused 403 and counted by reason', async () => {
    const server = await startIngress();
    try {
      const params = messageAdded();
      const url = local(server.port);
      const send = (signature?: string) =>
        server.post(W, { headers: { 'content-type': FORM, ...(signature === undefined ? {} : { 'x-twilio-signature': signature }) }, body: formBody(params) });
      expect((await send()).status).toBe(403);
      expect((await send('')).status).toBe(403);
      expect((await send(signForm(url, params, 'another-token'))).status).toBe(403);
      expect((await send('not base64 at all')).status).toBe(403);
      expect(server.events).toHaveLength(0);
      expect(server.count('signature_rejected', { reason: 'missing-signature' })).toBe(2);
      expect(server.count('signature_rejected', { reason: 'mismatch' })).toBe(2);
      expect((await send(signForm(url, params))).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('a repeated form key is signed with all its values and kept with the last', async () => {
    const server = await startIngress();
    try {
      const params = { ...messageAdded(), MediaUrl: ['https://m.example/1', 'https://m.example/2'] };
      const url = local(server.port);
      const answer = await server.post(W, { headers: { 'content-type': FORM, 'x-twilio-signature': signForm(url, params) }, body: formBody(params) });
      expect(answer.status).toBe(200);
      expect(server.events[0].params.MediaUrl).toBe('https://m.example/2');
      // signed over the last value only: not what Twilio signs
      const lastOnly = { ...params, MediaUrl: 'https://m.example/2' };
      const wrong = await server.post(W, { headers: { 'content-type': FORM, 'x-twilio-signature': signForm(url, lastOnly) }, body: formBody(params) });
      expect(wrong.status).toBe(403);
    } finally {
      await server.close();
    }
  });

  it('validateSignature=false accepts unsigned requests, marked unchecked', async () => {
    const server = await startIngress({ config: { validateSignature: false, authToken: undefined } });
    try {
      const params = messageAdded();
      expect((await server.post(W, { headers: { 'content-type': FORM }, body: formBody(params) })).status).toBe(200);
      expect(server.events[0].signature).toBe('unchecked');
    } finally {
      await server.close();
    }
  });

  it('validation on without an auth token: every request is 403, with a log line naming TWILIO_AUTH_TOKEN', async () => {
    const server = await startIngress({ config: { authToken: undefined } });
    try {
      const params = messageAdded();
      const url = local(server.port);
      const answer = await server.post(W, { headers: { 'content-type': FORM, 'x-twilio-signature': signForm(url, params) }, body: formBody(params) });
      expect(answer.status).toBe(403);
      expect(server.events).toHaveLength(0);
      expect(server.logs.filter((l) => l.includes('TWILIO_AUTH_TOKEN')).length).toBeGreaterThanOrEqual(2); // at start and per request
      expect(server.count('signature_rejected', { reason: 'no-auth-token' })).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('signature: a refused body is never logged', () => {
  let server: Ingress;
  afterEach(() => server.close());

  it('neither a forged form body nor a forged JSON body reaches the log', async () => {
    server = await startIngress();
    const marker = 'SECRET-9f3c1e-PAYLOAD';
    const params = { ...messageAdded(), Body: `${marker} card 4111 1111 1111 1111` };
    const url = local(server.port);
    const form = await server.post(W, { headers: { 'content-type': FORM, 'x-twilio-signature': 'forged' }, body: formBody(params) });
    expect(form.status).toBe(403);
    const raw = JSON.stringify(params);
    const { url: jsonUrl } = signJson(url, raw);
    const json = await server.post(targetOf(jsonUrl), { headers: { 'content-type': 'application/json', 'x-twilio-signature': 'forged' }, body: raw });
    expect(json.status).toBe(403);
    // a signed but malformed JSON body: its parse error must not quote it either
    const bad = `{"Body":"${marker}", oops}`;
    const signedBad = signJson(url, bad);
    const malformed = await server.post(targetOf(signedBad.url), { headers: { 'content-type': 'application/json', 'x-twilio-signature': signedBad.signature }, body: bad });
    expect(malformed.status).toBe(400);
    expect(malformed.text).not.toContain(marker);

    expect(server.logs.length).toBeGreaterThan(0);
    expect(server.logs.some((l) => l.includes('webhook refused'))).toBe(true);
    for (const line of server.logs) {
      expect(line).not.toContain(marker);
      expect(line).not.toContain('4111');
    }
  });
});

describe('publicUrlOf', () => {
  const req = (url: string, headers: Record<string, string>, encrypted = false) => ({ url, headers, encrypted });

  it('keeps the raw target byte for byte', () => {
    const target = "/hook?b=2&a=O'Hara+Smith&c=%20&d=sip:x@y";
    expect(publicUrlOf(req(target, { host: 'h.example' }), { trustProxy: false })).toBe(`http://h.example${target}`);
    expect(publicUrlOf(req(target, { host: 'h.example' }), { publicUrl: 'https://p.example/pre/', trustProxy: false })).toBe(`https://p.example/pre${target}`);
  });

  it('uses the socket protocol, and the forwarded headers only when trusted', () => {
    const headers = { host: 'inner:8080', 'x-forwarded-host': 'outer.example', 'x-forwarded-proto': 'https' };
    expect(publicUrlOf(req('/x', headers, true), { trustProxy: false })).toBe('https://inner:8080/x');
    expect(publicUrlOf(req('/x', headers), { trustProxy: false })).toBe('http://inner:8080/x');
    expect(publicUrlOf(req('/x', headers), { trustProxy: true })).toBe('https://outer.example/x');
    expect(publicUrlOf(req('/x', { host: 'inner', 'x-forwarded-proto': 'gopher' }), { trustProxy: true })).toBe('http://inner/x');
  });

  it('knows no URL without a usable host', () => {
    expect(publicUrlOf(req('/x', {}), { trustProxy: false })).toBeUndefined();
    expect(publicUrlOf(req('/x', { host: 'evil.example/a?' }), { trustProxy: false })).toBeUndefined();
  });

  it('reduces an absolute-form target to its path and query', () => {
    expect(publicUrlOf(req('http://h.example/x?q=1', { host: 'h.example' }), { trustProxy: false })).toBe('http://h.example/x?q=1');
  });
});
