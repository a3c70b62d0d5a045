/**
 * The emulator drives the reference router end to end: its signed webhooks (with X-Twilio-Webhook-Enabled), its
 * simulated channels and its fault rules feed the router; assertions read the router's state API and the
 * emulator's REST state, outbox and request log. Every scenario runs on SQLite and on PostgreSQL + Redis.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { useEmulator } from './support/emulator.js';
import { storeBackends, type StoreBackend } from './support/router-stores.js';
import { aimWebhooksAt, eventually, expectExactlyOnceInOrder, freePort, routerApi, settle, startRouterFor } from './support/router.js';
import type { RouterHandle } from '../src/router/create-router.js';

const t = useEmulator();
const json = (body: unknown) => ({ body: JSON.stringify(body), contentType: 'application/json', auth: null });
const TEMPLATE = 'HX0123456789abcdef0123456789abcdef';


async function postSigned(router: RouterHandle, path: string, params: Record<string, string>, token: string, headers: Record<string, string> = {}) {
  const url = router.url + path;
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, params), ...headers },
    body: new URLSearchParams(params).toString(),
  });
}

describe.each(storeBackends())('router end to end on $name', (backend) => {
  let router: RouterHandle;
  let running: RouterHandle | undefined;
  let prepared: ReturnType<StoreBackend['prepare']> | undefined;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
  });

  async function start(options: Parameters<typeof startRouterFor>[2] = {}) {
    prepared = backend.prepare();
    const started = await startRouterFor(t, prepared.options, {
      port,
      publicUrl: `http://127.0.0.1:${port}`,
      defaultProxyAddress: '+15550001000',
      defaultWhatsappProxy: 'whatsapp:+15550001000',
      ...options,
    });
    router = started;
    running = started;
    await aimWebhooksAt(t, started);
    return started;
  }

  afterEach(async () => {
    // taken first: a late cleanup must never drop the next test's schema
    const [router, stores] = [running, prepared];
    running = undefined;
    prepared = undefined;
    await router?.close();
    await stores?.cleanup();
  });

  async function smsConversation(handset: string, proxy = '+15550001000', attributes?: object) {
    const conversation = await t.client.conversations.v1.conversations.create({ friendlyName: 'support' });
    const participant = await conversation.participants().create({
      'messagingBinding.address': handset,
      'messagingBinding.proxyAddress': proxy,
      ...(attributes ? { attributes: JSON.stringify(attributes) } : {}),
      xTwilioWebhookEnabled: 'true',
    });
    return { conversation, participant };
  }

  it('answers 403 to a wrong signature, counts it, and stores nothing', async () => {
    await start();
    const forged = await postSigned(router, router.config.paths.webhook, { EventType: 'onMessageAdded', ConversationSid: 'CH' + '0'.repeat(32) }, 'not-the-token');
    expect(forged.status).toBe(403);
    const metrics = await (await fetch(router.url + '/metrics')).text();
    expect(metrics).toMatch(/tce_router_signature_rejected_total\{endpoint="[^"]+"\} 1/);
    expect(await router.events.readLog(0, 10)).toEqual([]);
    const good = await postSigned(router, router.config.paths.webhook, { EventType: 'onConversationAdded', ConversationSid: 'CH' + '1'.repeat(32), DateCreated: '2026-12-01T10:00:00.000Z' }, t.emulator.authToken);
    expect(good.status).toBe(200);
  });

  it('applies an event delivered 10 times once', async () => {
    await start();
    await t.http('PUT', '/_emulator/faults/webhooks', json({ rules: [{ match: { eventType: 'onMessageAdded' }, action: { type: 'duplicate', count: 9 } }] }));
    const conversation = await t.client.conversations.v1.conversations.create({ uniqueName: 'dupes', xTwilioWebhookEnabled: 'true' });
    const message = await conversation.messages().create({ author: 'agent', body: 'once', xTwilioWebhookEnabled: 'true' });
    await settle(t, router);
    const deliveries = (await t.http('GET', `/_emulator/webhooks/deliveries?eventType=onMessageAdded&limit=100`, { auth: null })).body.deliveries;
    expect(deliveries.length).toBe(10);
    const logged = (await router.events.readLog(0, 1000)).filter((e) => e.eventType === 'onMessageAdded');
    expect(logged.map((e) => e.params.MessageSid)).toEqual([message.sid]);
    const state = await routerApi(router, 'GET', '/api/conversations/dupes/state');
    expect(state.status).toBe(200);
    expect(state.body.messages.map((m: { sid: string; body: string }) => [m.sid, m.body])).toEqual([[message.sid, 'once']]);
    await expectExactlyOnceInOrder(router);
    expect((await router.replay()).differences).toEqual([]);
  });

  it('converges shuffled receipts to the in-order state', async () => {
    await start();
    await t.http('PUT', '/_emulator/faults/webhooks', json({ rules: [{ match: { eventType: 'onDeliveryUpdated' }, action: { type: 'reorder', window: 6, ms: 300 } }] }));
    const conversation = await t.client.conversations.v1.conversations.create({ uniqueName: 'receipts' });
    const handsets = ['+15557770001', '+15557770002', '+15557770003'];
    for (const h of handsets) await conversation.participants().create({ 'messagingBinding.address': h, 'messagingBinding.proxyAddress': '+15550001000', xTwilioWebhookEnabled: 'true' });
    const message = await conversation.messages().create({ author: 'agent', body: 'hello all', xTwilioWebhookEnabled: 'true' });
    await settle(t, router);
    const receipts = await t.client.conversations.v1.conversations(conversation.sid).messages(message.sid).deliveryReceipts.list();
    expect(receipts.length).toBe(3);
    const expected = Object.fromEntries(receipts.map((r) => [r.participantSid, r.status]));
    const state = await routerApi(router, 'GET', `/api/conversations/${conversation.sid}/state`);
    const routed = state.body.messages.find((m: { sid: string }) => m.sid === message.sid);
    expect(routed.delivery).toEqual(expected);
    expect(Object.values(expected)).toEqual(['delivered', 'delivered', 'delivered']);
    expect((await router.replay()).differences).toEqual([]);
  });

  it('inbound STOP suppresses, removes the participant, and the next send is refused without calling Twilio', async () => {
    await start();
    const handset = '+15557771234';
    const { conversation, participant } = await smsConversation(handset);
    const inbound = await t.http('POST', '/_emulator/inbound', json({ From: handset, To: '+15550001000', Body: ' stop ' }));
    expect(inbound.status).toBe(201);
    await eventually(async () => {
      const state = await routerApi(router, 'GET', `/api/conversations/${conversation.sid}/state`);
      const p = state.body.participants.find((x: { sid: string }) => x.sid === participant.sid);
      expect(p).toMatchObject({ address: handset, suppressed: true, removed: true });
    });
    await expect(t.client.conversations.v1.conversations(conversation.sid).participants(participant.sid).fetch()).rejects.toMatchObject({ status: 404 });
    const suppressions = await routerApi(router, 'GET', '/api/suppressions');
    expect(suppressions.body.suppressions).toEqual([expect.objectContaining({ address: handset, sender: '+15550001000', reason: 'keyword' })]);

    await t.http('DELETE', '/_emulator/requests', { auth: null });
    const refused = await routerApi(router, 'POST', '/api/messages', { conversation: conversation.sid, body: 'are you there?' });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toBe('suppressed');
    const requests = (await t.http('GET', '/_emulator/requests', { auth: null })).body.requests;
    expect(requests.filter((r: { method: string }) => r.method === 'POST')).toEqual([]);
    await settle(t, router);
    expect((await router.replay()).differences).toEqual([]);
  });

  it('30003 marks the participant unreachable and falls back once, never again on the fallback\'s failure', async () => {
    await start({ fallback: { order: ['whatsapp', 'task'], whatsappTemplateSid: TEMPLATE } });
    const handset = '+15557772000';
    const whatsapp = 'whatsapp:+15557772000';
    await t.http('PUT', `/_emulator/handsets/${encodeURIComponent(handset)}`, json({ outcome: 'failed', errorCode: 30003 }));
    await t.http('PUT', `/_emulator/handsets/${encodeURIComponent(whatsapp)}`, json({ outcome: 'failed', errorCode: 30003 }));
    const { conversation, participant } = await smsConversation(handset, '+15550001000', { fallback: { whatsapp } });
    await conversation.messages().create({ author: 'agent', body: 'your order shipped', xTwilioWebhookEnabled: 'true' });
    await eventually(async () => {
      const state = await routerApi(router, 'GET', `/api/conversations/${conversation.sid}/state`);
      expect(state.body.participants.find((p: { sid: string }) => p.sid === participant.sid)).toMatchObject({ reachable: false, lastErrorCode: 30003 });
    });
    await settle(t, router);
    // the fallback's own status callbacks (failed 30003) have come back and been applied
    await eventually(async () => {
      const outbox = (await t.http('GET', `/_emulator/outbox?to=${encodeURIComponent(whatsapp)}`, { auth: null })).body.messages;
      expect(outbox.length).toBe(1);
      expect(outbox[0].status).toBe('failed');
    });
    await settle(t, router);
    const fallbacks = (await router.events.readLog(0, 1000)).filter((e) => e.eventType === 'fallback');
    expect(fallbacks.map((e) => e.params.Outcome)).toEqual(['sent']);
    const refused = await routerApi(router, 'POST', '/api/messages', { conversation: conversation.sid, body: 'hello?' });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toBe('unreachable');
    expect((await router.replay()).differences).toEqual([]);
  });

  it('answers pre-events from its policies: identities, tenant from its derived state, PII', async () => {
    await start({ preEvent: { allowedIdentities: ['acme:*', 'globex:*'], enforceTenant: true, piiPatterns: ['\\b\\d{3}-\\d{2}-\\d{4}\\b'] } });
    await t.client.conversations.v1.configuration.webhooks().update({
      method: 'POST',
      preWebhookUrl: router.url + router.config.paths.preEvent,
      postWebhookUrl: router.url + router.config.paths.webhook,
      filters: ['onParticipantAdd', 'onMessageAdd', 'onConversationAdded', 'onParticipantAdded', 'onMessageAdded'],
    });
    const conversation = await t.client.conversations.v1.conversations.create({ uniqueName: 'acme-room', attributes: JSON.stringify({ tenantId: 'acme' }), xTwilioWebhookEnabled: 'true' });
    await eventually(async () => expect((await routerApi(router, 'GET', '/api/conversations/acme-room/state')).status).toBe(200));
    const on = { xTwilioWebhookEnabled: 'true' } as const;
    const alice = await conversation.participants().create({ identity: 'acme:alice', ...on });
    expect(alice.identity).toBe('acme:alice');
    await expect(conversation.participants().create({ identity: 'initech:eve', ...on })).rejects.toMatchObject({ status: 403, code: 20403 });
    await expect(conversation.participants().create({ identity: 'globex:bob', ...on })).rejects.toMatchObject({ status: 403, code: 20403 });
    await expect(conversation.messages().create({ author: 'acme:alice', body: 'my ssn is 123-45-6789', ...on })).rejects.toMatchObject({ status: 403, code: 20403 });
    await conversation.messages().create({ author: 'acme:alice', body: 'hello', ...on });
    expect((await conversation.participants().list()).map((p) => p.identity)).toEqual(['acme:alice']);
    expect((await conversation.messages().list()).map((m) => m.body)).toEqual(['hello']);
    const metrics = await (await fetch(router.url + '/metrics')).text();
    expect(metrics).toMatch(/tce_router_pre_event_decisions_total\{decision="deny",policy="tenant"\} 1/);
  });

  it('absorbs a 20429 storm with backoff and loses nothing', async () => {
    await start({ twilio: { maxRetries: 12 } });
    await t.http('PUT', '/_emulator/faults/rest', json({ rules: [{ match: { path: '/v1/*' }, probability: 0.5, times: 40, action: { type: 'error', status: 429, code: 20429 } }] }));
    const senders = Array.from({ length: 5 }, (_, i) => `+1555888000${i}`);
    for (const [i, from] of senders.entries()) {
      const answer = await postSigned(router, router.config.paths.inbound, { MessageSid: `SM${String(i).padStart(32, '0')}`, From: from, To: '+15550001000', Body: `hello ${i}`, NumMedia: '0', AccountSid: t.emulator.accountSid }, t.emulator.authToken);
      expect(answer.status).toBe(200);
    }
    await router.drain(30_000);
    const storm = (await t.http('GET', '/_emulator/requests?method=POST', { auth: null })).body.requests as Array<{ status: number }>;
    expect(storm.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    await t.http('DELETE', '/_emulator/faults/rest', { auth: null });
    for (const [i, from] of senders.entries()) {
      const conversation = await t.client.conversations.v1.conversations(`sms:${from}`).fetch();
      const messages = await conversation.messages().list();
      expect(messages.map((m) => [m.author, m.body])).toEqual([[from, `hello ${i}`]]);
      const participants = await conversation.participants().list();
      expect(participants.map((p) => (p.messagingBinding as { address: string }).address)).toEqual([from]);
    }
    const metrics = await (await fetch(router.url + '/metrics')).text();
    expect(metrics).toMatch(/tce_router_twilio_retries_total\{reason="429"\} [1-9]/);
    const outbox = (await t.http('GET', '/_emulator/outbox', { auth: null })).body.messages;
    expect(outbox.filter((m: { to: string }) => senders.includes(m.to))).toEqual([]);
  });
});
