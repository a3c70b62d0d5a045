/**
 * The inspector's server side, over plain HTTP: the page and its assets served by the emulator (within the size
 * budget), its read API (search, filters, keyset paging, a conversation, its messages with receipts, its webhook
 * timeline, the phones), the live stream, and `--control-token` on the API but not on the page.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, useEmulator, type TestEmulator } from './support/emulator.js';
import { useReceiver } from './support/webhook-receiver.js';
import { UI_DIR } from '../src/emulator/ui/ui-plugin.js';

const t = useEmulator();
const rx = useReceiver(() => t.emulator.authToken);
const v1 = () => t.client.conversations.v1;
const api = (path: string) => t.http('GET', `/_emulator/ui/api${path}`, { auth: null });

const root = fileURLToPath(new URL('../', import.meta.url));
const PROXY = '+15017122661';
const PHONE = '+15558675310';

describe('the page', () => {
  it('is served at /_emulator/ui with its script and stylesheet, under 150 KB gzipped in all', async () => {
    const page = await t.http('GET', '/_emulator/ui', { auth: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const assets = [...page.text.matchAll(/(?:src|href)="(\/_emulator\/ui\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.sort()).toEqual(['/_emulator/ui/assets/app.css', '/_emulator/ui/assets/app.js']);
    let gzipped = gzipSync(page.text).length;
    for (const path of assets) {
      const r = await t.http('GET', path, { auth: null });
      expect(r.status).toBe(200);
      expect(r.text.length).toBeGreaterThan(1000);
      gzipped += gzipSync(r.text).length;
    }
    expect(gzipped).toBeLessThan(150 * 1024);
    // the built files are the ones the package ships (package.json "files": dist)
    expect(readFileSync(`${UI_DIR}assets/app.js`, 'utf8')).toBe((await t.http('GET', '/_emulator/ui/assets/app.js', { auth: null })).text);
    console.log(`inspector page: ${(gzipped / 1024).toFixed(1)} KB gzipped (html + js + css)`);
  });

  it('ships in the npm package (dist/ui)', () => {
    const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as [{ files: { path: string }[] }];
    const shipped = pack.files.map((f) => f.path).filter((p) => p.startsWith('dist/ui/'));
    expect(shipped.sort()).toEqual(['dist/ui/assets/app.css', 'dist/ui/assets/app.js', 'dist/ui/index.html']);
  });

  it('answers an unknown asset 404 in the Twilio envelope', async () => {
    const r = await t.http('GET', '/_emulator/ui/assets/other.js', { auth: null });
    expect(r.status).toBe(404);
    expect(r.body.code).toBe(20404);
  });
});

describe('conversations search', () => {
  it('matches a SID exactly, a UniqueName by prefix and a FriendlyName anywhere; filters by state and service', async () => {
    const a = await v1().conversations.create({ friendlyName: 'Refund for order 42', uniqueName: 'order-42' });
    const b = await v1().conversations.create({ friendlyName: 'Delivery question', uniqueName: 'order-43' });
    const c = await v1().conversations.create({ friendlyName: 'closed one' });
    await v1().conversations(c.sid).update({ state: 'closed' });
    const sids = async (query: string) => ((await api(`/conversations?${query}`)).body.conversations as { sid: string }[]).map((x) => x.sid);
    expect(await sids(`q=${b.sid}`)).toEqual([b.sid]);
    expect(await sids('q=order-4')).toEqual([b.sid, a.sid]);
    expect(await sids('q=order%2042')).toEqual([a.sid]);
    expect(await sids('q=QUESTION')).toEqual([b.sid]);
    // LIKE wildcards are taken literally
    expect(await sids('q=%25')).toEqual([]);
    expect(await sids('state=closed')).toEqual([c.sid]);
    expect(await sids(`serviceSid=${t.emulator.defaultServiceSid}`)).toEqual([c.sid, b.sid, a.sid]);
    expect(await sids('serviceSid=IS00000000000000000000000000000000')).toEqual([]);
    expect(await sids(`accountSid=${t.emulator.accountSid}&state=active`)).toEqual([b.sid, a.sid]);
    const scopes = await api('/scopes');
    expect(scopes.body.services.map((s: { sid: string }) => s.sid)).toContain(t.emulator.defaultServiceSid);
  });

  it('pages newest first by cursor, without gaps or repeats', async () => {
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await v1().conversations.create({ friendlyName: `c${i}` })).sid);
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const r = await api(`/conversations?limit=3${next ? `&after=${next}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.conversations.map((c: { sid: string }) => c.sid));
      next = r.body.next;
    } while (next);
    expect(seen).toEqual(made.reverse());
  });

  it('refuses bad input with a precise message', async () => {
    for (const [query, message] of [
      ['state=open', 'state must be one of active, inactive, closed'],
      ['limit=0', 'limit must be an integer from 1 to 200'],
      ['limit=abc', 'limit must be an integer from 1 to 200'],
      ['after=-1', 'after must be a cursor from a previous page'],
    ]) {
      const r = await api(`/conversations?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.message).toBe(message);
    }
    const missing = await api('/conversations/CH00000000000000000000000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe(20404);
  });
});

describe('a conversation', () => {
  it('shows participants with binding, opt-out and reachability, and messages with a receipt per participant', async () => {
    const c = await v1().conversations.create({ friendlyName: 'sms' });
    const sms = await v1().conversations(c.sid).participants.create({ 'messagingBinding.address': PHONE, 'messagingBinding.proxyAddress': PROXY });
    await v1().conversations(c.sid).participants.create({ identity: 'alice' });
    const first = await v1().conversations(c.sid).messages.create({ author: 'alice', body: 'hello' });
    // the handset opts out: the next message fails 21610
    expect((await t.http('POST', '/_emulator/inbound', { auth: null, contentType: 'application/json', body: JSON.stringify({ From: PHONE, To: PROXY, Body: 'STOP' }) })).status).toBe(201);
    const second = await v1().conversations(c.sid).messages.create({ author: 'alice', body: 'are you there?' });

    const detail = await api(`/conversations/${c.sid}`);
    expect(detail.status).toBe(200);
    const phone = detail.body.participants.find((p: { sid: string }) => p.sid === sms.sid);
    expect(phone).toMatchObject({ channel: 'sms', address: PHONE, proxyAddress: PROXY, optedOut: true, reachability: 'opted out (21610)' });
    expect(detail.body.participants.find((p: { identity: string }) => p.identity === 'alice')).toMatchObject({ channel: 'chat', optedOut: false, reachability: 'chat' });
    expect(detail.body.messageCount).toBe(3);

    const messages = await api(`/conversations/${c.sid}/messages`);
    const bySid = new Map(messages.body.messages.map((m: { sid: string }) => [m.sid, m]));
    expect(bySid.get(first.sid)).toMatchObject({ body: 'hello', receipts: [{ participantSid: sms.sid, status: 'delivered', errorCode: null }] });
    expect(bySid.get(second.sid)).toMatchObject({ receipts: [{ participantSid: sms.sid, status: 'failed', errorCode: 21610 }] });
    // oldest first within the page
    expect(messages.body.messages.map((m: { index: number }) => m.index)).toEqual([0, 1, 2]);

    const older = await api(`/conversations/${c.sid}/messages?limit=2`);
    expect(older.body.messages.map((m: { index: number }) => m.index)).toEqual([1, 2]);
    const rest = await api(`/conversations/${c.sid}/messages?limit=2&before=${older.body.next}`);
    expect(rest.body.messages.map((m: { index: number }) => m.index)).toEqual([0]);
    expect(rest.body.next).toBeNull();

    const phones = await api('/phones');
    const card = phones.body.phones.find((p: { address: string }) => p.address === PHONE);
    expect(card.optOuts).toEqual([{ sender: PROXY, since: expect.any(String) }]);
    expect(card.senders).toEqual([PROXY]);
    expect(card.messages.map((m: { direction: string; body: string; status: string; errorCode: number | null }) => [m.direction, m.body, m.status, m.errorCode])).toEqual([
      ['received', 'hello', 'delivered', null],
      ['sent', 'STOP', 'received', null],
      // Twilio's STOP confirmation, then the message that could not go
      ...card.messages.slice(2, -1).map((m: { direction: string; body: string; status: string; errorCode: number | null }) => [m.direction, m.body, m.status, m.errorCode]),
      ['received', 'are you there?', 'failed', 21610],
    ]);
  });

  it('shows the webhook timeline: a duplicate rule gives two deliveries with one idempotency token, the rule named', async () => {
    await v1().services(t.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: rx.url(), filters: ['onMessageAdded'], method: 'POST' });
    const c = await v1().conversations.create({ friendlyName: 'hooks' });
    expect((await t.http('PUT', '/_emulator/faults/webhooks', { auth: null, contentType: 'application/json', body: JSON.stringify({ rules: [{ match: { eventType: 'onMessageAdded' }, action: { type: 'duplicate', count: 1 } }] }) })).status).toBe(200);
    await v1().conversations(c.sid).messages.create({ author: 'alice', body: 'hi', xTwilioWebhookEnabled: 'true' });
    await t.emulator.control.waitForDelivery((d) => d.conversationSid === c.sid && d.duplicateOf !== null);
    await t.emulator.control.waitForDelivery((d) => d.conversationSid === c.sid && d.duplicateOf === null);
    const timeline = await api(`/conversations/${c.sid}/webhooks`);
    expect(timeline.status).toBe(200);
    const deliveries = timeline.body.deliveries as { id: number; idempotencyToken: string; fault: string; state: string; attempts: { status: number }[]; request: { method: string; url: string; headers: Record<string, string>; body: string } }[];
    expect(deliveries).toHaveLength(2);
    expect(deliveries[0].idempotencyToken).toBe(deliveries[1].idempotencyToken);
    expect(deliveries.map((d) => d.fault)).toEqual(['duplicate (original)', `duplicate (copy of #${deliveries[0].id})`]);
    expect(deliveries.map((d) => [d.state, d.attempts.map((a) => a.status)])).toEqual([['delivered', [200]], ['delivered', [200]]]);
    // the signed request, as sent: the consumer checked the same signature
    const request = deliveries[0].request;
    expect(request.url).toBe(rx.url());
    expect(request.headers['i-twilio-idempotency-token']).toBe(deliveries[0].idempotencyToken);
    const received = rx.requests.find((r) => r.idempotencyToken === deliveries[0].idempotencyToken);
    expect(received?.signatureValid).toBe(true);
    expect(request.headers['x-twilio-signature']).toBe(received?.signature);
    expect(request.body).toBe(received?.body);
  });
});

describe('a long timeline', () => {
  it('shows the newest 500 deliveries, in order, and says that earlier ones are left out', async () => {
    await v1().services(t.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: rx.url(), filters: ['onMessageAdded'], method: 'POST' });
    const c = await v1().conversations.create({ friendlyName: 'busy' });
    const short = await api(`/conversations/${c.sid}/webhooks`);
    expect(short.body).toEqual({ earlierNotShown: false, deliveries: [] });
    for (let batch = 0; batch < 6; batch++) {
      await Promise.all(Array.from({ length: 86 }, (_, i) => v1().conversations(c.sid).messages.create({ author: 'bot', body: `m${batch * 86 + i}`, xTwilioWebhookEnabled: 'true' })));
    }
    // 516 messages, one delivery each (pending or not: the timeline shows both)
    const timeline = await api(`/conversations/${c.sid}/webhooks`);
    expect(timeline.status).toBe(200);
    const deliveries = timeline.body.deliveries as { id: number; eventType: string }[];
    expect(timeline.body.earlierNotShown).toBe(true);
    expect(deliveries).toHaveLength(500);
    const all = t.emulator.control.deliveries({ conversationSid: c.sid, limit: 10_000 });
    expect(all).toHaveLength(516);
    // the newest 500, oldest first
    expect(deliveries.map((d) => d.id)).toEqual(all.slice(16).map((d) => d.id));
    // every delivery out before the next test: one arriving then would count as that test's
    const deadline = Date.now() + 30_000;
    while (t.emulator.control.deliveries({ conversationSid: c.sid, state: 'pending', limit: 1 }).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(t.emulator.control.deliveries({ conversationSid: c.sid, state: 'delivered', limit: 10_000 })).toHaveLength(516);
  }, 60_000);
});

describe('the timeline names the fault rule that acted', () => {
  it('drop, delay and fail, each read back from its delivery', async () => {
    await v1().services(t.emulator.defaultServiceSid).configuration.webhooks().update({
      postWebhookUrl: rx.url(),
      filters: ['onConversationAdded', 'onParticipantAdded', 'onMessageAdded'],
      method: 'POST',
    });
    const rules = [
      { match: { eventType: 'onConversationAdded' }, action: { type: 'drop' } },
      { match: { eventType: 'onParticipantAdded' }, action: { type: 'delay', ms: 200 } },
      { match: { eventType: 'onMessageAdded' }, action: { type: 'fail', status: 500 } },
    ];
    expect((await t.http('PUT', '/_emulator/faults/webhooks', { auth: null, contentType: 'application/json', body: JSON.stringify({ rules }) })).status).toBe(200);
    const c = await v1().conversations.create({ friendlyName: 'faults', xTwilioWebhookEnabled: 'true' });
    await v1().conversations(c.sid).participants.create({ identity: 'alice', xTwilioWebhookEnabled: 'true' });
    await v1().conversations(c.sid).messages.create({ author: 'alice', body: 'hi', xTwilioWebhookEnabled: 'true' });
    for (const eventType of ['onConversationAdded', 'onParticipantAdded', 'onMessageAdded']) {
      await t.emulator.control.waitForDelivery((d) => d.conversationSid === c.sid && d.eventType === eventType);
    }
    const timeline = (await api(`/conversations/${c.sid}/webhooks`)).body.deliveries as { eventType: string; state: string; fault: string; retryCount: number; attempts: { status: number | null; error: string | null }[] }[];
    const byEvent = Object.fromEntries(timeline.map((d) => [d.eventType, d]));
    expect(byEvent.onConversationAdded).toMatchObject({ state: 'dropped', fault: 'drop', attempts: [] });
    expect(byEvent.onParticipantAdded).toMatchObject({ state: 'delivered', fault: 'delay (200 ms)', attempts: [{ status: 200 }] });
    // the injected 500 is the first attempt (no retry of a post-event's 5xx without a `#rp` override)
    expect(byEvent.onMessageAdded).toMatchObject({ state: 'failed', fault: 'fail (500)', retryCount: 0, attempts: [{ status: 500, error: 'injected failure' }] });
    expect(rx.requests.map((r) => r.params.EventType)).toEqual(['onParticipantAdded']);
  });
});

describe('the live stream', () => {
  it('reports committed changes and webhook deliveries, and ends when the emulator closes', async () => {
    const own = await startEmulator();
    const after: (() => Promise<void>)[] = [];
    try {
      const controller = new AbortController();
      const res = await fetch(`${own.emulator.url}/_emulator/ui/api/events`, { signal: controller.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      const until = async (predicate: (s: string) => boolean) => {
        const deadline = Date.now() + 5000;
        while (!predicate(text)) {
          if (Date.now() > deadline) throw new Error(`stream said only: ${text}`);
          const { value, done } = await reader.read();
          if (done) return false;
          text += value;
        }
        return true;
      };
      const c = await own.client.conversations.v1.conversations.create({ friendlyName: 'streamed' });
      await until((s) => s.includes(c.sid));
      const items = text.split('\n').filter((l) => l.startsWith('data: ')).flatMap((l) => JSON.parse(l.slice(6)) as { kind: string; resource: string; sid: string }[]);
      expect(items).toContainEqual(expect.objectContaining({ kind: 'resource', resource: 'Conversation', action: 'created', sid: c.sid, conversationSid: c.sid }));
      // a webhook delivery and its attempt are reported too (read from the delivery table, not the change feed)
      // this emulator's own consumer (the file's receiver checks signatures with the other emulator's token)
      const consumer = createServer((_req, res) => res.end());
      await new Promise<void>((resolve) => consumer.listen(0, '127.0.0.1', resolve));
      after.push(() => new Promise((resolve) => consumer.close(() => resolve())));
      const hook = `http://127.0.0.1:${(consumer.address() as AddressInfo).port}/hook`;
      await own.client.conversations.v1.services(own.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: hook, filters: ['onMessageAdded'], method: 'POST' });
      await own.client.conversations.v1.conversations(c.sid).messages.create({ author: 'alice', body: 'hi', xTwilioWebhookEnabled: 'true' });
      await until((s) => s.includes('"kind":"webhook"'));
      const webhook = text.split('\n').filter((l) => l.startsWith('data: ')).flatMap((l) => JSON.parse(l.slice(6)) as { kind: string }[]).find((i) => i.kind === 'webhook');
      expect(webhook).toMatchObject({ kind: 'webhook', conversationSid: c.sid, sid: expect.stringMatching(/^\d+$/) });
      // closing the emulator ends the stream (it does not hold the close up)
      const closed = own.emulator.close();
      expect(await until(() => false)).toBe(false);
      await closed;
    } finally {
      await own.emulator.close().catch(() => undefined);
      for (const f of after) await f();
    }
  });
});

describe('the live stream bound', () => {
  it('holds at most 32 streams: the 33rd is refused 429, and a closed one frees its place', async () => {
    const controllers = Array.from({ length: 33 }, () => new AbortController());
    try {
      const open = async (c: AbortController) => (await fetch(`${t.emulator.url}/_emulator/ui/api/events`, { signal: c.signal })).status;
      const statuses = [];
      for (const c of controllers.slice(0, 32)) statuses.push(await open(c));
      expect(statuses).toEqual(Array(32).fill(200));
      const refused = await t.http('GET', '/_emulator/ui/api/events', { auth: null });
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe(20429);
      controllers[0].abort();
      await expect.poll(() => open(controllers[32])).toBe(200);
    } finally {
      for (const c of controllers) c.abort();
    }
  });
});

describe('with --control-token', () => {
  let secured: TestEmulator;
  beforeAll(async () => {
    secured = await startEmulator({ controlToken: 'sesame' });
  });
  afterAll(async () => {
    await secured.emulator.close();
  });

  it('serves the page openly and refuses the API without the bearer token', async () => {
    expect((await secured.http('GET', '/_emulator/ui', { auth: null })).status).toBe(200);
    expect((await secured.http('GET', '/_emulator/ui/assets/app.js', { auth: null })).status).toBe(200);
    for (const path of ['/scopes', '/conversations', '/phones', '/clients', '/events']) {
      const refused = await secured.http('GET', `/_emulator/ui/api${path}`, { auth: null });
      expect(refused.status, path).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer');
      expect((await secured.http('GET', `/_emulator/ui/api${path}`, { auth: null, headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    }
    const ok = await secured.http('GET', '/_emulator/ui/api/conversations', { auth: null, headers: { authorization: 'Bearer sesame' } });
    expect(ok.status).toBe(200);
    const clients = await secured.http('GET', '/_emulator/ui/api/clients', { auth: null, headers: { authorization: 'Bearer sesame' } });
    expect(clients.body).toEqual({ clients: [], total: 0, connecting: 0, truncated: false });
  });
});
