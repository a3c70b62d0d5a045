/**
 * Webhook delivery through a real consumer: pre-event decisions, retries and connection overrides, per-conversation
 * order, the journal's control API, and durability of a pending delivery across a crash of `tce serve`.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { emulatorHttpClient } from '../src/client.js';
import { expectTwilioError, startEmulator, useEmulator, type TestEmulator } from './support/emulator.js';
import { closedPort, startReceiver, useReceiver } from './support/webhook-receiver.js';
import { expectNoSpawnedViolations, killSpawned, spawnServe } from './support/spawned.js';

const t = useEmulator();

const rx = useReceiver(() => t.emulator.authToken);

const ON = { xTwilioWebhookEnabled: 'true' as const };
const v1 = () => t.client.conversations.v1;
const configure = (o: { pre?: string; post?: string; filters: string[] }) =>
  v1().services(t.emulator.defaultServiceSid).configuration.webhooks().update({ preWebhookUrl: o.pre, postWebhookUrl: o.post, filters: o.filters, method: 'POST' });
const finished = (pred: (d: { eventType: string; params: Record<string, unknown>; kind: string }) => boolean, ms = 8000) =>
  t.emulator.control.waitForDelivery((d) => pred(d), ms);

describe('pre-event webhooks', () => {
  it('a 4xx answer refuses the change: 403/20403, nothing stored, no post-event', async () => {
    await configure({ pre: rx.url('/pre'), post: rx.url('/post'), filters: ['onMessageAdd', 'onMessageAdded'] });
    rx.respond = (r) => (r.path === '/pre' && r.params.Body === 'forbidden' ? { status: 403 } : { status: 200 });
    const c = await v1().conversations.create({ friendlyName: 'guarded' });
    await expectTwilioError(v1().conversations(c.sid).messages.create({ body: 'forbidden', author: 'mallory', ...ON }), 403, 20403, /onMessageAdd/);
    expect(await v1().conversations(c.sid).messages.list()).toEqual([]);
    const pre = rx.requests[0];
    expect(pre.path).toBe('/pre');
    expect(pre.params).toEqual({
      AccountSid: t.emulator.accountSid,
      EventType: 'onMessageAdd',
      Source: 'API',
      ConversationSid: c.sid,
      Author: 'mallory',
      Body: 'forbidden',
      Attributes: '{}',
    });
    const journaled = t.emulator.control.deliveries({ eventType: 'onMessageAdd' });
    expect(journaled.map((d) => [d.kind, d.state, d.attempts.map((a) => a.status)])).toEqual([['pre', 'failed', [403]]]);
    // barrier: an allowed message's post-event arrives; the refused one never had any
    const ok = await v1().conversations(c.sid).messages.create({ body: 'fine', ...ON });
    expect(ok.index).toBe(0);
    await finished((d) => d.eventType === 'onMessageAdded' && d.params.MessageSid === ok.sid);
    expect(t.emulator.control.deliveries({ eventType: 'onMessageAdded' }).map((d) => d.params.Body)).toEqual(['fine']);
    expect(rx.requests.map((r) => [r.path, r.params.EventType])).toEqual([
      ['/pre', 'onMessageAdd'],
      ['/pre', 'onMessageAdd'],
      ['/post', 'onMessageAdded'],
    ]);
  });

  it('a 200 with JSON changes the stored fields', async () => {
    await configure({ pre: rx.url('/pre'), post: rx.url('/post'), filters: ['onMessageAdd', 'onMessageAdded'] });
    rx.respond = (r) => (r.path === '/pre' ? { status: 200, body: { body: 'changed' } } : { status: 200 });
    const c = await v1().conversations.create({ friendlyName: 'rewritten' });
    const m = await v1().conversations(c.sid).messages.create({ body: 'original', author: 'ann', ...ON });
    expect(m.body).toBe('changed');
    expect(m.author).toBe('ann');
    expect((await v1().conversations(c.sid).messages(m.sid).fetch()).body).toBe('changed');
    const post = await finished((d) => d.eventType === 'onMessageAdded' && d.params.MessageSid === m.sid);
    expect(post.params.Body).toBe('changed');
    expect(rx.requests[0].params.Body).toBe('original');
  });

  it('a 200 with {} or an empty body changes nothing; no header means no pre-event', async () => {
    await configure({ pre: rx.url('/pre'), filters: ['onConversationUpdate'] });
    rx.respond = () => ({ status: 200, body: {} });
    const c = await v1().conversations.create({ friendlyName: 'first' });
    const u = await v1().conversations(c.sid).update({ friendlyName: 'second', ...ON });
    expect(u.friendlyName).toBe('second');
    expect(rx.requests.map((r) => [r.params.EventType, r.params.FriendlyName, r.params.ConversationSid])).toEqual([['onConversationUpdate', 'second', c.sid]]);
    rx.respond = () => ({ status: 403 });
    // without X-Twilio-Webhook-Enabled the pre hook is not asked, so it cannot refuse
    expect((await v1().conversations(c.sid).update({ friendlyName: 'third' })).friendlyName).toBe('third');
    expect(rx.requests).toHaveLength(1);
  });

  it('an unreachable pre hook lets the change through; a conversation pre hook may change friendly_name', async () => {
    await configure({ pre: `http://127.0.0.1:${await closedPort()}/pre`, filters: ['onConversationAdd'] });
    expect((await v1().conversations.create({ friendlyName: 'unasked', ...ON })).friendlyName).toBe('unasked');
    expect(t.emulator.control.deliveries({ eventType: 'onConversationAdd' }).map((d) => [d.state, d.attempts[0].error?.slice(0, 12)])).toEqual([['failed', 'ECONNREFUSED']]);
    await configure({ pre: rx.url('/pre'), filters: ['onConversationUpdate'] });
    rx.respond = () => ({ status: 200, body: { friendly_name: 'from the hook', unique_name: 'ignored' } });
    const c = await v1().conversations.create({ friendlyName: 'before' });
    const u = await v1().conversations(c.sid).update({ friendlyName: 'asked', uniqueName: 'kept', ...ON });
    expect([u.friendlyName, u.uniqueName]).toEqual(['from the hook', 'kept']);
    expect(rx.requests[0].params).toMatchObject({ EventType: 'onConversationUpdate', ConversationSid: c.sid, FriendlyName: 'asked', UniqueName: 'kept', State: 'active' });
  });

  it('no answer within 5 s lets the change through unchanged', { timeout: 30_000 }, async () => {
    await configure({ pre: rx.url('/slow'), filters: ['onMessageAdd'] });
    rx.respond = () => ({ status: 200, body: { body: 'too late' }, delayMs: 5500 });
    const c = await v1().conversations.create({ friendlyName: 'slow' });
    const started = Date.now();
    const m = await v1().conversations(c.sid).messages.create({ body: 'as sent', ...ON });
    const took = Date.now() - started;
    // the emulator gave up at 5 s (the consumer's late answer would have changed the body)
    expect(took).toBeGreaterThanOrEqual(4900);
    expect(m.body).toBe('as sent');
    expect((await v1().conversations(c.sid).messages(m.sid).fetch()).body).toBe('as sent');
    const [pre] = t.emulator.control.deliveries({ eventType: 'onMessageAdd' });
    expect(pre.state).toBe('failed');
    expect(pre.attempts[0].status).toBeNull();
    expect(pre.attempts[0].error).toMatch(/TIMEOUT/i);
  });
});

describe('retries and connection overrides', () => {
  async function postOne(url: string, body = 'retry me') {
    await configure({ post: url, filters: ['onMessageAdded'] });
    const c = await v1().conversations.create({ friendlyName: 'retries' });
    const m = await v1().conversations(c.sid).messages.create({ body, ...ON });
    return finished((d) => d.eventType === 'onMessageAdded' && d.params.MessageSid === m.sid);
  }

  it('a 500 is not retried by default: Twilio\'s retry policy is #rp=ct,rt', async () => {
    rx.respond = (r) => ({ status: r.n === 0 ? 500 : 200 });
    const d = await postOne(rx.url('/flaky'));
    expect(d.state).toBe('failed');
    expect(d.attempts.map((a) => [a.retryCount, a.status])).toEqual([[0, 500]]);
    expect(rx.requests.map((r) => r.params.RetryCount)).toEqual(['0']);
    // a conversation-scoped webhook follows the same default
    rx.clear();
    rx.respond = () => ({ status: 503 });
    const c = await v1().conversations.create({ friendlyName: 'scoped retries' });
    await v1().conversations(c.sid).webhooks.create({ target: 'webhook', 'configuration.url': rx.url('/scoped'), 'configuration.filters': ['onMessageAdded'] });
    const m = await v1().conversations(c.sid).messages.create({ body: 'scoped', ...ON });
    const scoped = await finished((x) => x.kind === 'scoped' && x.params.MessageSid === m.sid);
    expect([scoped.state, scoped.attempts.map((a) => a.status)]).toEqual(['failed', [503]]);
  });

  it('#rp=5xx: a 500 is retried once with the same idempotency token and RetryCount=1', async () => {
    rx.respond = (r) => ({ status: r.n === 0 ? 500 : 200 });
    const d = await postOne(`${rx.url('/flaky')}#rp=5xx`);
    expect(d.state).toBe('delivered');
    expect(d.attempts.map((a) => [a.retryCount, a.status])).toEqual([
      [0, 500],
      [1, 200],
    ]);
    expect(rx.requests.map((r) => r.params.RetryCount)).toEqual(['0', '1']);
    expect(rx.requests.map((r) => r.idempotencyToken)).toEqual([d.idempotencyToken, d.idempotencyToken]);
    expect(rx.requests.every((r) => r.signatureValid)).toBe(true);
    const { RetryCount: a, ...first } = rx.requests[0].params;
    const { RetryCount: b, ...second } = rx.requests[1].params;
    expect([a, b]).toEqual(['0', '1']);
    expect(second).toEqual(first);
  });

  it('#rc=3&rp=5xx against an always-500 consumer: 4 attempts, then failed', async () => {
    rx.respond = () => ({ status: 500 });
    const d = await postOne(`${rx.url('/down')}#rc=3&rp=5xx`);
    expect(d.state).toBe('failed');
    expect(d.attempts.map((a) => [a.retryCount, a.status])).toEqual([[0, 500], [1, 500], [2, 500], [3, 500]]);
    expect(rx.requests.map((r) => r.params.RetryCount)).toEqual(['0', '1', '2', '3']);
    // the fragment is not sent, and is not part of the signed URL
    expect(rx.requests.every((r) => r.path === '/down')).toBe(true);
  });

  it('#rc=0: one attempt; a 4xx is not retried by default', async () => {
    rx.respond = () => ({ status: 503 });
    const d = await postOne(`${rx.url('/once')}#rc=0`);
    expect(d.state).toBe('failed');
    expect(d.attempts).toHaveLength(1);
    rx.clear();
    rx.respond = () => ({ status: 404 });
    const e = await postOne(rx.url('/gone'), 'four oh four');
    expect(e.attempts.map((a) => a.status)).toEqual([404]);
    expect(rx.requests).toHaveLength(1);
  });

  it('#rt=200 against a consumer that sleeps 500 ms: a read timeout, then a retry', async () => {
    rx.respond = (r) => (r.n === 0 ? { status: 200, delayMs: 500 } : { status: 200 });
    const d = await postOne(`${rx.url('/sleepy')}#rt=200`);
    expect(d.state).toBe('delivered');
    expect(d.attempts).toHaveLength(2);
    expect(d.attempts[0].status).toBeNull();
    expect(d.attempts[0].error).toMatch(/TIMEOUT/);
    expect(d.attempts[0].latencyMs).toBeGreaterThanOrEqual(150);
    expect(d.attempts[0].latencyMs).toBeLessThan(500);
    expect(d.attempts[1]).toMatchObject({ retryCount: 1, status: 200, error: null });
    expect(rx.requests.map((r) => r.params.RetryCount)).toEqual(['0', '1']);
  });

  it('a closed port: the connect failure is retried, then the delivery fails', async () => {
    const port = await closedPort();
    const d = await postOne(`http://127.0.0.1:${port}/nobody#ct=200`);
    expect(d.state).toBe('failed');
    expect(d.attempts.map((a) => [a.retryCount, a.status])).toEqual([[0, null], [1, null]]);
    for (const a of d.attempts) expect(a.error).toMatch(/ECONNREFUSED/);
  });
});

describe('ordering and the journal', () => {
  it('a conversation\'s events arrive in Index order, whatever the consumer\'s latency', async () => {
    await configure({ post: rx.url('/ordered'), filters: ['onMessageAdded'] });
    rx.respond = () => ({ status: 200, delayMs: Math.floor(Math.random() * 15) });
    const a = await v1().conversations.create({ friendlyName: 'a' });
    const b = await v1().conversations.create({ friendlyName: 'b' });
    const sends = [];
    for (let i = 0; i < 20; i++) {
      sends.push(v1().conversations(a.sid).messages.create({ body: `a${i}`, ...ON }));
      if (i % 2 === 0) sends.push(v1().conversations(b.sid).messages.create({ body: `b${i}`, ...ON }));
    }
    await Promise.all(sends);
    await finished((d) => d.params.ConversationSid === a.sid && d.params.Index === '19', 15_000);
    await finished((d) => d.params.ConversationSid === b.sid && d.params.Index === '9', 15_000);
    const indexes = (ch: string) => rx.requests.filter((r) => r.params.ConversationSid === ch).map((r) => Number(r.params.Index));
    expect(indexes(a.sid)).toEqual([...Array(20).keys()]);
    expect(indexes(b.sid)).toEqual([...Array(10).keys()]);
  });

  it('a reset while an attempt is in flight lets that attempt finish, and does not send it again', async () => {
    await configure({ post: rx.url('/inflight'), filters: ['onMessageAdded'] });
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    rx.respond = () => {
      arrived();
      return { status: 200, delayMs: 300 };
    };
    const c = await v1().conversations.create({ friendlyName: 'reset' });
    const m = await v1().conversations(c.sid).messages.create({ body: 'once', ...ON });
    const done = finished((d) => d.params.MessageSid === m.sid);
    await inFlight;
    t.emulator.reset();
    expect((await done).state).toBe('delivered');
    // a second send would finish (and be announced) ~300 ms later
    await expect(finished((d) => d.params.MessageSid === m.sid, 1500)).rejects.toThrow(/no matching webhook delivery/);
    expect(rx.requests).toHaveLength(1);
  });

  it('a reset while a failing attempt is in flight: no retry, and its result never lands on a later delivery', async () => {
    // #rp=all: a 500 is retried (100 ms later), unless the reset took the delivery
    await configure({ post: rx.url('/old') + '#rp=all', filters: ['onMessageAdded'] });
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    rx.respond = (r) => {
      if (r.path !== '/old') return { status: 200 };
      arrived();
      return { status: 500, delayMs: 300 };
    };
    const c = await v1().conversations.create({ friendlyName: 'before the reset' });
    await v1().conversations(c.sid).messages.create({ body: 'old', ...ON });
    await inFlight;
    const [old] = t.emulator.control.deliveries({ eventType: 'onMessageAdded' });
    const oldDone = finished((d) => d.params.Body === 'old');
    t.emulator.reset();
    // SQLite numbers a plain INTEGER PRIMARY KEY from the highest remaining row: after the reset the new delivery
    // took the old one's id, and the old attempt's result was written over it
    await configure({ post: rx.url('/new'), filters: ['onMessageAdded'] });
    const c2 = await v1().conversations.create({ friendlyName: 'after the reset' });
    await v1().conversations(c2.sid).messages.create({ body: 'new', ...ON });
    await finished((d) => d.params.Body === 'new');
    expect((await oldDone).state).toBe('failed');
    // longer than the retry's backoff: a retry would have reached /old again
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(rx.requests.map((r) => r.path)).toEqual(['/old', '/new']);
    const journal = t.emulator.control.deliveries({});
    expect(journal.map((d) => [d.id > old!.id, d.params.Body, d.state, d.attempts.map((a) => a.status)])).toEqual([[true, 'new', 'delivered', [200]]]);
  });

  it('GET /_emulator/webhooks/deliveries filters by eventType, conversationSid, status and limit; DELETE keeps pending ones', async () => {
    rx.respond = (r) => ({ status: r.params.Body === 'bad' ? 400 : 200 });
    await configure({ post: rx.url('/journal'), filters: ['onMessageAdded', 'onConversationAdded'] });
    const c1 = await v1().conversations.create({ friendlyName: 'one', ...ON });
    const c2 = await v1().conversations.create({ friendlyName: 'two', ...ON });
    await v1().conversations(c1.sid).messages.create({ body: 'good', ...ON });
    const bad = await v1().conversations(c2.sid).messages.create({ body: 'bad', ...ON });
    await finished((d) => d.params.MessageSid === bad.sid);
    await finished((d) => d.eventType === 'onMessageAdded' && d.params.ConversationSid === c1.sid);
    const get = async (query: string) => {
      const res = await t.http('GET', `/_emulator/webhooks/deliveries${query}`, { auth: null });
      expect(res.status).toBe(200);
      return res.body.deliveries as { eventType: string; conversationSid: string; state: string; params: Record<string, string> }[];
    };
    expect((await get('')).map((d) => d.eventType).sort()).toEqual(['onConversationAdded', 'onConversationAdded', 'onMessageAdded', 'onMessageAdded']);
    expect((await get('?eventType=onMessageAdded')).map((d) => d.params.Body).sort()).toEqual(['bad', 'good']);
    expect((await get(`?conversationSid=${c2.sid}`)).map((d) => d.eventType).sort()).toEqual(['onConversationAdded', 'onMessageAdded']);
    expect((await get('?status=failed')).map((d) => d.params.Body)).toEqual(['bad']);
    expect(await get('?limit=1')).toHaveLength(1);
    const badLimit = await t.http('GET', '/_emulator/webhooks/deliveries?limit=0', { auth: null });
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.code).toBe(20001);

    // one delivery held pending by a delay fault survives DELETE; finished ones go
    t.emulator.control.setWebhookFaults([{ match: { conversationSid: c1.sid }, action: { type: 'delay', ms: 60_000 } }]);
    await v1().conversations(c1.sid).messages.create({ body: 'later', ...ON });
    expect((await t.http('DELETE', '/_emulator/webhooks/deliveries', { auth: null })).status).toBe(204);
    const left = await get('');
    expect(left.map((d) => [d.state, d.params.Body])).toEqual([['pending', 'later']]);
  });
});

describe('the backlog lives in SQLite; memory holds a bounded window of it', () => {
  const pendingRows = (e: TestEmulator) => Number(e.emulator.core.db.get("SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'pending'")?.n);

  /** a consumer that answers nothing until `open()` */
  async function gatedConsumer(e: () => TestEmulator) {
    const consumer = await startReceiver(() => e().emulator.authToken);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    consumer.respond = async () => {
      await gate;
      return { status: 200 };
    };
    return { consumer, open };
  }

  async function sendRounds(e: TestEmulator, url: string, conversations: number, rounds: number, onRound?: () => void) {
    const v = e.client.conversations.v1;
    await v.services(e.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: url, filters: ['onMessageAdded'], method: 'POST' });
    const sids: string[] = [];
    for (let i = 0; i < conversations; i++) sids.push((await v.conversations.create({ friendlyName: `backlog ${i}` })).sid);
    for (let round = 0; round < rounds; round++) {
      await Promise.all(sids.map((sid) => v.conversations(sid).messages.create({ body: `r${round}`, ...ON })));
      onRound?.();
    }
    return sids;
  }

  const indexesBy = (requests: { params: Record<string, unknown> }[], sid: string) =>
    requests.filter((r) => r.params.ConversationSid === sid).map((r) => Number(r.params.Index));

  it('a consumer that never answers: the window stays bounded; every delivery goes out, in order, once it answers', { timeout: 40_000 }, async () => {
    const e = await startEmulator();
    const { consumer, open } = await gatedConsumer(() => e);
    try {
      const webhooks = e.emulator.core.webhooks;
      // more conversations than the window holds (some have nothing loaded), and more events per conversation
      webhooks.window.perKey = 3;
      webhooks.window.total = 10;
      let peak = 0;
      const sids = await sendRounds(e, `${consumer.url('/backlog')}#rt=15000`, 12, 10, () => (peak = Math.max(peak, webhooks.inMemory)));
      expect(pendingRows(e)).toBe(120);
      expect(peak).toBe(10);
      open();
      const deadline = Date.now() + 30_000;
      while (pendingRows(e) > 0 && Date.now() < deadline) {
        peak = Math.max(peak, webhooks.inMemory);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(pendingRows(e)).toBe(0);
      expect(peak).toBeLessThanOrEqual(10);
      expect(webhooks.inMemory).toBe(0);
      expect(e.emulator.control.deliveries({ state: 'delivered', limit: 10_000 })).toHaveLength(120);
      // each delivered once, a conversation's events in Index order
      for (const sid of sids) expect(indexesBy(consumer.requests, sid)).toEqual([...Array(10).keys()]);
      expect(consumer.invalid()).toEqual([]);
    } finally {
      open();
      await e.emulator.close();
      await consumer.close();
    }
  });

  it('a backlog left pending by close() goes out after a restart, in order', { timeout: 40_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tce-backlog-'));
    const db = join(dir, 'backlog.sqlite');
    let e = await startEmulator({ db });
    const { consumer, open } = await gatedConsumer(() => e);
    try {
      e.emulator.core.webhooks.window.perKey = 2;
      e.emulator.core.webhooks.window.total = 6;
      const sids = await sendRounds(e, `${consumer.url('/resume')}#rt=15000`, 3, 10);
      await e.emulator.close();
      consumer.clear();
      open();
      e = await startEmulator({ db });
      const deadline = Date.now() + 30_000;
      while (pendingRows(e) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(pendingRows(e)).toBe(0);
      expect(e.emulator.control.deliveries({ state: 'delivered' })).toHaveLength(30);
      for (const sid of sids) expect(indexesBy(consumer.requests, sid)).toEqual([...Array(10).keys()]);
    } finally {
      open();
      await e.emulator.close();
      await consumer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('durability', () => {
  const ACCOUNT = 'AC' + '7'.repeat(32);
  const TOKEN = 'durable-webhook-token';
  const dir = mkdtempSync(join(tmpdir(), 'tce-webhooks-'));
  afterAll(() => {
    killSpawned();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(expectNoSpawnedViolations);

  const serve = (db: string) => spawnServe(['--db', db, '--account-sid', ACCOUNT, '--auth-token', TOKEN]);
  const killed = (child: ChildProcessWithoutNullStreams) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  const control = async (url: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}/_emulator${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
  };

  it('a pending delivery survives SIGKILL and goes out after a restart, with its original token', { timeout: 60_000 }, async () => {
    const db = join(dir, 'webhooks.sqlite');
    const port = await closedPort();
    const first = await serve(db);
    const client = twilio(ACCOUNT, TOKEN, { httpClient: emulatorHttpClient(first.url) });
    const service = (await client.conversations.v1.configuration().fetch()).defaultChatServiceSid;
    const hookUrl = `http://127.0.0.1:${port}/durable`;
    await client.conversations.v1.services(service).configuration.webhooks().update({ postWebhookUrl: hookUrl, filters: ['onMessageAdded'], method: 'POST' });
    expect((await control(first.url, 'PUT', '/faults/webhooks', { rules: [{ action: { type: 'delay', ms: 4000 } }] })).status).toBe(200);
    const c = await client.conversations.v1.conversations.create({ friendlyName: 'survivor' });
    const m = await client.conversations.v1.conversations(c.sid).messages.create({ body: 'outlives the crash', xTwilioWebhookEnabled: 'true' });
    const before = await control(first.url, 'GET', '/webhooks/deliveries');
    expect(before.body.deliveries.map((d: { state: string; params: Record<string, string> }) => [d.state, d.params.MessageSid])).toEqual([['pending', m.sid]]);
    const token = before.body.deliveries[0].idempotencyToken as string;
    await killed(first.child);

    const receiver = await startReceiver(() => TOKEN, { port });
    try {
      const second = await serve(db);
      // the fault rules were not persisted: the restarted emulator has none
      expect((await control(second.url, 'GET', '/faults/webhooks')).body).toEqual({ rules: [] });
      const deadline = Date.now() + 20_000;
      let after: { state: string; attempts: unknown[]; idempotencyToken: string }[] = [];
      while (Date.now() < deadline) {
        after = (await control(second.url, 'GET', '/webhooks/deliveries')).body.deliveries;
        if (after[0]?.state !== 'pending') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(after.map((d) => [d.state, d.attempts.length, d.idempotencyToken])).toEqual([['delivered', 1, token]]);
      expect(receiver.requests).toHaveLength(1);
      const r = receiver.requests[0];
      expect(r.idempotencyToken).toBe(token);
      expect(r.signatureValid).toBe(true);
      expect(r.params).toMatchObject({ EventType: 'onMessageAdded', MessageSid: m.sid, Body: 'outlives the crash', RetryCount: '0' });
      await killed(second.child);
    } finally {
      await receiver.close();
    }
  });
});
