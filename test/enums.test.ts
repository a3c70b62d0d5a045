/**
 * Enum parameters match in any case and are answered in the spelling the spec lists (README, house decisions):
 * Twilio's own docs samples send `GET`/`POST` where the spec lists `get`/`post`, and what a fetch answers can be
 * sent back. `X-Twilio-Webhook-Enabled` enables webhooks for `true` in any case and fails no request.
 */
import { describe, expect, it } from 'vitest';
import type { AddressConfigurationListInstanceCreateOptions } from 'twilio/lib/rest/conversations/v1/addressConfiguration.js';
import type { WebhookListInstanceCreateOptions } from 'twilio/lib/rest/conversations/v1/conversation/webhook.js';
import { expectTwilioError, useEmulator } from './support/emulator.js';
import { useReceiver } from './support/webhook-receiver.js';

const t = useEmulator({ clock: 'manual' });
const rx = useReceiver(() => t.emulator.authToken);

const v1 = () => t.client.conversations.v1;
/** Twilio's docs samples are JavaScript: they send upper case where twilio-node's types (from the spec) say lower. */
const asWritten = <T>(sample: Record<string, unknown>) => sample as T;

describe('webhook methods: any case in, the spec spelling out, round trips', () => {
  it("Twilio's conversation-scoped webhook sample ('configuration.method': 'GET') creates; fetched and sent back it updates", async () => {
    const conversation = await v1().conversations.create({ friendlyName: 'docs sample' });
    // twilio.com/docs/conversations/api/conversation-scoped-webhook-resource, as written
    const webhook = await t.client.conversations.v1.conversations(conversation.sid).webhooks.create(
      asWritten<WebhookListInstanceCreateOptions>({
        target: 'webhook',
        'configuration.method': 'GET',
        'configuration.filters': ['onMessageAdded', 'onConversationRemoved'],
        'configuration.url': 'https://example.com',
      }),
    );
    // the spec lists get/post for this enum, and its examples answer "method": "get"
    expect(webhook.configuration).toEqual({ url: 'https://example.com', method: 'get', filters: ['onMessageAdded', 'onConversationRemoved'] });

    const fetched = await v1().conversations(conversation.sid).webhooks(webhook.sid).fetch();
    const back = await v1()
      .conversations(conversation.sid)
      .webhooks(webhook.sid)
      .update({ 'configuration.method': fetched.configuration.method, 'configuration.url': fetched.configuration.url, 'configuration.filters': fetched.configuration.filters });
    expect(back.configuration).toEqual(fetched.configuration);

    for (const [sent, answered] of [['POST', 'post'], ['Get', 'get'], ['post', 'post']]) {
      const raw = await t.http('POST', `/v1/Conversations/${conversation.sid}/Webhooks/${webhook.sid}`, { form: { 'Configuration.Method': sent } });
      expect(raw.status, sent).toBe(200);
      expect(raw.body.configuration.method, sent).toBe(answered);
    }
    const bad = await t.http('POST', `/v1/Conversations/${conversation.sid}/Webhooks/${webhook.sid}`, { form: { 'Configuration.Method': 'PUT' } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe(20001);
    expect((await v1().conversations(conversation.sid).webhooks(webhook.sid).fetch()).configuration.method).toBe('post');
  });

  it('a scoped webhook made with GET is called with GET', async () => {
    const conversation = await v1().conversations.create({ friendlyName: 'called with GET' });
    await v1().conversations(conversation.sid).webhooks.create(
      asWritten<WebhookListInstanceCreateOptions>({ target: 'webhook', 'configuration.method': 'GET', 'configuration.filters': ['onMessageAdded'], 'configuration.url': rx.url('/scoped') }),
    );
    const message = await v1().conversations(conversation.sid).messages.create({ body: 'hi', xTwilioWebhookEnabled: 'true' });
    await t.emulator.control.waitForDelivery((d) => d.state === 'delivered' && d.params.MessageSid === message.sid, 5000);
    expect(rx.requests.map((r) => [r.method, r.params.MessageSid, r.signatureValid])).toEqual([['GET', message.sid, true]]);
  });

  it("Twilio's address configuration sample ('autoCreation.webhookMethod': 'POST') creates; fetched and sent back it updates", async () => {
    // twilio.com/docs/conversations/api/address-configuration-resource, as written (with a service of this account)
    const created = await t.client.conversations.v1.addressConfigurations.create(
      asWritten<AddressConfigurationListInstanceCreateOptions>({
        friendlyName: 'My Test Configuration',
        'autoCreation.enabled': true,
        'autoCreation.type': 'webhook',
        'autoCreation.conversationServiceSid': t.emulator.defaultServiceSid,
        'autoCreation.webhookUrl': 'https://example.com',
        'autoCreation.webhookMethod': 'POST',
        'autoCreation.webhookFilters': ['onParticipantAdded', 'onMessageAdded'],
        type: 'sms',
        address: '+37256123457',
      }),
    );
    expect(created.autoCreation).toMatchObject({ webhook_url: 'https://example.com', webhook_method: 'post' });

    const fetched = await v1().addressConfigurations(created.sid).fetch();
    const auto = fetched.autoCreation as Record<string, never>;
    const back = await v1().addressConfigurations(created.sid).update({
      'autoCreation.webhookMethod': auto.webhook_method,
      'autoCreation.webhookUrl': auto.webhook_url,
      'autoCreation.webhookFilters': auto.webhook_filters,
    });
    expect(back.autoCreation).toEqual(fetched.autoCreation);
    const get = await t.http('POST', `/v1/Configuration/Addresses/${created.sid}`, { form: { 'AutoCreation.WebhookMethod': 'GET' } });
    expect(get.status).toBe(200);
    expect(get.body.auto_creation.webhook_method).toBe('get');
  });

  it('the account and service webhook Method take any case and answer GET/POST (the spec lists upper case there)', async () => {
    const account = () => v1().configuration.webhooks();
    const service = () => v1().services(t.emulator.defaultServiceSid).configuration.webhooks();
    for (const [sent, answered] of [['post', 'POST'], ['GET', 'GET'], ['Post', 'POST'], ['get', 'GET']] as const) {
      expect((await account().update({ method: sent })).method, sent).toBe(answered);
      expect((await service().update({ method: sent })).method, sent).toBe(answered);
    }
    // round trip: what a fetch answers is accepted back
    expect((await account().update({ method: (await account().fetch()).method })).method).toBe('GET');
    expect((await service().update({ method: (await service().fetch()).method })).method).toBe('GET');
    await expectTwilioError(account().update({ method: 'PUT' }), 400, 20001);
    await expectTwilioError(service().update({ method: 'PATCH' }), 400, 20001);
    await account().update({ method: 'POST' });
  });
});

describe('every enum follows the same rule', () => {
  it('State=Active, State=INACTIVE, Order=DESC and NotificationLevel=Muted are accepted and stored in the spec spelling', async () => {
    const created = await t.http('POST', '/v1/Conversations', { form: { FriendlyName: 'upper', State: 'INACTIVE' } });
    expect(created.status).toBe(201);
    expect(created.body.state).toBe('inactive');
    const active = await v1().conversations.create({ friendlyName: 'active one' });
    const list = await t.http('GET', '/v1/Conversations?State=Active&PageSize=5');
    expect(list.status).toBe(200);
    expect(list.body.conversations.map((c: { sid: string }) => c.sid)).toEqual([active.sid]);
    // the filter echoes as stored: the spec's spelling
    expect(list.body.meta.url).toBe(`${t.emulator.url}/v1/Conversations?State=active&PageSize=5&Page=0`);

    for (const body of ['one', 'two']) await v1().conversations(active.sid).messages.create({ body });
    const desc = await t.http('GET', `/v1/Conversations/${active.sid}/Messages?Order=DESC`);
    expect(desc.status).toBe(200);
    expect(desc.body.messages.map((m: { body: string }) => m.body)).toEqual(['two', 'one']);
    expect(desc.body.meta.url).toContain('Order=desc&');

    const participant = await v1().conversations(active.sid).participants.create({ identity: 'ann' });
    const level = await t.http('POST', `/v1/Users/ann/Conversations/${active.sid}`, { form: { NotificationLevel: 'Muted' } });
    expect(level.status, level.text).toBe(200);
    expect(level.body.notification_level).toBe('muted');
    expect(participant.sid).toBe(level.body.participant_sid);

    const unknown = await t.http('GET', '/v1/Conversations?State=activ');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 20001, status: 400 });
  });

  it('an enum stated only in prose follows it too: ListConfigurationAddress Type=WhatsApp', async () => {
    const whatsapp = await v1().addressConfigurations.create({ type: 'whatsapp', address: 'whatsapp:+15017122661' });
    await v1().addressConfigurations.create({ type: 'sms', address: '+15017122662' });
    const r = await t.http('GET', '/v1/Configuration/Addresses?Type=WhatsApp');
    expect(r.status).toBe(200);
    expect(r.body.address_configurations.map((a: { sid: string }) => a.sid)).toEqual([whatsapp.sid]);
    expect(r.body.meta.url).toBe(`${t.emulator.url}/v1/Configuration/Addresses?Type=whatsapp&PageSize=50&Page=0`);
    const unknown = await t.http('GET', '/v1/Configuration/Addresses?Type=fax');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 20001, message: expect.stringContaining('Type') });
  });

  it('X-Twilio-Webhook-Enabled: True or TRUE enables webhooks; any other value disables them and fails nothing', async () => {
    await v1().services(t.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: rx.url(), filters: ['onConversationAdded'], method: 'POST' });
    const made: Record<string, string> = {};
    for (const value of ['True', 'TRUE', 'yes', '1', 'False', '']) {
      const r = await t.http('POST', '/v1/Conversations', { form: { FriendlyName: `header ${value}` }, headers: { 'X-Twilio-Webhook-Enabled': value } });
      expect(r.status, `X-Twilio-Webhook-Enabled: ${value}`).toBe(201);
      made[value] = r.body.sid;
    }
    // through twilio-node too, as a caller copying the header from elsewhere would send it
    const sdk = await v1().conversations.create({ friendlyName: 'sdk', xTwilioWebhookEnabled: 'True' as 'true' });
    const expected = [made.True, made.TRUE, sdk.sid];
    for (const sid of expected) await t.emulator.control.waitForDelivery((d) => d.state === 'delivered' && d.conversationSid === sid, 5000);
    // a later enabled change on the same URL is the barrier: anything enqueued before it has had its chance
    const barrier = await v1().conversations.create({ friendlyName: 'barrier', xTwilioWebhookEnabled: 'true' });
    await t.emulator.control.waitForDelivery((d) => d.state === 'delivered' && d.conversationSid === barrier.sid, 5000);
    expect(rx.requests.map((r) => r.params.ConversationSid).sort()).toEqual([...expected, barrier.sid].sort());
  });
});
