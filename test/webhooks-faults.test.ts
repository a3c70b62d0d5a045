/**
 * Injected webhook faults (/_emulator/faults/webhooks) against a real consumer: the rules API and its validation,
 * each action (duplicate, drop, delay, fail, reorder), probability, times and matching, and repeatability of
 * every seeded draw in a fresh emulator with the same seed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, useEmulator, type TestEmulator } from './support/emulator.js';
import { useReceiver } from './support/webhook-receiver.js';

const t = useEmulator({ seed: 'faults' });
/** the emulator whose token signs what the receiver gets (the shared one, or a fresh one in repeatability runs) */
let signer: () => TestEmulator = () => t;

const rx = useReceiver(() => signer().emulator.authToken);

const ON = { xTwilioWebhookEnabled: 'true' as const };
const json = (body: unknown) => ({ body: JSON.stringify(body), contentType: 'application/json', auth: null });
const configure = (e: TestEmulator, filters = ['onMessageAdded'], url = rx.url()) =>
  e.client.conversations.v1.services(e.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: url, filters, method: 'POST' });
const putRules = (rules: unknown[]) => t.http('PUT', '/_emulator/faults/webhooks', json({ rules }));
/** send messages with webhooks on; wait until every delivery of them has finished (delivered, failed, dropped) */
async function sendAll(e: TestEmulator, ch: string, bodies: string[]) {
  const sids: string[] = [];
  for (const body of bodies) sids.push((await e.client.conversations.v1.conversations(ch).messages.create({ body, ...ON })).sid);
  // every delivery of them (post, scoped, duplicates, held ones) is in the journal once the REST answer is back
  const journaled = e.emulator.control.deliveries().filter((d) => sids.includes(d.params.MessageSid as string));
  expect(journaled.length).toBeGreaterThanOrEqual(sids.length);
  for (const j of journaled) await e.emulator.control.waitForDelivery((d) => d.id === j.id, 10_000);
  return sids;
}
const bodiesReceived = () => rx.requests.map((r) => r.params.Body);

describe('the rules API', () => {
  it('PUT stores normalized rules, GET returns them, DELETE clears them', async () => {
    const put = await putRules([
      { match: { eventType: 'onMessageAdded' }, probability: 0.25, times: 3, action: { type: 'duplicate' } },
      { action: { type: 'delay', uniform: [10, 20] } },
      { match: { url: 'http://127.0.0.1' }, action: { type: 'retry', status: 502 } },
    ]);
    expect(put.status).toBe(200);
    const expected = [
      { match: { eventType: 'onMessageAdded' }, probability: 0.25, times: 3, action: { type: 'duplicate', count: 1 } },
      { match: {}, probability: 1, action: { type: 'delay', uniform: [10, 20] } },
      { match: { url: 'http://127.0.0.1' }, probability: 1, action: { type: 'fail', status: 502 } },
    ];
    expect(put.body.rules).toEqual(expected);
    const get = await t.http('GET', '/_emulator/faults/webhooks', { auth: null });
    expect(get.status).toBe(200);
    expect(get.body.rules).toEqual(expected);
    expect((await t.http('DELETE', '/_emulator/faults/webhooks', { auth: null })).status).toBe(204);
    expect((await t.http('GET', '/_emulator/faults/webhooks', { auth: null })).body).toEqual({ rules: [] });
  });

  it.each([
    ['no rules list', { rule: [] }, /rules/],
    ['an unknown action', { rules: [{ action: { type: 'explode' } }] }, /unknown action type/],
    ['a probability above 1', { rules: [{ probability: 1.5, action: { type: 'drop' } }] }, /probability/],
    ['an unknown match key', { rules: [{ match: { body: 'x' }, action: { type: 'drop' } }] }, /match\.body/],
    ['a delay without a duration', { rules: [{ action: { type: 'delay' } }] }, /delay action needs/],
    ['a fail status that is not 4xx/5xx', { rules: [{ action: { type: 'fail', status: 200 } }] }, /status/],
    ['a negative count', { rules: [{ action: { type: 'duplicate', count: -1 } }] }, /count/],
    // setTimeout cannot wait past 2^31 ms: such a delay used to spin at 1 ms forever
    ['a delay past 2^31 ms', { rules: [{ action: { type: 'delay', ms: 3_000_000_000 } }] }, /action\.ms must be a delay in milliseconds from 0 to 600000/],
    ['a delay past the 10-minute maximum', { rules: [{ action: { type: 'delay', ms: 600_001 } }] }, /action\.ms .*600000/],
    ['a uniform bound past the maximum', { rules: [{ action: { type: 'delay', uniform: [0, 1e12] } }] }, /action\.uniform\[1\] .*600000/],
    ['a lognormal median past the maximum', { rules: [{ action: { type: 'delay', lognormal: { medianMs: 1e10, sigma: 1 } } }] }, /action\.lognormal\.medianMs .*600000/],
    ['a reorder hold past the maximum', { rules: [{ action: { type: 'reorder', window: 3, ms: 3_000_000_000 } }] }, /action\.ms .*600000/],
  ])('refuses %s with 400 and the Twilio envelope, keeping the old rules', async (_name, body, message) => {
    expect((await putRules([{ action: { type: 'drop' } }])).status).toBe(200);
    const res = await t.http('PUT', '/_emulator/faults/webhooks', json(body));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 20001, status: 400, more_info: 'https://www.twilio.com/docs/errors/20001' });
    expect(res.body.message).toMatch(message);
    expect((await t.http('GET', '/_emulator/faults/webhooks', { auth: null })).body.rules).toEqual([{ match: {}, probability: 1, action: { type: 'drop' } }]);
  });
});

