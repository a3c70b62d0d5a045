/**
 * The router against the emulator's simulated channels: a plain inbound SMS to a number whose webhook is the
 * router becomes a conversation; HELP and START; the WhatsApp 24-hour window before a send; the router's own
 * API (bearer token, bad bodies) and readiness. SQLite and PostgreSQL + Redis.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { useEmulator } from './support/emulator.js';
import { storeBackends, type StoreBackend } from './support/router-stores.js';
import { aimWebhooksAt, eventually, freePort, routerApi, settle, startRouterFor } from './support/router.js';
import type { RouterHandle, RouterOptions } from '../src/router/create-router.js';

const t = useEmulator();
const json = (body: unknown) => ({ body: JSON.stringify(body), contentType: 'application/json', auth: null });
const PROXY = '+15550001000';
const WA_PROXY = 'whatsapp:+15550001000';
const TEMPLATE = 'HX0123456789abcdef0123456789abcdef';

describe.each(storeBackends())('router and the simulated channels on $name', (backend) => {
  let router: RouterHandle;
  let running: RouterHandle | undefined;
  let prepared: ReturnType<StoreBackend['prepare']> | undefined;

  async function start(options: RouterOptions = {}) {
    prepared = backend.prepare();
    const port = await freePort();
    router = running = await startRouterFor(t, prepared.options, {
      port,
      publicUrl: `http://127.0.0.1:${port}`,
      defaultProxyAddress: PROXY,
      defaultWhatsappProxy: WA_PROXY,
      ...options,
    });
    await aimWebhooksAt(t, router);
    return router;
  }

  afterEach(async () => {
    // number webhooks survive the emulator's reset: each test sets its own
    await t.http('DELETE', `/_emulator/numbers/${encodeURIComponent(PROXY)}`, { auth: null });
    // taken first: a late cleanup must never drop the next test's schema
    const [router, stores] = [running, prepared];
    running = undefined;
    prepared = undefined;
    await router?.close();
    await stores?.cleanup();
  });

  const outboxTo = async (address: string) =>
    (await t.http('GET', `/_emulator/outbox?to=${encodeURIComponent(address)}`, { auth: null })).body.messages as Array<{ body: string; status: string; errorCode: number | null }>;

  it("a first SMS to the number's webhook becomes a conversation; the next goes straight to it; nothing is echoed back", async () => {
    await start();
    const handset = '+15559990001';
    const set = await t.http('PUT', `/_emulator/numbers/${encodeURIComponent(PROXY)}`, json({ smsUrl: router.url + router.config.paths.inbound }));
    expect(set.status).toBe(200);
    const first = await t.http('POST', '/_emulator/inbound', json({ From: handset, To: PROXY, Body: 'where is my order?' }));
    expect(first.body).toMatchObject({ routedTo: 'messaging', webhook: true });
    const conversation = await eventually(() => t.client.conversations.v1.conversations(`sms:${handset}`).fetch());
    await eventually(async () => expect((await conversation.messages().list()).map((m) => [m.author, m.body])).toEqual([[handset, 'where is my order?']]));
    const participants = await conversation.participants().list();
    expect(participants.map((p) => p.messagingBinding)).toEqual([expect.objectContaining({ address: handset, proxy_address: PROXY })]);

    const second = await t.http('POST', '/_emulator/inbound', json({ From: handset, To: PROXY, Body: 'hello?' }));
    expect(second.body).toMatchObject({ routedTo: 'conversation', conversationSid: conversation.sid });
    await settle(t, router);
    expect((await conversation.messages().list()).map((m) => m.body)).toEqual(['where is my order?', 'hello?']);
    expect(await outboxTo(handset)).toEqual([]);
    const state = await routerApi(router, 'GET', `/api/conversations/sms:${handset}/state`);
    expect(state.status).toBe(200);
    expect(state.body.participants).toEqual([expect.objectContaining({ address: handset, proxyAddress: PROXY, reachable: true, suppressed: false })]);
  });

  it('HELP gets the configured help text once; START lifts a STOP', async () => {
    await start({ compliance: { helpText: 'Acme support: reply STOP to opt out.' } });
    // once STOP has removed the participant, the START comes in as a plain Messaging inbound to the number
    await t.http('PUT', `/_emulator/numbers/${encodeURIComponent(PROXY)}`, json({ smsUrl: router.url + router.config.paths.inbound }));
    const handset = '+15559990002';
    const conversation = await t.client.conversations.v1.conversations.create({ friendlyName: 'help', xTwilioWebhookEnabled: 'true' });
    await conversation.participants().create({ 'messagingBinding.address': handset, 'messagingBinding.proxyAddress': PROXY, xTwilioWebhookEnabled: 'true' });

    await t.http('POST', '/_emulator/inbound', json({ From: handset, To: PROXY, Body: 'Help' }));
    await settle(t, router);
    await eventually(async () => expect((await outboxTo(handset)).filter((m) => m.body === 'Acme support: reply STOP to opt out.')).toHaveLength(1));

    await t.http('POST', '/_emulator/inbound', json({ From: handset, To: PROXY, Body: 'STOP' }));
    await eventually(async () => expect((await routerApi(router, 'GET', '/api/suppressions')).body.suppressions).toHaveLength(1));
    await t.http('POST', '/_emulator/inbound', json({ From: handset, To: PROXY, Body: 'start' }));
    await eventually(async () => expect((await routerApi(router, 'GET', '/api/suppressions')).body.suppressions).toEqual([]));
    await settle(t, router);
    const log = await router.events.readLog(0, 1000);
    expect(log.filter((e) => e.source === 'router').map((e) => e.eventType)).toEqual(['reply', 'suppressionAdded', 'participantRemoved', 'suppressionLifted']);
    const state = await routerApi(router, 'GET', `/api/conversations/${conversation.sid}/state`);
    expect(state.body.participants).toEqual([expect.objectContaining({ address: handset, suppressed: false, removed: true })]);
    expect((await router.replay()).differences).toEqual([]);
  });

  it("a configured STOP confirmation refused by Twilio's own opt-out (21610) does not hold up the suppression", async () => {
    await start({ compliance: { stopConfirmationText: 'You are unsubscribed from Acme.' } });
    const handset = '+15559990005';
    const conversation = await t.client.conversations.v1.conversations.create({ friendlyName: 'confirm', xTwilioWebhookEnabled: 'true' });
    await conversation.participants().create({ 'messagingBinding.address': handset, 'messagingBinding.proxyAddress': PROXY, xTwilioWebhookEnabled: 'true' });
    await t.http('POST', '/_emulator/inbound', json({ From: handset, To: PROXY, Body: 'STOP' }));
    await eventually(async () => expect((await routerApi(router, 'GET', '/api/suppressions')).body.suppressions).toHaveLength(1));
    await settle(t, router);
    const replies = (await router.events.readLog(0, 1000)).filter((e) => e.eventType === 'reply');
    expect(replies.map((e) => [e.params.Kind, e.params.Outcome])).toEqual([['stop', 'refused-21610']]);
    expect((await outboxTo(handset)).filter((m) => m.body === 'You are unsubscribed from Acme.')).toEqual([]);
    const state = await routerApi(router, 'GET', `/api/conversations/${conversation.sid}/state`);
    expect(state.body.participants).toEqual([expect.objectContaining({ suppressed: true, removed: true })]);
  });

  it('refuses a free-form WhatsApp send outside the 24-hour window without calling Twilio; inside it, sends', async () => {
    await start();
    const handset = 'whatsapp:+15559990003';
    const conversation = await t.client.conversations.v1.conversations.create({ friendlyName: 'wa', xTwilioWebhookEnabled: 'true' });
    await conversation.participants().create({ 'messagingBinding.address': handset, 'messagingBinding.proxyAddress': WA_PROXY, xTwilioWebhookEnabled: 'true' });
    await settle(t, router);

    await t.http('DELETE', '/_emulator/requests', { auth: null });
    const refused = await routerApi(router, 'POST', '/api/messages', { conversation: conversation.sid, body: 'your code is 1234' });
    expect(refused).toMatchObject({ status: 422, body: { error: 'outside_whatsapp_window' } });
    expect((await t.http('GET', '/_emulator/requests?method=POST', { auth: null })).body.requests).toEqual([]);

    await t.http('POST', '/_emulator/inbound', json({ From: handset, To: WA_PROXY, Body: 'hi' }));
    await settle(t, router);
    const sent = await routerApi(router, 'POST', '/api/messages', { conversation: conversation.sid, body: 'your code is 1234' });
    expect(sent.status).toBe(201);
    expect(sent.body.sid).toMatch(/^IM[0-9a-f]{32}$/);
    await eventually(async () => expect((await outboxTo(handset)).map((m) => [m.body, m.errorCode])).toEqual([['your code is 1234', null]]));
  });

  it('outside the window, a configured template goes out instead of a free-form message', async () => {
    await start({ fallback: { whatsappTemplateSid: TEMPLATE } });
    const handset = 'whatsapp:+15559990004';
    const conversation = await t.client.conversations.v1.conversations.create({ friendlyName: 'wa-template', xTwilioWebhookEnabled: 'true' });
    await conversation.participants().create({ 'messagingBinding.address': handset, 'messagingBinding.proxyAddress': WA_PROXY, xTwilioWebhookEnabled: 'true' });
    await settle(t, router);
    const sent = await routerApi(router, 'POST', '/api/messages', { conversation: conversation.sid, body: 'your code is 1234' });
    expect(sent.status).toBe(201);
    const message = await t.client.conversations.v1.conversations(conversation.sid).messages(sent.body.sid).fetch();
    expect(message.contentSid).toBe(TEMPLATE);
    await eventually(async () => expect((await outboxTo(handset)).map((m) => m.errorCode)).toEqual([null]));
  });

  it('the API wants its bearer token and a valid body; readiness names both stores', async () => {
    await start();
    const noToken = await fetch(router.url + '/api/suppressions');
    expect(noToken.status).toBe(401);
    const wrong = await fetch(router.url + '/api/suppressions', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const bad = await routerApi(router, 'POST', '/api/messages', { conversation: 'CH1' });
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const unknown = await routerApi(router, 'POST', '/api/messages', { conversation: 'CH' + 'f'.repeat(32), body: 'x' });
    expect(unknown).toMatchObject({ status: 404, body: { error: 'not_found' } });
    const missing = await routerApi(router, 'GET', '/api/conversations/nobody/state');
    expect(missing.status).toBe(404);
    const ready = await fetch(router.url + '/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', events: router.events.kind, kv: router.kv.kind, failing: [] });
    expect((await fetch(router.url + '/healthz')).status).toBe(200);
  });
});
