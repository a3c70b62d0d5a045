/** Bad input gets Twilio's answer: an envelope with a 4xx code, never a 500 or a stack trace, and nothing stored. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formBody, useEmulator, type HttpAnswer } from './support/emulator.js';

const t = useEmulator();

function expectEnvelope(r: HttpAnswer, status: number) {
  expect(r.status).toBe(status);
  expect(r.body).toEqual({
    code: expect.any(Number),
    message: expect.any(String),
    more_info: `https://www.twilio.com/docs/errors/${r.body?.code}`,
    status,
  });
  expect(r.text).not.toMatch(/at .*\.(ts|js):\d+/);
}

describe('malformed requests', () => {
  it('answers invalid JSON bodies, odd content types and huge bodies with an envelope', async () => {
    expectEnvelope(await t.http('POST', '/v1/Conversations', { body: '{"FriendlyName":', contentType: 'application/json' }), 400);
    expectEnvelope(await t.http('POST', '/v1/Conversations', { body: '<x/>', contentType: 'application/xml' }), 415);
    expectEnvelope(await t.http('POST', '/v1/Conversations', { body: 'FriendlyName=' + 'x'.repeat(1_100_000), contentType: 'application/x-www-form-urlencoded' }), 413);
    expect(await t.client.conversations.v1.conversations.list()).toEqual([]);
  });

  it('answers unknown paths, methods and odd path segments with 404/20404', async () => {
    expectEnvelope(await t.http('GET', '/v1/Conversations/CH123/Nope'), 404);
    expectEnvelope(await t.http('PUT', '/v1/Conversations'), 405);
    expectEnvelope(await t.http('DELETE', '/v1/Conversations'), 405);
    expectEnvelope(await t.http('GET', '/v1/Conversations/' + encodeURIComponent('ünïcødé name')), 404);
    expectEnvelope(await t.http('GET', '/v1/Conversations/' + 'x'.repeat(400)), 404);
    expectEnvelope(await t.http('GET', '/nowhere'), 404);
  });

  it('routes a UniqueName that needs encoding (space, unicode, +, %, /) to its conversation, trailing slash or not', async () => {
    for (const name of ['my room', 'café-ünï', 'a+b', 'x%y', 'slash/inside']) {
      const c = await t.client.conversations.v1.conversations.create({ uniqueName: name });
      // the SDK itself refuses `%` and `/` in a path parameter; plain HTTP covers those
      if (!/[%/]/.test(name)) expect((await t.client.conversations.v1.conversations(name).fetch()).sid).toBe(c.sid);
      for (const path of [`/v1/Conversations/${encodeURIComponent(name)}`, `/v1/Conversations/${encodeURIComponent(name)}/`]) {
        const r = await t.http('GET', path);
        expect({ path, status: r.status, sid: r.body.sid }).toEqual({ path, status: 200, sid: c.sid });
      }
    }
  });

  it('accepts JSON bodies for curl users, flattening values to text', async () => {
    const r = await t.http('POST', '/v1/Conversations', { body: JSON.stringify({ FriendlyName: 'json', Attributes: { a: 1 } }), contentType: 'application/json' });
    expect(r.status).toBe(201);
    expect(r.body.friendly_name).toBe('json');
    expect(r.body.attributes).toBe('{"a":1}');
  });
});

describe('random input never breaks the emulator', () => {
  it('answers random bodies and query strings with 2xx or a 4xx envelope, and rejected writes store nothing', async () => {
    const conversation = await t.client.conversations.v1.conversations.create({ uniqueName: 'fuzz-target' });
    const keys = [
      'FriendlyName', 'UniqueName', 'Attributes', 'State', 'Timers.Inactive', 'Timers.Closed', 'DateCreated', 'MessagingServiceSid',
      'Identity', 'MessagingBinding.Address', 'MessagingBinding.ProxyAddress', 'MessagingBinding.ProjectedAddress', 'RoleSid',
      'Author', 'Body', 'MediaSid', 'ContentSid', 'Order', 'PageSize', 'PageToken', 'Page', 'Participant', 'LastReadMessageIndex',
    ];
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('', '{}', '{"a":1}', 'true', '-1', '0', '101', 'PT1M', 'closed', 'active', '+15558675310', 'whatsapp:+15017122661', 'CH' + '0'.repeat(32), 'PAIM' + 'f'.repeat(32), '2020-01-01T00:00:00Z'),
      fc.integer().map(String),
    );
    const body = fc.dictionary(fc.constantFrom(...keys), fc.oneof(value, fc.array(value, { maxLength: 3 })), { maxKeys: 6 });
    const target = fc.constantFrom(
      ['POST', '/v1/Conversations'],
      ['POST', '/v1/Conversations/fuzz-target'],
      ['POST', '/v1/Conversations/fuzz-target/Participants'],
      ['POST', '/v1/Conversations/fuzz-target/Messages'],
      ['POST', '/v1/ConversationWithParticipants'],
      ['POST', '/v1/Services'],
      ['GET', '/v1/Conversations'],
      ['GET', '/v1/Conversations/fuzz-target/Messages'],
      ['GET', '/v1/ParticipantConversations'],
    );
    const count = (table: string) => Number(t.emulator.core.db.get(`SELECT count(*) AS n FROM ${table}`)?.n);
    const tables = ['services', 'conversations', 'participants', 'messages'];
    await fc.assert(
      fc.asyncProperty(target, body, async ([method, path], params) => {
        const before = tables.map(count);
        const form: Record<string, string | string[]> = params as Record<string, string | string[]>;
        const r = method === 'GET' ? await t.http(method, `${path}?${formBody(form)}`) : await t.http(method, path, { form });
        expect(r.status, `${method} ${path} ${JSON.stringify(form)} → ${r.text}`).toBeLessThan(500);
        if (r.status >= 400) {
          expectEnvelope(r, r.status);
          expect(tables.map(count)).toEqual(before);
        }
      }),
      { numRuns: 400, seed: 20261127 },
    );
    // (an update may have renamed or closed it; it must still be there)
    expect((await t.client.conversations.v1.conversations(conversation.sid).fetch()).sid).toBe(conversation.sid);
  });
});