describe('actions', () => {
  it('duplicate {count: 2}: three requests with the same idempotency token', async () => {
    await configure(t);
    const c = await t.client.conversations.v1.conversations.create({ friendlyName: 'dup' });
    await putRules([{ action: { type: 'duplicate', count: 2 } }]);
    const [sid] = await sendAll(t, c.sid, ['twice more']);
    const journal = t.emulator.control.deliveries({ conversationSid: c.sid });
    await Promise.all(journal.map((j) => t.emulator.control.waitForDelivery((d) => d.id === j.id && d.state === 'delivered', 5000)));
    expect(journal).toHaveLength(3);
    expect(journal.slice(1).map((d) => d.duplicateOf)).toEqual([journal[0].id, journal[0].id]);
    expect(rx.requests).toHaveLength(3);
    expect(new Set(rx.requests.map((r) => r.idempotencyToken))).toEqual(new Set([journal[0].idempotencyToken]));
    expect(rx.requests.map((r) => [r.params.MessageSid, r.params.RetryCount])).toEqual([[sid, '0'], [sid, '0'], [sid, '0']]);
  });

  it('drop: journaled as dropped, never sent; times: 1 retires the rule after one use', async () => {
    await configure(t);
    const c = await t.client.conversations.v1.conversations.create({ friendlyName: 'drop' });
    await putRules([{ times: 1, action: { type: 'drop' } }]);
    const [lost, kept] = await sendAll(t, c.sid, ['lost', 'kept']);
    const states = t.emulator.control.deliveries({ conversationSid: c.sid }).map((d) => [d.params.MessageSid, d.state, d.attempts.length]);
    expect(states).toEqual([[lost, 'dropped', 0], [kept, 'delivered', 1]]);
    expect(bodiesReceived()).toEqual(['kept']);
    expect((await t.http('GET', '/_emulator/faults/webhooks', { auth: null })).body.rules[0].times).toBe(0);
  });

  it('delay {ms: 300}: the request arrives at least 300 ms after the change', async () => {
    await configure(t);
    const c = await t.client.conversations.v1.conversations.create({ friendlyName: 'delay' });
    await putRules([{ action: { type: 'delay', ms: 300 } }]);
    const before = Date.now();
    await sendAll(t, c.sid, ['slowly']);
    expect(rx.requests).toHaveLength(1);
    expect(rx.requests[0].at - before).toBeGreaterThanOrEqual(300);
    expect(rx.requests[0].params.RetryCount).toBe('0');
  });

  it('delay {ms: 600000}, the maximum, is accepted; the delivery waits, pending', async () => {
    await configure(t);
    const c = await t.client.conversations.v1.conversations.create({ friendlyName: 'longest delay' });
    expect((await putRules([{ action: { type: 'delay', ms: 600_000 } }])).status).toBe(200);
    await t.client.conversations.v1.conversations(c.sid).messages.create({ body: 'in ten minutes', ...ON });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(t.emulator.control.deliveries({ conversationSid: c.sid }).map((d) => [d.state, d.attempts.length])).toEqual([['pending', 0]]);
    expect(rx.requests).toEqual([]);
  });

  it('fail {status: 503}: final by default (a 5xx is not retried unless #rp says so)', async () => {
    await configure(t);
    const c = await t.client.conversations.v1.conversations.create({ friendlyName: 'fail-default' });
    await putRules([{ action: { type: 'fail', status: 503 } }]);
    await sendAll(t, c.sid, ['not retried']);
    expect(t.emulator.control.deliveries({ conversationSid: c.sid }).map((d) => [d.state, d.attempts.map((a) => a.status)])).toEqual([['failed', [503]]]);
    expect(rx.requests).toEqual([]);
  });

  it('fail {status: 503} with #rp=5xx: an injected failed attempt, then the real delivery with RetryCount=1', async () => {
    await configure(t, ['onMessageAdded'], `${rx.url()}#rp=5xx`);
    const c = await t.client.conversations.v1.conversations.create({ friendlyName: 'fail' });
    await putRules([{ action: { type: 'fail', status: 503 } }]);
    const [sid] = await sendAll(t, c.sid, ['second time lucky']);
    const [d] = t.emulator.control.deliveries({ conversationSid: c.sid });
    expect(d.state).toBe('delivered');
    expect(d.attempts.map((a) => [a.retryCount, a.status, a.error])).toEqual([[0, 503, 'injected failure'], [1, 200, null]]);
    expect(rx.requests.map((r) => [r.params.MessageSid, r.params.RetryCount, r.idempotencyToken])).toEqual([[sid, '1', d.idempotencyToken]]);
  });

  it('fail with #rc=0: the injected failure is final', async () => {
    await configure(t, ['onMessageAdded'], `${rx.url('/no-retry')}#rc=0&rp=5xx`);
    const c = await t.client.conversations.v1.conversations.create({ friendlyName: 'fail-final' });
    await putRules([{ action: { type: 'fail', status: 500 } }]);
    await sendAll(t, c.sid, ['never']);
    expect(t.emulator.control.deliveries({ conversationSid: c.sid }).map((d) => [d.state, d.attempts.length])).toEqual([['failed', 1]]);
    expect(rx.requests).toEqual([]);
  });

  it('reorder: a window that does not fill is released after its ms', async () => {
    await configure(t);
    const c = await t.client.conversations.v1.conversations.create({ friendlyName: 'short window' });
    await putRules([{ action: { type: 'reorder', window: 10, ms: 200 } }]);
    const before = Date.now();
    await sendAll(t, c.sid, ['r0', 'r1', 'r2']);
    expect(rx.requests.map((r) => r.params.Body).sort()).toEqual(['r0', 'r1', 'r2']);
    expect(Math.min(...rx.requests.map((r) => r.at)) - before).toBeGreaterThanOrEqual(190);
    expect(t.emulator.control.deliveries({ conversationSid: c.sid }).map((d) => d.state)).toEqual(['delivered', 'delivered', 'delivered']);
  });

  it('rules match by eventType, URL prefix and conversationSid', async () => {
    await configure(t, ['onMessageAdded', 'onParticipantAdded'], rx.url('/svc'));
    const a = await t.client.conversations.v1.conversations.create({ friendlyName: 'a' });
    const b = await t.client.conversations.v1.conversations.create({ friendlyName: 'b' });
    await t.client.conversations.v1.conversations(b.sid).webhooks.create({ target: 'webhook', 'configuration.url': rx.url('/scoped'), 'configuration.filters': ['onMessageAdded'] });
    await putRules([
      { match: { eventType: 'onParticipantAdded' }, action: { type: 'drop' } },
      { match: { url: rx.url('/scoped') }, action: { type: 'drop' } },
      { match: { conversationSid: a.sid }, action: { type: 'drop' } },
    ]);
    await t.client.conversations.v1.conversations(b.sid).participants.create({ identity: 'pat', ...ON });
    await sendAll(t, a.sid, ['in a']);
    await sendAll(t, b.sid, ['in b']);
    const states = t.emulator.control.deliveries().map((d) => [d.eventType, d.conversationSid === a.sid ? 'a' : 'b', d.kind, d.state]);
    expect(states).toEqual([
      ['onParticipantAdded', 'b', 'post', 'dropped'],
      ['onMessageAdded', 'a', 'post', 'dropped'],
      ['onMessageAdded', 'b', 'post', 'delivered'],
      ['onMessageAdded', 'b', 'scoped', 'dropped'],
    ]);
    expect(rx.requests.map((r) => [r.path, r.params.Body])).toEqual([['/svc', 'in b']]);
  });
});

