/**
 * One input must not buy unbounded work, and bad values get Twilio's envelope: JSON nested too deeply, fault-rule
 * globs that would backtrack, request bodies that never finish, credential floods, webhook URLs with control
 * characters, malformed percent-encoding and overlong path segments. Plain HTTP and raw sockets against a real
 * emulator.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startEmulator, useEmulator, type HttpAnswer } from './support/emulator.js';

const t = useEmulator();

function expectEnvelope(r: HttpAnswer, status: number, code: number, message?: RegExp) {
  expect({ status: r.status, body: r.body }).toEqual({
    status,
    body: { code, message: message ? expect.stringMatching(message) : expect.any(String), more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  });
}

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const json = (body: string) => ({ body, contentType: 'application/json' });
const count = (table: string) => t.emulator.core.db.get(`SELECT count(*) AS n FROM ${table}`)?.n;

describe('JSON nesting is bounded at 64 levels', () => {
  it('answers deeply nested Attributes with 400 and stores nothing; 64 levels still fit', async () => {
    const deep = await t.http('POST', '/v1/Conversations', { form: { Attributes: `{"a":${nested(64)}}` } });
    expectEnvelope(deep, 400, 20001, /^Conversation Attributes: .*deeper than 64 levels/);
    const c = await t.client.conversations.v1.conversations.create({});
    const participant = await t.http('POST', `/v1/Conversations/${c.sid}/Participants`, { form: { Identity: 'p', Attributes: nested(1000) } });
    expectEnvelope(participant, 400, 20001, /^Participant Attributes/);
    const message = await t.http('POST', `/v1/Conversations/${c.sid}/Messages`, { form: { Body: 'x', Attributes: nested(1000) } });
    expectEnvelope(message, 400, 20001, /^Message Attributes/);
    expect([count('conversations'), count('participants'), count('messages')]).toEqual([1, 0, 0]);

    const fits = await t.http('POST', '/v1/Conversations', { form: { Attributes: nested(64) } });
    expect(fits.status).toBe(201);
    expect(fits.body.attributes).toBe(nested(64));
  });

  it('answers deeply nested JSON bodies with 400 on /v1, /2010-04-01 and /_emulator, fault rules included', async () => {
    const deep = nested(20_000);
    expectEnvelope(await t.http('POST', '/v1/Conversations', json(`{"Attributes":${deep}}`)), 400, 20001, /^The JSON body: .*64 levels/);
    expectEnvelope(await t.http('POST', '/v1/Conversations', json(`{"Attributes":${nested(8000)}}`)), 400, 20001, /64 levels/);
    const messages = `/2010-04-01/Accounts/${t.emulator.accountSid}/Messages.json`;
    expectEnvelope(await t.http('POST', messages, json(`{"To":"+15558675310","From":"+15017122661","Body":${deep}}`)), 400, 20001, /64 levels/);
    expectEnvelope(await t.http('PUT', '/_emulator/faults/rest', { ...json(`{"rules":[{"action":{"type":"error","message":${deep}}}]}`), auth: null }), 400, 20001);
    expectEnvelope(await t.http('PUT', '/_emulator/faults/webhooks', { ...json(`{"rules":[{"action":${deep}}]}`), auth: null }), 400, 20001);
    expectEnvelope(await t.http('POST', '/_emulator/accounts', { ...json(`{"friendlyName":${deep}}`), auth: null }), 400, 20001);
    expect([count('conversations'), count('channel_messages')]).toEqual([0, 0]);
    expect(t.emulator.core.restFaults.rules).toEqual([]);
    // brackets inside strings are text, not nesting
    const text = await t.http('POST', '/v1/Conversations', json(JSON.stringify({ FriendlyName: '{['.repeat(100) })));
    expect(text.status).toBe(201);
  });

  it('bounds the JSON of Participant (ConversationWithParticipants) and ContentVariables too', async () => {
    const created = await t.http('POST', '/v1/ConversationWithParticipants', { form: { Participant: `{"identity":"a","attributes":${nested(5000)}}` } });
    expectEnvelope(created, 400, 20001, /^Participant: /);
    const c = await t.client.conversations.v1.conversations.create({});
    const variables = await t.http('POST', `/v1/Conversations/${c.sid}/Messages`, { form: { ContentSid: 'HX' + '0'.repeat(32), ContentVariables: `{"1":${nested(5000)}}` } });
    expectEnvelope(variables, 400, 20001, /^ContentVariables: /);
    expect([count('conversations'), count('messages')]).toEqual([1, 0]);
  });
});

describe('REST fault path globs', () => {
  it('match in linear time: a pattern that makes a regex backtrack answers at once', async () => {
    const pattern = '*a'.repeat(12) + '*b';
    const put = await t.http('PUT', '/_emulator/faults/rest', { ...json(JSON.stringify({ rules: [{ match: { path: pattern }, action: { type: 'error', status: 503, code: 20503 } }] })), auth: null });
    expect(put.status).toBe(200);
    const started = performance.now();
    const r = await t.http('GET', `/v1/Conversations/${'a'.repeat(34)}`);
    expect(performance.now() - started).toBeLessThan(1000);
    expectEnvelope(r, 404, 20404);
    // and still match what they should: `*` spans any run of characters, `/` included
    expect((await t.http('GET', `/v1/Conversations/${'a'.repeat(34)}b`)).status).toBe(503);
  });
});

/** A raw HTTP/1.1 request that sends its headers and `sent` bytes of a `length`-byte body, then stalls. */
function stalledRequest(url: string, authorization: string, length: number, sent: number): Promise<{ socket: Socket; answer: Promise<string> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `POST /v1/Conversations HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: ${authorization}\r\n` +
          `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n\r\n${'F'.repeat(sent)}`,
      );
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString()));
      resolve({ socket, answer: new Promise((done) => socket.on('close', () => done(received))) });
    });
    socket.on('error', reject);
  });
}

