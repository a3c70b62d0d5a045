/**
 * The router's ingress beyond signatures: dedupe and partition keys, the pre-event policies (through real HTTP,
 * signed), body bounds (413, 400 for malformed or too deeply nested JSON, 415), duplicates answered 200, and 503
 * when accept cannot commit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RouterConfig } from '../src/router/config-types.js';
import { decodeForm, decodeJson } from '../src/router/ingress/body.js';
import { jsonTooDeep } from '../src/shared/json-depth.js';
import { dedupeKeyOf, partitionKeyOf, toIncomingEvent } from '../src/router/ingress/dedupe-key.js';
import { compileGlob } from '../src/shared/glob.js';
import { compilePattern, tenantOf } from '../src/router/ingress/pre-event.js';
import { FORM, formBody, PATHS, signForm, signJson, startIngress, targetOf, type Ingress, type IngressSetup } from './support/router-ingress.js';

describe('dedupe keys', () => {
  const delivery = {
    EventType: 'onDeliveryUpdated',
    ConversationSid: 'CH1',
    MessageSid: 'IM1',
    ParticipantSid: 'MB1',
    DeliveryReceiptSid: 'DY1',
    Status: 'delivered',
    DateCreated: '2026-12-01T10:00:00.000Z',
    DateUpdated: '2026-12-01T10:00:01.000Z',
    RetryCount: '0',
  };

  it('the idempotency token wins, then EventSid', () => {
    expect(dedupeKeyOf('conversations', delivery, { 'i-twilio-idempotency-token': 'tok-1' })).toBe('conversations|idem|tok-1');
    expect(dedupeKeyOf('conversations', { ...delivery, RetryCount: '1' }, { 'i-twilio-idempotency-token': 'tok-1' })).toBe('conversations|idem|tok-1');
    expect(dedupeKeyOf('conversations', { ...delivery, EventSid: 'EV1' }, {})).toBe('conversations|event|EV1');
    expect(dedupeKeyOf('conversations', { ...delivery, EventSid: 'EV1' }, { 'i-twilio-idempotency-token': '  ' })).toBe('conversations|event|EV1');
  });

  it('without token: (EventType, subject, date) with the subject and date that tell events apart', () => {
    const key = dedupeKeyOf('conversations', delivery, {});
    expect(key).toBe('conversations|onDeliveryUpdated|DY1|2026-12-01T10:00:01.000Z|delivered|');
    // a retry (RetryCount differs) is the same event
    expect(dedupeKeyOf('conversations', { ...delivery, RetryCount: '3' }, {})).toBe(key);
    // another receipt of the same message at the same millisecond, or another status, is another event
    expect(dedupeKeyOf('conversations', { ...delivery, DeliveryReceiptSid: 'DY2' }, {})).not.toBe(key);
    expect(dedupeKeyOf('conversations', { ...delivery, Status: 'read' }, {})).not.toBe(key);
    // two updates of one message share DateCreated: DateUpdated tells them apart
    const update = { EventType: 'onMessageUpdated', ConversationSid: 'CH1', MessageSid: 'IM1', ParticipantSid: 'MB1', DateCreated: '2026-12-01T10:00:00.000Z' };
    expect(dedupeKeyOf('conversations', { ...update, DateUpdated: '2026-12-01T10:01:00.000Z' }, {})).not.toBe(
      dedupeKeyOf('conversations', { ...update, DateUpdated: '2026-12-01T10:02:00.000Z' }, {}),
    );
    // MessageSid before ParticipantSid before ConversationSid
    expect(dedupeKeyOf('conversations', { ...update, DateUpdated: 'd' }, {})).toBe('conversations|onMessageUpdated|IM1|d||');
    const participant = { EventType: 'onParticipantAdded', ConversationSid: 'CH1', ParticipantSid: 'MB9', DateCreated: 'c' };
    expect(dedupeKeyOf('conversations', participant, {})).toBe('conversations|onParticipantAdded|MB9|c||');
    expect(dedupeKeyOf('conversations', { EventType: 'onConversationAdded', ConversationSid: 'CH1', DateCreated: 'c' }, {})).toBe('conversations|onConversationAdded|CH1|c||');
    // removal: the removal date; a state change: its StateTo
    expect(dedupeKeyOf('conversations', { ...participant, EventType: 'onParticipantRemoved', DateRemoved: 'r' }, {})).toBe('conversations|onParticipantRemoved|MB9|r||');
    const state = { EventType: 'onConversationStateUpdated', ConversationSid: 'CH1', DateCreated: 'c', DateUpdated: 'u', StateFrom: 'active', StateTo: 'inactive' };
    expect(dedupeKeyOf('conversations', state, {})).not.toBe(dedupeKeyOf('conversations', { ...state, StateFrom: 'inactive', StateTo: 'closed' }, {}));
  });

  it('status callbacks: (MessageSid, MessageStatus, ErrorCode); inbound: MessageSid', () => {
    const status = { MessageSid: 'SM1', MessageStatus: 'sent', SmsStatus: 'sent', To: '+1', From: '+2' };
    expect(dedupeKeyOf('messaging-status', status, {})).toBe('messaging-status|SM1|sent|');
    expect(dedupeKeyOf('messaging-status', { ...status, MessageStatus: 'failed', ErrorCode: '30003' }, {})).toBe('messaging-status|SM1|failed|30003');
    expect(dedupeKeyOf('messaging-status', { ...status, MessageStatus: 'failed', ErrorCode: '30003' }, {})).not.toBe(
      dedupeKeyOf('messaging-status', { ...status, MessageStatus: 'failed', ErrorCode: '30005' }, {}),
    );
    expect(dedupeKeyOf('messaging-inbound', { MessageSid: 'SM2', From: '+1', Body: 'hi' }, {})).toBe('messaging-inbound|SM2');
    // the same SID under two sources is two events
    expect(dedupeKeyOf('messaging-inbound', { MessageSid: 'SM1' }, { 'i-twilio-idempotency-token': 't' })).not.toBe(
      dedupeKeyOf('messaging-status', { MessageSid: 'SM1' }, { 'i-twilio-idempotency-token': 't' }),
    );
  });

  it('nothing to key on: a content hash that ignores RetryCount only', () => {
    const a = dedupeKeyOf('conversations', { Foo: 'bar', RetryCount: '0' }, {});
    expect(a).toMatch(/^conversations\|content\|[0-9a-f]{64}$/);
    expect(dedupeKeyOf('conversations', { Foo: 'bar', RetryCount: '2' }, {})).toBe(a);
    expect(dedupeKeyOf('conversations', { Foo: 'baz', RetryCount: '0' }, {})).not.toBe(a);
    // no ambiguity between field boundaries
    expect(dedupeKeyOf('conversations', { ab: 'c' }, {})).not.toBe(dedupeKeyOf('conversations', { a: 'bc' }, {}));
  });

  it('partition keys: the conversation, else the sender of an inbound message, else the message of a status', () => {
    expect(partitionKeyOf('conversations', { ConversationSid: 'CH1', MessageSid: 'IM1' })).toBe('CH1');
    expect(partitionKeyOf('messaging-inbound', { From: '+15550001111', MessageSid: 'SM1' })).toBe('address:+15550001111');
    expect(partitionKeyOf('messaging-inbound', { From: 'whatsapp:+15550001111', ConversationSid: 'CH2' })).toBe('CH2');
    expect(partitionKeyOf('messaging-status', { MessageSid: 'SM1', From: '+1' })).toBe('message:SM1');
    expect(partitionKeyOf('conversations', { EventType: 'onUserUpdated' })).toBe('source:conversations');
  });

  it('toIncomingEvent fills every field', () => {
    const event = toIncomingEvent('messaging-status', { MessageSid: 'SM1', MessageStatus: 'read' }, {}, { receivedAt: 42, signature: 'valid', correlationId: 'req-1' });
    expect(event).toEqual({
      source: 'messaging-status',
      eventType: 'status',
      dedupeKey: 'messaging-status|SM1|read|',
      partitionKey: 'message:SM1',
      params: { MessageSid: 'SM1', MessageStatus: 'read' },
      receivedAt: 42,
      signature: 'valid',
      correlationId: 'req-1',
    });
    expect(toIncomingEvent('conversations', { EventType: 'onMessageAdded' }, {}, { receivedAt: 1, signature: 'unchecked', correlationId: 'c' }).eventType).toBe('onMessageAdded');
  });
});

describe('bodies', () => {
  it('form: URLSearchParams decoding, last value kept, every value signed, __proto__ a plain field', () => {
    const { params, signing } = decodeForm(Buffer.from('a=1&a=2&b=x+y%20z&__proto__=p&MediaUrl0=u'));
    expect(Object.keys(params).sort()).toEqual(['MediaUrl0', '__proto__', 'a', 'b']);
    expect([params.a, params.b, params['__proto__'], params.MediaUrl0]).toEqual(['2', 'x y z', 'p', 'u']);
    expect(signing.a).toEqual(['1', '2']);
    expect(Object.getPrototypeOf(params)).toBeNull();
  });

  it('JSON: top-level fields as text, objects as JSON, nulls left out; anything but an object refused', () => {
    expect({ ...decodeJson(Buffer.from('{"a":"x","n":1.5,"t":true,"o":{"k":[1]},"z":null}')) }).toEqual({ a: 'x', n: '1.5', t: 'true', o: '{"k":[1]}' });
    expect(() => decodeJson(Buffer.from('[1]'))).toThrow('JSON body must be an object');
    expect(() => decodeJson(Buffer.from('"s"'))).toThrow('JSON body must be an object');
    expect(() => decodeJson(Buffer.from('{"a":'))).toThrow('malformed JSON body');
  });

  it('JSON nesting is measured outside strings, and bounded', () => {
    expect(jsonTooDeep('{"a":"[[[{{{\\"[["}', 1)).toBe(false);
    expect(jsonTooDeep('{"a":[{"b":[]}]}', 4)).toBe(false);
    expect(jsonTooDeep('{"a":[{"b":[]}]}', 3)).toBe(true);
    expect(() => decodeJson(Buffer.from(`{"a":${'['.repeat(40)}${']'.repeat(40)}}`))).toThrow('nested deeper than 32');
    expect(() => decodeJson(Buffer.from(`{"a":${'['.repeat(31)}${']'.repeat(31)}}`))).not.toThrow();
  });
});

describe('globs and patterns', () => {
  it('globs: `*` is any run, the rest literal, including regex metacharacters', () => {
    expect(compileGlob('acme:*')('acme:alice')).toBe(true);
    expect(compileGlob('acme:*')('acme2:alice')).toBe(false);
    expect(compileGlob('*:agent-*')('acme:agent-7')).toBe(true);
    expect(compileGlob('*:agent-*')('acme:agentx')).toBe(false);
    expect(compileGlob('a.b')('axb')).toBe(false);
    expect(compileGlob('a*b*a')('aba')).toBe(true);
    expect(compileGlob('ab*ba')('aba')).toBe(false);
    expect(compileGlob('exact')('exact')).toBe(true);
    expect(compileGlob('*')('')).toBe(true);
  });

  it('globs stay linear on adversarial input', () => {
    const pattern = `${'*a'.repeat(30)}*b`;
    const text = 'a'.repeat(100_000);
    const started = performance.now();
    expect(compileGlob(pattern)(text)).toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('PII patterns: plain or /…/flags, stateless, bad ones a configuration error', () => {
    const cards = compilePattern('/\\b\\d{4}[ -]?\\d{4}[ -]?\\d{4}[ -]?\\d{4}\\b/g');
    expect(cards.flags).toBe('');
    expect(cards.test('card 4111 1111 1111 1111')).toBe(true);
    expect(cards.test('card 4111 1111 1111 1111')).toBe(true);
    expect(compilePattern('/ssn/i').test('My SSN')).toBe(true);
    expect(() => compilePattern('(')).toThrow(/piiPatterns: invalid regular expression/);
    expect(tenantOf('acme:alice')).toBe('acme');
    expect(tenantOf('alice')).toBeUndefined();
    expect(tenantOf(':alice')).toBeUndefined();
  });
});

describe('over HTTP', () => {
  let server: Ingress;
  afterEach(() => server?.close());

  const signedPost = (path: string, params: Record<string, string>, extra: Record<string, string> = {}) =>
    server.post(path, {
      headers: { 'content-type': FORM, 'x-twilio-signature': signForm(`http://127.0.0.1:${server.port}${path}`, params), ...extra },
      body: formBody(params),
    });

  const withPolicy = async (preEvent: Partial<RouterConfig['preEvent']>, setup: IngressSetup = {}) => {
    server = await startIngress({ ...setup, config: { preEvent: { allowedIdentities: [], enforceTenant: false, piiPatterns: [], ...preEvent } } });
  };

  const decision = async (params: Record<string, string>) => {
    const answer = await signedPost(PATHS.preEvent, params);
    return { status: answer.status, body: answer.text ? JSON.parse(answer.text) : undefined };
  };

  it('pre-event, identity: allowed globs let in, others refused; no identity (SMS binding) is not refused', async () => {
    await withPolicy({ allowedIdentities: ['acme:*', 'support-?'] });
    const add = { EventType: 'onParticipantAdd', ConversationSid: 'CH1', AccountSid: 'AC1' };
    expect(await decision({ ...add, Identity: 'acme:alice' })).toEqual({ status: 200, body: undefined });
    expect(await decision({ ...add, Identity: 'support-?' })).toMatchObject({ status: 200 });
    expect(await decision({ ...add, Identity: 'support-1' })).toEqual({ status: 403, body: { error: 'identity', message: 'identity is not allowed' } });
    expect(await decision({ ...add, Identity: 'evil:acme:x' })).toMatchObject({ status: 403 });
    expect(await decision({ ...add, 'MessagingBinding.Address': '+15550001111' })).toMatchObject({ status: 200 });
    // other events are not the identity policy's
    expect(await decision({ EventType: 'onParticipantUpdate', ConversationSid: 'CH1', Identity: 'other' })).toMatchObject({ status: 200 });
    expect(server.events).toHaveLength(0);
    expect(server.count('pre_event', { decision: 'allow' })).toBe(4);
    expect(server.count('pre_event', { decision: 'deny', policy: 'identity' })).toBe(2);
  });

  it('pre-event, tenant: the identity tenant must equal the conversation attributes.tenantId, unknown refuses', async () => {
    const conversations = new Map<string, Record<string, unknown> | string>([
      ['CHacme', { tenantId: 'acme' }],
      ['CHtext', '{"tenantId":"globex"}'],
      ['CHnone', {}],
    ]);
    await withPolicy(
      { enforceTenant: true },
      {
        lookupConversation: async (sid) => {
          if (sid === 'CHboom') throw new Error('store down');
          if (sid === 'CHslow') return new Promise(() => {});
          return conversations.get(sid);
        },
      },
    );
    const add = (ConversationSid: string, Identity: string) => decision({ EventType: 'onParticipantAdd', ConversationSid, Identity });
    expect((await add('CHacme', 'acme:alice')).status).toBe(200);
    expect((await add('CHtext', 'globex:bob')).status).toBe(200);
    expect(await add('CHacme', 'globex:bob')).toEqual({ status: 403, body: { error: 'tenant', message: 'identity tenant does not match the conversation' } });
    expect((await add('CHacme', 'alice')).body.message).toBe('identity has no tenant');
    expect((await add('CHnone', 'acme:alice')).body.message).toBe('conversation tenant unknown');
    expect((await add('CHmissing', 'acme:alice')).status).toBe(403);
    expect((await add('CHboom', 'acme:alice')).status).toBe(403);
    // an SMS participant has no identity: not a tenant question
    expect((await decision({ EventType: 'onParticipantAdd', ConversationSid: 'CHnone', 'MessagingBinding.Address': '+15550001111' })).status).toBe(200);

    const message = (ConversationSid: string, Author: string) => decision({ EventType: 'onMessageAdd', ConversationSid, Author, Body: 'hi' });
    expect((await message('CHacme', 'acme:alice')).status).toBe(200);
    expect((await message('CHacme', 'globex:mallory')).status).toBe(403);
    expect((await message('CHnone', '+15550001111')).status).toBe(200); // inbound SMS: authored by the address
    expect((await message('CHnone', 'whatsapp:+15550001111')).status).toBe(200);
    expect((await message('CHnone', 'system')).status).toBe(200);
    // the participant's own Attributes are not the conversation's
    expect((await decision({ EventType: 'onParticipantAdd', ConversationSid: 'CHnone', Identity: 'acme:x', Attributes: '{"tenantId":"acme"}' })).status).toBe(403);
  });

  it('pre-event, tenant: a lookup that does not answer refuses within the deadline', async () => {
    await withPolicy({ enforceTenant: true }, { lookupConversation: () => new Promise(() => {}) });
    const started = Date.now();
    expect((await decision({ EventType: 'onParticipantAdd', ConversationSid: 'CH1', Identity: 'acme:a' })).status).toBe(403);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('pre-event, tenant without any lookup configured: refused, tenant unknown', async () => {
    await withPolicy({ enforceTenant: true });
    expect((await decision({ EventType: 'onParticipantAdd', ConversationSid: 'CH1', Identity: 'acme:a' })).body.message).toBe('conversation tenant unknown');
  });

  it('pre-event, PII: a body matching a pattern is refused on add and update, never echoed or logged', async () => {
    await withPolicy({ piiPatterns: ['\\b\\d{3}-\\d{2}-\\d{4}\\b', '/credit card/i'] });
    const body = 'my ssn is 123-45-6789';
    const refused = await decision({ EventType: 'onMessageAdd', ConversationSid: 'CH1', Author: 'a', Body: body });
    expect(refused).toEqual({ status: 403, body: { error: 'pii', message: 'message body matches a refused pattern' } });
    expect((await decision({ EventType: 'onMessageUpdate', ConversationSid: 'CH1', Author: 'a', Body: 'My CREDIT CARD' })).status).toBe(403);
    expect((await decision({ EventType: 'onMessageAdd', ConversationSid: 'CH1', Author: 'a', Body: 'hello 123-456' })).status).toBe(200);
    // onConversationUpdate is not a message
    expect((await decision({ EventType: 'onConversationUpdate', ConversationSid: 'CH1', FriendlyName: '123-45-6789' })).status).toBe(200);
    for (const line of server.logs) expect(line).not.toContain('123-45-6789');
    expect(server.count('pre_event', { decision: 'deny', policy: 'pii' })).toBe(2);
  });

  it('pre-event requests are signature-checked like the rest', async () => {
    await withPolicy({});
    const answer = await server.post(PATHS.preEvent, { headers: { 'content-type': FORM, 'x-twilio-signature': 'forged' }, body: formBody({ EventType: 'onMessageAdd' }) });
    expect(answer.status).toBe(403);
    expect(answer.text).toBe('invalid signature');
  });

  it('a duplicate answers 200 and is counted, not accepted twice', async () => {
    server = await startIngress();
    const params = { EventType: 'onMessageAdded', ConversationSid: 'CH1', MessageSid: 'IM1', DateCreated: 'd', RetryCount: '0' };
    const token = { 'i-twilio-idempotency-token': 'tok-dup' };
    expect((await signedPost(PATHS.webhook, params, token)).status).toBe(200);
    expect((await signedPost(PATHS.webhook, { ...params, RetryCount: '1' }, token)).status).toBe(200);
    // without the token the key is the (EventType, MessageSid, DateCreated) tuple: another key, accepted
    expect((await signedPost(PATHS.webhook, { ...params, RetryCount: '2' })).status).toBe(200);
    expect((await signedPost(PATHS.webhook, { ...params, RetryCount: '3' })).status).toBe(200);
    expect(server.count('queued')).toBe(2);
    expect(server.count('deduplicated')).toBe(2);
    expect(server.events).toHaveLength(2);
  });

  it('accept that cannot commit: 503, counted, logged without the body', async () => {
    server = await startIngress({
      accept: async () => {
        throw new Error('SQLITE_FULL: database or disk is full');
      },
    });
    const params = { EventType: 'onMessageAdded', ConversationSid: 'CH1', MessageSid: 'IM1', Body: 'PRIVATE-BODY', DateCreated: 'd' };
    const answer = await signedPost(PATHS.webhook, params);
    expect(answer.status).toBe(503);
    expect(server.count('accept_failed', { source: 'conversations' })).toBe(1);
    expect(server.logs.some((l) => l.includes('SQLITE_FULL'))).toBe(true);
    for (const line of server.logs) expect(line).not.toContain('PRIVATE-BODY');
  });

  it('body limits: over the limit 413; malformed or too deep JSON 400 (signed), 415 for other types; never 500', async () => {
    server = await startIngress({ bodyLimit: 64 * 1024 });
    const big = formBody({ Body: 'x'.repeat(64 * 1024) });
    const tooBig = await server.post(PATHS.webhook, { headers: { 'content-type': FORM, 'x-twilio-signature': 'x' }, body: big });
    expect(tooBig.status).toBe(413);
    expect(tooBig.text).not.toMatch(/at .*\.js/);

    const url = `http://127.0.0.1:${server.port}${PATHS.webhook}`;
    for (const raw of ['{"EventType": "onMessageAdded",', `{"a":${'['.repeat(100)}${']'.repeat(100)}}`, '[]', '']) {
      const signed = signJson(url, raw);
      const answer = await server.post(targetOf(signed.url), { headers: { 'content-type': 'application/json', 'x-twilio-signature': signed.signature }, body: raw });
      expect(answer.status, raw).toBe(400);
      expect(JSON.parse(answer.text).error).toBe('bad_request');
    }
    // unsigned malformed JSON: the signature is checked first
    const forged = await server.post(`${PATHS.webhook}?bodySHA256=00`, { headers: { 'content-type': 'application/json', 'x-twilio-signature': 'x' }, body: '{oops' });
    expect(forged.status).toBe(403);
    const text = await server.post(PATHS.webhook, { headers: { 'content-type': 'text/plain', 'x-twilio-signature': 'x' }, body: 'hi' });
    expect(text.status).toBe(415);
    expect(server.events).toHaveLength(0);
    expect(server.count('bad_request')).toBe(4);
  });

  it('the default limit is 1 MiB', async () => {
    server = await startIngress();
    const params = { EventType: 'onMessageAdded', ConversationSid: 'CH1', MessageSid: 'IM1', Body: 'x'.repeat(900 * 1024), DateCreated: 'd' };
    expect((await signedPost(PATHS.webhook, params)).status).toBe(200);
    const over = await server.post(PATHS.webhook, { headers: { 'content-type': FORM }, body: formBody({ Body: 'x'.repeat(1024 * 1024) }) });
    expect(over.status).toBe(413);
  });

  it('a content type with a charset parameter is the same form', async () => {
    server = await startIngress();
    const params = { EventType: 'onMessageAdded', ConversationSid: 'CH1', MessageSid: 'IM7', DateCreated: 'd' };
    expect((await signedPost(PATHS.webhook, params, { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' })).status).toBe(200);
    expect(server.events[0].params.MessageSid).toBe('IM7');
  });
});
