/** REST rate limits (429/20429) and injected REST faults, through the official SDK and plain HTTP. */
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { emulatorHttpClient } from '../src/client.js';
import { expectTwilioError, startEmulator, useEmulator } from './support/emulator.js';

const t = useEmulator();
const json = (body: unknown) => ({ auth: null, contentType: 'application/json', body: JSON.stringify(body) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function limits(body: unknown) {
  const r = await t.http('PUT', '/_emulator/limits', json(body));
  expect(r.status).toBe(200);
  return r.body;
}

describe('rate limits', () => {
  it('answers 429/20429 with Retry-After past the per-second limit, and nothing runs', async () => {
    await limits({ rps: 3, burst: 3 });
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await t.http('POST', '/v1/Conversations', { form: { FriendlyName: `c${i}` } }));
      expect(answers.slice(0, 3).map((a) => a.status)).toEqual([201, 201, 201]);
      const refused = answers[3];
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body).toEqual({ code: 20429, message: 'Too Many Requests', more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 });
      await limits({ rps: null });
      expect((await t.client.conversations.v1.conversations.list()).map((c) => c.friendlyName)).toEqual(['c0', 'c1', 'c2']);
    } finally {
      await limits({ rps: null, burst: null, concurrency: null });
    }
  });

  it('burst is the bucket depth: {rps: 1, burst: 3} admits three back-to-back requests, then refuses', async () => {
    await limits({ rps: 1, burst: 3 });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await t.http('GET', '/v1/Conversations')).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await limits({ rps: null, burst: null, concurrency: null });
    }
  });

  it('lets the SDK recover with its own autoRetry, and a plain client that honours Retry-After', async () => {
    await limits({ rps: 4, burst: 1 });
    try {
      const retrying = twilio(t.emulator.accountSid, t.emulator.authToken, {
        httpClient: emulatorHttpClient(t.emulator.url, { autoRetry: true, maxRetries: 8 }),
      });
      const made = await Promise.all([0, 1, 2, 3].map((i) => retrying.conversations.v1.conversations.create({ friendlyName: `r${i}` })));
      expect(made).toHaveLength(4);
      const plain = t.clientFor(t.emulator.accountSid, t.emulator.authToken);
      await expectTwilioError(Promise.all([0, 1, 2].map(() => plain.conversations.v1.conversations.list())), 429, 20429);
      let answer = await t.http('GET', '/v1/Conversations');
      for (let tries = 0; answer.status === 429 && tries < 5; tries++) {
        await sleep(Number(answer.headers.get('retry-after')) * 1000);
        answer = await t.http('GET', '/v1/Conversations');
      }
      expect(answer.status).toBe(200);
    } finally {
      await limits({ rps: null, burst: null, concurrency: null });
    }
  });

  it('limits concurrent requests per account, not across accounts', async () => {
    await limits({ concurrency: 1 });
    try {
      const other = (await t.http('POST', '/_emulator/accounts', json({}))).body;
      const slow = t.http('GET', '/v1/Conversations', { headers: { 'X-Emulator-Fault': 'delay=300' } });
      await sleep(50);
      const second = await t.http('GET', '/v1/Conversations');
      expect(second.status).toBe(429);
      expect((await t.http('GET', '/v1/Conversations', { auth: [other.accountSid, other.authToken] })).status).toBe(200);
      expect((await slow).status).toBe(200);
      expect((await t.http('GET', '/v1/Conversations')).status).toBe(200);
    } finally {
      await limits({ rps: null, burst: null, concurrency: null });
    }
  });

  it('rejects bad limits with a Twilio envelope', async () => {
    const r = await t.http('PUT', '/_emulator/limits', json({ rps: -1 }));
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(20001);
  });
});