describe('slow request bodies', () => {
  it('are cut off at the request deadline with a 408 envelope, and hold no concurrency slot meanwhile', async () => {
    const e = await startEmulator({ requestTimeoutMs: 600, rateLimit: { concurrency: 2 } });
    try {
      const authorization = `Basic ${Buffer.from(`${e.emulator.accountSid}:${e.emulator.authToken}`).toString('base64')}`;
      const stalled = await Promise.all([1, 2, 3].map(() => stalledRequest(e.emulator.url, authorization, 100, 5)));
      // three bodies in flight, a limit of two: a complete request still runs
      const meanwhile = await e.http('GET', '/v1/Conversations');
      expect(meanwhile.status).toBe(200);
      const started = performance.now();
      const answers = await Promise.all(stalled.map((s) => s.answer));
      expect(performance.now() - started).toBeLessThan(3000);
      for (const answer of answers) {
        expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
        expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
          code: 20001,
          message: 'The request (headers and body) did not arrive within 0.6 seconds',
          more_info: 'https://www.twilio.com/docs/errors/20001',
          status: 408,
        });
      }
      expect(e.emulator.core.db.get('SELECT count(*) AS n FROM conversations')?.n).toBe(0);
      expect((await e.http('POST', '/v1/Conversations', { form: { FriendlyName: 'after' } })).status).toBe(201);
    } finally {
      await e.emulator.close();
    }
  });

  it('answers malformed HTTP and oversized headers with an envelope', async () => {
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const { hostname, port } = new URL(t.emulator.url);
        const socket = connect(Number(port), hostname, () => socket.write(text));
        let received = '';
        socket.on('data', (chunk) => (received += chunk.toString()));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
      });
    const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 20001, status: 400 });
    const huge = await raw(`GET /v1/Conversations HTTP/1.1\r\nHost: x\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 20001, status: 431 });
  });
});

describe('the credential cache', () => {
  const cache = () => (t.emulator.core.accounts as unknown as { byAuthorization: Map<string, unknown> }).byAuthorization;

  it('keeps no failed credentials: distinct 15 KB Authorization headers pin nothing', async () => {
    const before = cache().size;
    for (let i = 0; i < 200; i++) {
      const bogus = Buffer.from(`${t.emulator.accountSid}:${i}-${'x'.repeat(11_000)}`).toString('base64');
      const r = await t.http('GET', '/v1/Conversations', { auth: null, headers: { authorization: `Basic ${bogus}` } });
      expect(r.status).toBe(401);
    }
    expect(cache().size).toBe(before);
  });

  it('is bounded: 1,280 distinct spellings of valid credentials keep 1,000 entries', async () => {
    const token = Buffer.from(`${t.emulator.accountSid}:${t.emulator.authToken}`).toString('base64');
    const statuses = new Set<number>();
    for (let spaces = 1; spaces <= 40; spaces++) {
      const spellings = Array.from({ length: 32 }, (_, mask) => [...'Basic'].map((ch, i) => (mask & (1 << i) ? ch.toUpperCase() : ch.toLowerCase())).join(''));
      const answers = await Promise.all(spellings.map((scheme) => t.http('GET', '/v1/Configuration', { auth: null, headers: { authorization: `${scheme}${' '.repeat(spaces)}${token}` } })));
      for (const r of answers) statuses.add(r.status);
    }
    expect([...statuses]).toEqual([200]);
    expect(cache().size).toBe(1000);
  });
});

describe('webhook URLs', () => {
  const bad = ['https://hooks.example.com/x\r\nX-Injected: 1', 'https://hooks.example.com/\tx', 'https://hooks.example.com/a b', 'ftp://hooks.example.com/x', '/relative'];

  it('refuses control characters, spaces and non-http(s) in every URL parameter, storing nothing', async () => {
    const c = await t.client.conversations.v1.conversations.create({});
    const service = t.emulator.defaultServiceSid;
    const where: [string, (url: string) => Record<string, string>][] = [
      [`/v1/Services/${service}/Configuration/Webhooks`, (url) => ({ PostWebhookUrl: url })],
      [`/v1/Services/${service}/Configuration/Webhooks`, (url) => ({ PreWebhookUrl: url })],
      ['/v1/Configuration/Webhooks', (url) => ({ PostWebhookUrl: url })],
      ['/v1/Configuration/Webhooks', (url) => ({ PreWebhookUrl: url })],
      [`/v1/Conversations/${c.sid}/Webhooks`, (url) => ({ Target: 'webhook', 'Configuration.Url': url })],
      [
        '/v1/Configuration/Addresses',
        (url) => ({ Type: 'sms', Address: '+15017122661', 'AutoCreation.Enabled': 'true', 'AutoCreation.Type': 'webhook', 'AutoCreation.WebhookUrl': url }),
      ],
      [`/2010-04-01/Accounts/${t.emulator.accountSid}/Messages.json`, (url) => ({ To: '+15558675310', From: '+15017122661', Body: 'x', StatusCallback: url })],
    ];
    for (const [path, form] of where) {
      for (const url of bad) {
        const r = await t.http('POST', path, { form: form(url) });
        expect({ path, url, status: r.status, code: r.body?.code }).toEqual({ path, url, status: 400, code: 20001 });
      }
    }
    const stored = t.emulator.core.db.all(
      `SELECT post_webhook_url AS url FROM service_webhooks UNION ALL SELECT pre_webhook_url FROM service_webhooks
       UNION ALL SELECT post_webhook_url FROM account_webhooks UNION ALL SELECT pre_webhook_url FROM account_webhooks`,
    );
    expect(stored.filter((row) => row.url !== null)).toEqual([]);
    expect([count('conversation_webhooks'), count('address_configurations'), count('channel_messages')]).toEqual([0, 0, 0]);
    // a clean URL is still taken
    const ok = await t.http('POST', `/v1/Services/${service}/Configuration/Webhooks`, { form: { PostWebhookUrl: 'https://hooks.example.com/x?a=1' } });
    expect(ok.status).toBe(200);
    expect(ok.body.post_webhook_url).toBe('https://hooks.example.com/x?a=1');
  });
});

describe('odd paths', () => {
  it('answers malformed percent-encoding with Twilio envelope, on every prefix', async () => {
    expectEnvelope(await t.http('GET', '/v1/Conversations/%zz'), 400, 20001, /malformed percent-encoding/);
    expectEnvelope(await t.http('POST', '/v1/Conversations/%E0%A4%A', { form: { FriendlyName: 'x' } }), 400, 20001);
    expectEnvelope(await t.http('GET', `/2010-04-01/Accounts/${t.emulator.accountSid}/Messages/%zz.json`), 400, 20001);
    expectEnvelope(await t.http('GET', '/_emulator/handsets/%zz', { auth: null }), 400, 20001);
    expect(count('conversations')).toBe(0);
  });

  it('answers a path segment over 512 characters with 404, not 405', async () => {
    const long = 'x'.repeat(600);
    expectEnvelope(await t.http('GET', `/v1/Conversations/${long}`), 404, 20404);
    expectEnvelope(await t.http('POST', `/v1/Conversations/${long}`, { form: { FriendlyName: 'x' } }), 404, 20404);
    expectEnvelope(await t.http('GET', `/v1/Conversations/${long}/Messages`), 404, 20404);
    expectEnvelope(await t.http('GET', `/2010-04-01/Accounts/${t.emulator.accountSid}/Messages/${long}.json`), 404, 20404);
    expectEnvelope(await t.http('GET', `/2010-04-01/Accounts/${long}/Messages.json`), 404, 20404);
    // a method the path does not serve is still 405
    expectEnvelope(await t.http('PUT', '/v1/Conversations'), 405, 20004);
  });
});
