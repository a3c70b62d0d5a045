/**
 * The REST request log (`GET` / `DELETE /_emulator/requests`): every Twilio REST request the emulator answered,
 * /v1 and /2010-04-01, refusals included (auth, test credentials, rate limits, injected faults, validation, 404),
 * oldest first, never the control plane's own; filters; bounded to the last 10,000 with a dropped count; cleared
 * by DELETE and by reset; no bodies and no credentials kept. Driven through the official SDK and raw HTTP.
 */
import { describe, expect, it } from 'vitest';
import { RequestLog } from '../src/emulator/http/request-log.js';
import { useEmulator } from './support/emulator.js';

const t = useEmulator();

const json = (body: unknown) => ({ body: JSON.stringify(body), contentType: 'application/json', auth: null });
const A = '+15557650001';
const SENDER = '+15557659999';

interface Entry {
  at: string;
  method: string;
  path: string;
  operationId: string | null;
  status: number | null;
  accountSid: string | null;
  webhookEnabled: boolean;
  latencyMs: number;
}

async function log(query = ''): Promise<{ requests: Entry[]; dropped: number }> {
  const r = await t.http('GET', `/_emulator/requests${query}`, { auth: null });
  expect(r.status).toBe(200);
  return r.body;
}

const messagesPath = () => `/2010-04-01/Accounts/${t.emulator.accountSid}/Messages.json`;