describe('REST fault rules', () => {
  async function rules(list: unknown[]) {
    const r = await t.http('PUT', '/_emulator/faults/rest', json({ rules: list }));
    expect(r.status, r.text).toBe(200);
  }

  it('answers an injected error through the SDK, and a faulted write leaves no row behind', async () => {
    await rules([{ match: { method: 'POST', path: '/v1/Conversations' }, action: { type: 'error', status: 503, code: 20503, message: 'Service unavailable' } }]);
    await expectTwilioError(t.client.conversations.v1.conversations.create({ friendlyName: 'never' }), 503, 20503, 'Service unavailable');
    expect(await t.client.conversations.v1.conversations.list()).toEqual([]);
    expect((await t.http('DELETE', '/_emulator/faults/rest', { auth: null })).status).toBe(204);
    expect((await t.client.conversations.v1.conversations.create({ friendlyName: 'now' })).friendlyName).toBe('now');
  });

  it('matches by method, path glob, operation and account, and skips what does not match', async () => {
    const c = await t.client.conversations.v1.conversations.create({});
    await rules([
      { match: { operation: 'CreateConversationMessage' }, action: { type: 'error', status: 500, code: 20500 } },
      { match: { path: '/v1/Conversations/*/Participants' }, action: { type: 'error', status: 429, code: 20429 } },
      { match: { accountSid: 'AC' + '0'.repeat(32) }, action: { type: 'error', status: 400, code: 20001 } },
    ]);
    await expectTwilioError(t.client.conversations.v1.conversations(c.sid).messages.create({ body: 'x' }), 500, 20500);
    await expectTwilioError(t.client.conversations.v1.conversations(c.sid).participants.list(), 429, 20429);
    expect((await t.client.conversations.v1.conversations(c.sid).fetch()).sid).toBe(c.sid);
    expect((await t.client.conversations.v1.conversations(c.sid).messages.list())).toEqual([]);
    const listed = await t.http('GET', '/_emulator/faults/rest', { auth: null });
    expect(listed.body.rules).toHaveLength(3);
  });

  it('retires a rule after `times` uses', async () => {
    await rules([{ times: 2, action: { type: 'error', status: 500, code: 20500 } }]);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.http('GET', '/v1/Conversations')).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
  });

  it('delays, resets the connection, or answers an empty reply', async () => {
    await rules([{ match: { path: '/v1/Services' }, action: { type: 'delay', ms: 150 } }]);
    const started = Date.now();
    expect((await t.http('GET', '/v1/Services')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await rules([{ match: { path: '/v1/Services' }, action: { type: 'reset' } }]);
    await expect(t.http('GET', '/v1/Services')).rejects.toThrow();
    await rules([{ match: { path: '/v1/Services' }, action: { type: 'empty', status: 200 } }]);
    const empty = await t.http('GET', '/v1/Services');
    expect(empty.status).toBe(200);
    expect(empty.text).toBe('');
  });

  it('forces one answer with the X-Emulator-Fault header', async () => {
    const forced = await t.http('POST', '/v1/Conversations', { form: { FriendlyName: 'x' }, headers: { 'X-Emulator-Fault': 'status=503;code=20503' } });
    expect(forced.status).toBe(503);
    expect(forced.body).toMatchObject({ code: 20503, status: 503, more_info: 'https://www.twilio.com/docs/errors/20503' });
    expect(await t.client.conversations.v1.conversations.list()).toEqual([]);
    const bad = await t.http('GET', '/v1/Conversations', { headers: { 'X-Emulator-Fault': 'nonsense' } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe(20001);
  });

  it('refuses a header delay past the 10-minute maximum with a 400 naming it (it used to apply none)', async () => {
    for (const delay of ['3000000000', '600001', '-5', 'soon']) {
      const r = await t.http('POST', '/v1/Conversations', { form: { FriendlyName: 'never' }, headers: { 'X-Emulator-Fault': `delay=${delay}` } });
      expect(r.status, delay).toBe(400);
      expect(r.body).toMatchObject({ code: 20001, status: 400 });
      expect(r.body.message).toMatch(/X-Emulator-Fault: delay must be a delay in milliseconds from 0 to 600000/);
    }
    expect(await t.client.conversations.v1.conversations.list()).toEqual([]);
    const rule = await t.http('PUT', '/_emulator/faults/rest', json({ rules: [{ action: { type: 'delay', ms: 3_000_000_000 } }] }));
    expect(rule.status).toBe(400);
    expect(rule.body.message).toMatch(/action\.ms must be a delay in milliseconds from 0 to 600000/);
  });

  it('refuses an empty reply with a 1xx status (not a final answer: the client would hang) with a 400 naming it', async () => {
    for (const status of ['100', '101', '103']) {
      const r = await t.http('GET', '/v1/Conversations', { headers: { 'X-Emulator-Fault': `empty=${status}` } });
      expect(r.status, status).toBe(400);
      expect(r.body).toMatchObject({ code: 20001, status: 400 });
      expect(r.body.message).toMatch(/X-Emulator-Fault: empty must be between 200 and 599/);
    }
    const rule = await t.http('PUT', '/_emulator/faults/rest', json({ rules: [{ action: { type: 'empty', status: 101 } }] }));
    expect(rule.status).toBe(400);
    expect(rule.body.message).toMatch(/action\.status must be between 200 and 599/);
    const ok = await t.http('GET', '/v1/Conversations', { headers: { 'X-Emulator-Fault': 'empty=204' } });
    expect([ok.status, ok.text]).toEqual([204, '']);
  });

  it('repeats the same random draws with the same seed', async () => {
    const pattern = async () => {
      const e = await startEmulator({ seed: 'rest-faults' });
      try {
        await e.http('PUT', '/_emulator/faults/rest', json({ rules: [{ probability: 0.5, action: { type: 'error', status: 500, code: 20500 } }] }));
        const statuses: number[] = [];
        for (let i = 0; i < 30; i++) statuses.push((await e.http('GET', '/v1/Conversations')).status);
        return statuses;
      } finally {
        await e.emulator.close();
      }
    };
    const first = await pattern();
    expect(new Set(first)).toEqual(new Set([200, 500]));
    expect(await pattern()).toEqual(first);
  });

  it('rejects malformed rules', async () => {
    for (const body of [{}, { rules: [{ action: { type: 'explode' } }] }, { rules: [{ match: { colour: 'red' }, action: { type: 'reset' } }] }, { rules: [{ probability: 2, action: { type: 'reset' } }] }]) {
      const r = await t.http('PUT', '/_emulator/faults/rest', json(body));
      expect(r.status).toBe(400);
      expect(r.body.code).toBe(20001);
    }
  });
});

describe('the Messaging API is guarded the same way', () => {
  it('answers forced faults and rate limits on /2010-04-01 too', async () => {
    const path = `/2010-04-01/Accounts/${t.emulator.accountSid}/Messages.json`;
    const forced = await t.http('POST', path, { form: { To: '+15558675310', From: '+15017122661', Body: 'x' }, headers: { 'X-Emulator-Fault': 'status=503;code=20503' } });
    expect(forced.status).toBe(503);
    expect(forced.body.code).toBe(20503);
    expect((await t.http('GET', path)).body.messages).toEqual([]);
    await limits({ rps: 1, burst: 1 });
    try {
      expect((await t.http('GET', path)).status).toBe(200);
      const refused = await t.http('GET', path);
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe(20429);
    } finally {
      await limits({ rps: null, burst: null, concurrency: null });
    }
  });
});
