/**
 * The ingress against the emulator standing in for Twilio: the emulator's own signed deliveries (post-events with
 * I-Twilio-Idempotency-Token, and pre-events) reach the router's ingress over real HTTP, are checked with the
 * account's auth token, and the pre-event policies refuse changes at the emulator's REST (403/20403). The tenant
 * lookup reads the conversation's attributes through the twilio SDK, as createRouter would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type TestEmulator } from './support/emulator.js';
import { PATHS, startIngress, type Ingress } from './support/router-ingress.js';

const ON = { xTwilioWebhookEnabled: 'true' as const };

describe('ingress behind the emulator', () => {
  let t: TestEmulator;
  let router: Ingress;
  let wrongToken: Ingress;
  const v1 = () => t.client.conversations.v1;

  beforeAll(async () => {
    t = await startEmulator();
    router = await startIngress({
      config: {
        authToken: t.emulator.authToken,
        preEvent: { allowedIdentities: ['acme:*', 'globex:*'], enforceTenant: true, piiPatterns: ['\\b\\d{3}-\\d{2}-\\d{4}\\b'] },
      },
      lookupConversation: async (sid) => (await v1().conversations(sid).fetch()).attributes,
    });
    wrongToken = await startIngress({ config: { authToken: 'f'.repeat(32) } });
  });
  afterAll(async () => {
    await router?.close();
    await wrongToken?.close();
    await t?.emulator.close();
  });

  const base = (server: Ingress) => `http://127.0.0.1:${server.port}`;
  const configure = (server: Ingress, query = '') =>
    v1()
      .services(t.emulator.defaultServiceSid)
      .configuration.webhooks()
      .update({
        preWebhookUrl: `${base(server)}${PATHS.preEvent}${query}`,
        postWebhookUrl: `${base(server)}${PATHS.webhook}${query}`,
        filters: ['onParticipantAdd', 'onMessageAdd', 'onMessageAdded', 'onParticipantAdded'],
        method: 'POST',
      });

  it("accepts the emulator's signed post-events (query string included) and refuses by policy at pre-event", async () => {
    // `+`, `%20`, `:`, `@` and `'` go out exactly as configured, so the signature over the received URL holds
    await configure(router, "?tenant=acme&note=a+b%20c&sip=sip:x@y&name=o'brien");
    const conversation = await v1().conversations.create({ friendlyName: 'acme room', attributes: JSON.stringify({ tenantId: 'acme' }) });
    const alice = await v1().conversations(conversation.sid).participants.create({ identity: 'acme:alice', ...ON });
    await v1().conversations(conversation.sid).messages.create({ author: 'acme:alice', body: 'hello', ...ON });

    // refused by the router's pre-event policies: the emulator answers 403/20403 and stores nothing
    const refused = async (p: Promise<unknown>) => expect(p).rejects.toMatchObject({ status: 403, code: 20403 });
    await refused(v1().conversations(conversation.sid).participants.create({ identity: 'initech:eve', ...ON })); // not allowed
    await refused(v1().conversations(conversation.sid).participants.create({ identity: 'globex:bob', ...ON })); // other tenant
    await refused(v1().conversations(conversation.sid).messages.create({ author: 'acme:alice', body: 'ssn 123-45-6789', ...ON })); // PII
    expect((await v1().conversations(conversation.sid).participants.list()).map((p) => p.identity)).toEqual(['acme:alice']);

    await t.emulator.control.waitForDelivery((d) => d.eventType === 'onMessageAdded', 8000);
    await t.emulator.control.waitForDelivery((d) => d.eventType === 'onParticipantAdded', 8000);
    const deadline = Date.now() + 5000;
    while (router.events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(router.events.map((e) => [e.eventType, e.signature, e.partitionKey])).toEqual([
      ['onParticipantAdded', 'valid', conversation.sid],
      ['onMessageAdded', 'valid', conversation.sid],
    ]);
    expect(router.events[0].params.ParticipantSid).toBe(alice.sid);
    // Twilio's idempotency token is the dedupe key
    for (const e of router.events) expect(e.dedupeKey).toMatch(/^conversations\|idem\|[0-9a-f]{32}$/);
    expect(router.count('signature_rejected')).toBe(0);
    expect(router.count('pre_event', { decision: 'deny', policy: 'identity' })).toBe(1);
    expect(router.count('pre_event', { decision: 'deny', policy: 'tenant' })).toBe(1);
    expect(router.count('pre_event', { decision: 'deny', policy: 'pii' })).toBe(1);
  });

  it('a router holding another auth token refuses every delivery with 403', async () => {
    await configure(wrongToken);
    const conversation = await v1().conversations.create({ friendlyName: 'x' });
    // the pre-event is refused (403): the change is refused too
    await expect(v1().conversations(conversation.sid).messages.create({ author: 'acme:alice', body: 'hi', ...ON })).rejects.toMatchObject({ status: 403 });
    expect(wrongToken.events).toHaveLength(0);
    expect(wrongToken.count('signature_rejected', { source: 'pre-event', reason: 'mismatch' })).toBe(1);
  });
});