describe('the REST request log', () => {
  it('records SDK calls to /v1 and /2010-04-01 oldest first, with operation, status, account, webhook flag and latency', async () => {
    const before = Date.now();
    const c = await t.client.conversations.v1.conversations.create({ friendlyName: 'logged', xTwilioWebhookEnabled: 'true' });
    await t.client.conversations.v1.conversations(c.sid).fetch();
    const m = await t.client.messages.create({ to: A, from: SENDER, body: 'hello' });
    await t.client.messages(m.sid).fetch();
    await t.client.messages.list({ to: A, limit: 5 });
    await t.client.messages(m.sid).remove();
    // the control plane is not logged (neither these calls nor the log's own GET)
    await t.http('GET', '/_emulator/outbox', { auth: null });

    const { requests, dropped } = await log();
    expect(dropped).toBe(0);
    expect(requests.map((r) => [r.method, r.path, r.operationId, r.status])).toEqual([
      ['POST', '/v1/Conversations', 'CreateConversation', 201],
      ['GET', `/v1/Conversations/${c.sid}`, 'FetchConversation', 200],
      ['POST', messagesPath(), 'CreateMessage', 201],
      ['GET', `/2010-04-01/Accounts/${t.emulator.accountSid}/Messages/${m.sid}.json`, 'FetchMessage', 200],
      ['GET', `${messagesPath()}?To=${encodeURIComponent(A)}&PageSize=5`, 'ListMessage', 200],
      ['DELETE', `/2010-04-01/Accounts/${t.emulator.accountSid}/Messages/${m.sid}.json`, 'DeleteMessage', 204],
    ]);
    expect(requests.map((r) => r.webhookEnabled)).toEqual([true, false, false, false, false, false]);
    expect(requests.every((r) => r.accountSid === t.emulator.accountSid)).toBe(true);
    for (const r of requests) {
      expect(r.latencyMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(r.at)).toBeGreaterThanOrEqual(before - 1);
      expect(r.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    const ats = requests.map((r) => Date.parse(r.at));
    expect(ats).toEqual([...ats].sort((a, b) => a - b));
  });

  it('records refusals: wrong credentials, test credentials, validation, 404, 405, rate limits and injected faults', async () => {
    const sid = t.emulator.accountSid;
    expect((await t.http('GET', '/v1/Conversations', { auth: [sid, 'wrong'] })).status).toBe(401);
    expect((await t.http('GET', '/v1/Conversations', { auth: [t.emulator.testAccountSid, t.emulator.testAuthToken] })).status).toBe(403);
    expect((await t.http('POST', messagesPath(), { form: { From: SENDER, Body: 'no To' } })).status).toBe(400);
    expect((await t.http('GET', `/v1/Conversations/CH${'0'.repeat(32)}`)).status).toBe(404);
    expect((await t.http('GET', '/v1/Nothing/Here')).status).toBe(404);
    expect((await t.http('PATCH', '/v1/Conversations')).status).toBe(405);
    expect((await t.http('GET', '/v1/Conversations', { headers: { 'X-Emulator-Fault': 'status=503;code=20503' } })).status).toBe(503);
    expect((await t.http('GET', '/v1/Conversations', { headers: { 'X-Emulator-Fault': 'empty' } })).status).toBe(200);
    await expect(t.http('GET', '/v1/Conversations', { headers: { 'X-Emulator-Fault': 'reset' } })).rejects.toThrow();
    expect((await t.http('PUT', '/_emulator/limits', json({ rps: 1, burst: 1, concurrency: null }))).status).toBe(200);
    expect((await t.http('GET', '/v1/Conversations')).status).toBe(200);
    expect((await t.http('GET', '/v1/Conversations')).status).toBe(429);

    const { requests } = await log();
    expect(requests.map((r) => [r.method, r.path, r.operationId, r.status, r.accountSid])).toEqual([
      ['GET', '/v1/Conversations', 'ListConversation', 401, sid],
      ['GET', '/v1/Conversations', 'ListConversation', 403, t.emulator.testAccountSid],
      ['POST', messagesPath(), 'CreateMessage', 400, sid],
      ['GET', `/v1/Conversations/CH${'0'.repeat(32)}`, 'FetchConversation', 404, sid],
      ['GET', '/v1/Nothing/Here', null, 404, sid],
      ['PATCH', '/v1/Conversations', null, 405, sid],
      ['GET', '/v1/Conversations', 'ListConversation', 503, sid],
      ['GET', '/v1/Conversations', 'ListConversation', 200, sid],
      ['GET', '/v1/Conversations', 'ListConversation', null, sid],
      ['GET', '/v1/Conversations', 'ListConversation', 200, sid],
      ['GET', '/v1/Conversations', 'ListConversation', 429, sid],
    ]);
  });

  it('records 2010 refusals before routing too: another account in the path, no credentials, an unknown 2010 path', async () => {
    const other = `AC${'7'.repeat(32)}`;
    expect((await t.http('GET', `/2010-04-01/Accounts/${other}/Messages.json`, { auth: null })).status).toBe(401);
    expect((await t.http('GET', `/2010-04-01/Accounts/${other}/Messages.json`)).status).toBe(404);
    expect((await t.http('GET', `/2010-04-01/Accounts/${t.emulator.accountSid}/Calls.json`)).status).toBe(404);
    const { requests } = await log();
    expect(requests.map((r) => [r.path, r.operationId, r.status, r.accountSid])).toEqual([
      [`/2010-04-01/Accounts/${other}/Messages.json`, 'ListMessage', 401, other],
      [`/2010-04-01/Accounts/${other}/Messages.json`, 'ListMessage', 404, t.emulator.accountSid],
      [`/2010-04-01/Accounts/${t.emulator.accountSid}/Calls.json`, null, 404, t.emulator.accountSid],
    ]);
  });

  it('proves a client did NOT send: no POST …/Messages.json after a send the emulator refused with 21610', async () => {
    await t.http('POST', '/_emulator/inbound', json({ From: A, To: SENDER, Body: 'STOP' }));
    expect((await t.http('DELETE', '/_emulator/requests', { auth: null })).status).toBe(204);
    const refused = await t.http('POST', messagesPath(), { form: { To: A, From: SENDER, Body: 'after STOP' } });
    expect(refused.body.code).toBe(21610);
    const posts = await log('?method=post&path=' + encodeURIComponent('/2010-04-01/*/Messages.json'));
    expect(posts.requests.map((r) => r.status)).toEqual([400]);
    // nothing else: a client that checks the opt-out first makes no such call at all
    expect((await t.http('DELETE', '/_emulator/requests', { auth: null })).status).toBe(204);
    await t.client.messages.list({ limit: 1 });
    expect((await log('?method=POST&path=' + encodeURIComponent('/2010-04-01/*/Messages.json'))).requests).toEqual([]);
    expect((await log('?method=GET')).requests).toHaveLength(1);
  });

  it('filters by method, path prefix or glob, account, since and limit', async () => {
    const other = (await t.http('POST', '/_emulator/accounts', json({}))).body;
    const theirs = t.clientFor(other.accountSid, other.authToken);
    await t.client.conversations.v1.conversations.create({ friendlyName: 'one' });
    await theirs.conversations.v1.conversations.create({ friendlyName: 'theirs' });
    await t.client.conversations.v1.conversations.list({ limit: 2 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const since = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await t.client.messages.create({ to: A, from: SENDER, body: 'later' });

    expect((await log('?method=post')).requests.map((r) => r.path)).toEqual(['/v1/Conversations', '/v1/Conversations', messagesPath()]);
    expect((await log('?path=/v1/')).requests).toHaveLength(3);
    expect((await log('?path=/2010-04-01')).requests).toHaveLength(1);
    expect((await log(`?path=${encodeURIComponent('/v1/Conversations?')}`)).requests).toHaveLength(1); // the list's ?PageSize=2
    expect((await log(`?path=${encodeURIComponent('*/Messages.json')}`)).requests.map((r) => r.operationId)).toEqual(['CreateMessage']);
    expect((await log(`?accountSid=${other.accountSid}`)).requests.map((r) => r.method)).toEqual(['POST']);
    expect((await log(`?since=${encodeURIComponent(since)}`)).requests.map((r) => r.operationId)).toEqual(['CreateMessage']);
    expect((await log('?limit=2')).requests.map((r) => r.operationId)).toEqual(['CreateConversation', 'CreateConversation']);

    const inProcess = t.emulator.control.requests({ method: 'GET', accountSid: t.emulator.accountSid });
    expect(inProcess.requests.map((r) => r.operationId)).toEqual(['ListConversation']);
    expect(t.emulator.control.requests({ since: new Date(since) }).requests).toHaveLength(1);
    t.emulator.control.clearRequests();
    expect(t.emulator.control.requests().requests).toEqual([]);
  });

  it('refuses a bad limit or since with 400 naming it', async () => {
    for (const [query, field] of [['?limit=0', 'limit'], ['?limit=x', 'limit'], ['?since=yesterday', 'since']]) {
      const r = await t.http('GET', `/_emulator/requests${query}`, { auth: null });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 20001, status: 400, more_info: 'https://www.twilio.com/docs/errors/20001' });
      expect(r.body.message).toContain(field);
    }
  });

  it('keeps no bodies and no credentials', async () => {
    const secret = 'a body that must not be kept';
    await t.client.messages.create({ to: A, from: SENDER, body: secret });
    await t.client.conversations.v1.conversations.create({ friendlyName: secret });
    const key = (await t.http('POST', `/_emulator/accounts/${t.emulator.accountSid}/keys`, json({}))).body;
    await t.clientFor(key.sid, key.secret, t.emulator.accountSid).conversations.v1.conversations.list();
    const text = (await t.http('GET', '/_emulator/requests', { auth: null })).text;
    for (const kept of [secret, encodeURIComponent(secret), t.emulator.authToken, key.secret, key.sid, 'Basic ']) expect(text).not.toContain(kept);
    expect(JSON.parse(text).requests).toHaveLength(3);
  });

  it('is cleared by DELETE and by reset; a reset of one account forgets only its requests', async () => {
    const other = (await t.http('POST', '/_emulator/accounts', json({}))).body;
    await t.client.conversations.v1.conversations.list();
    await t.clientFor(other.accountSid, other.authToken).conversations.v1.conversations.list();
    expect((await t.http('POST', '/_emulator/reset', json({ accountSid: other.accountSid }))).status).toBe(204);
    expect((await log()).requests.map((r) => r.accountSid)).toEqual([t.emulator.accountSid]);
    expect((await t.http('POST', '/_emulator/reset', { auth: null })).status).toBe(204);
    expect((await log()).requests).toEqual([]);
    await t.client.conversations.v1.conversations.list();
    expect((await log()).requests).toHaveLength(1);
    expect((await t.http('DELETE', '/_emulator/requests', { auth: null })).status).toBe(204);
    expect(await log()).toEqual({ requests: [], dropped: 0 });
  });

  it('is bounded to the last 10,000 requests and counts the ones that fell off', async () => {
    const total = 10_025;
    const url = `${t.emulator.url}/v1/Conversations/CH${'1'.repeat(32)}`;
    const authorization = `Basic ${Buffer.from(`${t.emulator.accountSid}:${t.emulator.authToken}`).toString('base64')}`;
    for (let sent = 0; sent < total; sent += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, total - sent) }, (_, i) => fetch(`${url}?n=${sent + i}`, { headers: { authorization } }).then((r) => r.arrayBuffer())),
      );
    }
    const { requests, dropped } = await log();
    expect(requests).toHaveLength(10_000);
    expect(dropped).toBe(25);
    const numbers = requests.map((r) => Number(new URL(r.path, 'http://x').searchParams.get('n'))).sort((a, b) => a - b);
    // the oldest 25 fell off (arrival order within a batch of 100 may differ from the n order)
    expect(numbers[0]).toBeGreaterThanOrEqual(0);
    expect(numbers[numbers.length - 1]).toBe(total - 1);
    expect(new Set(numbers).size).toBe(10_000);
    expect(numbers.filter((n) => n >= 100)).toHaveLength(total - 100);
  }, 60_000);
});

describe('RequestLog (the ring)', () => {
  const entry = (n: number) => ({ at: n, method: 'GET', path: `/v1/x?n=${n}`, operationId: null, status: 200, accountSid: n % 2 ? 'ACodd' : 'ACeven', webhookEnabled: false, latencyMs: 0 });

  it('keeps the last `capacity` entries oldest first, and one account can be forgotten without losing the order', () => {
    const ring = new RequestLog(3);
    for (let n = 0; n < 7; n++) ring.add(entry(n));
    expect(ring.list().map((e) => e.path)).toEqual(['/v1/x?n=4', '/v1/x?n=5', '/v1/x?n=6']);
    expect(ring.dropped).toBe(4);
    ring.clear('ACeven');
    expect(ring.list().map((e) => e.path)).toEqual(['/v1/x?n=5']);
    ring.add(entry(7));
    ring.add(entry(8));
    ring.add(entry(9));
    expect(ring.list().map((e) => e.path)).toEqual(['/v1/x?n=7', '/v1/x?n=8', '/v1/x?n=9']);
    expect(ring.dropped).toBe(5);
    ring.clear();
    expect([ring.list(), ring.dropped]).toEqual([[], 0]);
  });
});