describe('per account', () => {
  it('a rule can match an account (control-plane.md lists accountSid as a match key)', async () => {
    const other = t.emulator.control.createAccount({ friendlyName: 'other' });
    const client = t.clientFor(other.sid, other.authToken);
    const otherEmulator = { ...t, client, emulator: { ...t.emulator, defaultServiceSid: other.defaultServiceSid, accountSid: other.sid } } as TestEmulator;
    await configure(t);
    await configure(otherEmulator, ['onMessageAdded'], rx.url('/other'));
    await putRules([{ match: { accountSid: other.sid }, action: { type: 'drop' } }]);
    const mine = await t.client.conversations.v1.conversations.create({ friendlyName: 'mine' });
    const theirs = await client.conversations.v1.conversations.create({ friendlyName: 'theirs' });
    await sendAll(otherEmulator, theirs.sid, ['theirs']);
    await sendAll(t, mine.sid, ['mine']);
    expect(t.emulator.control.deliveries().map((d) => [d.params.AccountSid, d.state])).toEqual([[other.sid, 'dropped'], [t.emulator.accountSid, 'delivered']]);
    expect(bodiesReceived()).toEqual(['mine']);
  });
});

describe('seeded draws repeat', () => {
  /** the same script on a fresh emulator with this seed, signed with its own token */
  async function fresh<T>(seed: string, script: (e: TestEmulator) => Promise<T>): Promise<T> {
    const e = await startEmulator({ seed });
    signer = () => e;
    rx.clear();
    try {
      const out = await script(e);
      expect(e.violations).toEqual([]);
      return out;
    } finally {
      signer = () => t;
      await e.emulator.close();
      rx.clear();
    }
  }

  it('reorder {window: 5}: a shuffled order, the same one with the same seed', async () => {
    const run = () =>
      fresh('reorder-seed', async (e) => {
        await configure(e);
        e.emulator.control.setWebhookFaults([{ action: { type: 'reorder', window: 5, ms: 10_000 } }]);
        const c = await e.client.conversations.v1.conversations.create({ friendlyName: 'shuffle' });
        await sendAll(e, c.sid, ['m0', 'm1', 'm2', 'm3', 'm4']);
        expect(e.emulator.control.deliveries().every((d) => d.state === 'delivered')).toBe(true);
        return rx.requests.map((r) => Number(r.params.Index));
      });
    const first = await run();
    expect([...first].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(first).not.toEqual([0, 1, 2, 3, 4]);
    expect(await run()).toEqual(first);
  });

  it('probability 0.5: the same deliveries are affected in two runs', async () => {
    const run = () =>
      fresh('coin-seed', async (e) => {
        await configure(e);
        e.emulator.control.setWebhookFaults([{ probability: 0.5, action: { type: 'drop' } }]);
        const c = await e.client.conversations.v1.conversations.create({ friendlyName: 'coins' });
        await sendAll(e, c.sid, [...Array(12).keys()].map((i) => `coin ${i}`));
        const dropped = e.emulator.control.deliveries({ state: 'dropped' }).map((d) => Number(d.params.Index));
        expect(rx.requests.map((r) => Number(r.params.Index)).sort((x, y) => x - y)).toEqual(
          [...Array(12).keys()].filter((i) => !dropped.includes(i)),
        );
        return { dropped, tokens: e.emulator.control.deliveries().map((d) => d.idempotencyToken) };
      });
    const first = await run();
    expect(first.dropped.length).toBeGreaterThan(0);
    expect(first.dropped.length).toBeLessThan(12);
    const second = await run();
    expect(second.dropped).toEqual(first.dropped);
    expect(second.tokens).toEqual(first.tokens);
  });
});
