/**
 * Twilio's webhook timeouts are totals, not idle timers: a consumer that sends its headers and then trickles
 * bytes must not hold a post-event (and every later event of its conversation), a pre-event's REST call, or the
 * shutdown of `tce serve`. Real time, kept short with `#rt=` / `#tt=` overrides; the pre-event's 5 s is Twilio's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { emulatorHttpClient } from '../src/client.js';
import { startEmulator, type TestEmulator } from './support/emulator.js';
import { expectNoSpawnedViolations, killSpawned, spawnServe } from './support/spawned.js';

const ON = { xTwilioWebhookEnabled: 'true' as const };

interface Trickler {
  url(path?: string): string;
  /** the form fields of every request, in arrival order */
  hits: { path: string; params: URLSearchParams }[];
  close(): Promise<void>;
}

/**
 * A consumer that answers a request whose Body starts with "trickle" (or any request on /trickle…) with its
 * headers and then one byte every `everyMs`, never finishing; anything else gets a 200 at once.
 */
async function startTrickler(everyMs: number): Promise<Trickler> {
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const params = new URLSearchParams(body);
      hits.push({ path: req.url ?? '', params });
      if (!(params.get('Body') ?? '').startsWith('trickle') && !(req.url ?? '').startsWith('/trickle')) {
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      open.add(res);
      const timer = setInterval(() => res.write(' '), everyMs);
      res.on('close', () => {
        clearInterval(timer);
        open.delete(res);
      });
    });
  });
  const hits: Trickler['hits'] = [];
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    hits,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let trickler: Trickler;
beforeAll(async () => {
  trickler = await startTrickler(100);
});
afterAll(async () => {
  await trickler.close();
});

describe.each(['worker', 'inline'] as const)('a trickling consumer, webhookTransport %s', (transport) => {
  let t: TestEmulator;
  beforeAll(async () => {
    t = await startEmulator({ webhookTransport: transport });
  });
  afterAll(async () => {
    await t.emulator.close();
  });
  const v1 = () => t.client.conversations.v1;
  const configure = (o: { pre?: string; post?: string; filters: string[] }) =>
    v1().services(t.emulator.defaultServiceSid).configuration.webhooks().update({ preWebhookUrl: o.pre ?? '', postWebhookUrl: o.post ?? '', filters: o.filters, method: 'POST' });

  it('#rt=400: a post-event fails its attempts at the read deadline, and the conversation\'s next event is delivered', async () => {
    await configure({ post: `${trickler.url('/post')}#rt=400`, filters: ['onMessageAdded'] });
    const c = await v1().conversations.create({ friendlyName: `trickle ${transport}` });
    const slow = await v1().conversations(c.sid).messages.create({ body: 'trickle forever', ...ON });
    const next = await v1().conversations(c.sid).messages.create({ body: 'after it', ...ON });
    const started = Date.now();
    const d = await t.emulator.control.waitForDelivery((x) => x.params.MessageSid === slow.sid, 4000);
    // one retry on a read timeout (Twilio's default policy), each attempt cut at 400 ms although bytes kept coming
    expect(d.state).toBe('failed');
    expect(d.attempts.map((a) => [a.retryCount, a.status])).toEqual([[0, null], [1, null]]);
    for (const a of d.attempts) {
      expect(a.error).toMatch(/UND_ERR_BODY_TIMEOUT/);
      expect(a.latencyMs).toBeGreaterThanOrEqual(380);
      expect(a.latencyMs).toBeLessThan(1000);
    }
    const after = await t.emulator.control.waitForDelivery((x) => x.params.MessageSid === next.sid, 4000);
    expect(after.state).toBe('delivered');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('#tt=500: the total bounds an attempt too, and leaves no time for a retry', async () => {
    await configure({ post: `${trickler.url('/post')}#rt=5000&tt=500`, filters: ['onMessageAdded'] });
    const c = await v1().conversations.create({ friendlyName: `total ${transport}` });
    const slow = await v1().conversations(c.sid).messages.create({ body: 'trickle past the total', ...ON });
    const d = await t.emulator.control.waitForDelivery((x) => x.params.MessageSid === slow.sid, 4000);
    expect(d.state).toBe('failed');
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0].error).toMatch(/UND_ERR_BODY_TIMEOUT.*total/);
    expect(d.attempts[0].latencyMs).toBeLessThan(1000);
  });

  it('a pre-event that trickles: the REST call answers within ~5 s and the change goes through unchanged', { timeout: 15_000 }, async () => {
    await configure({ pre: trickler.url('/trickle-pre'), filters: ['onMessageAdd'] });
    const c = await v1().conversations.create({ friendlyName: `pre ${transport}` });
    const started = Date.now();
    const m = await v1().conversations(c.sid).messages.create({ body: 'as sent', ...ON });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(4900);
    expect(took).toBeLessThan(6000);
    expect(m.body).toBe('as sent');
    const [pre] = t.emulator.control.deliveries({ eventType: 'onMessageAdd' });
    expect(pre.state).toBe('failed');
    expect(pre.attempts[0].status).toBeNull();
    expect(pre.attempts[0].error).toMatch(/TIMEOUT/);
  });
});

describe('tce serve receiving SIGTERM with deliveries in flight', () => {
  const ACCOUNT = 'AC' + '5'.repeat(32);
  const TOKEN = 'deadline-token';
  const dir = mkdtempSync(join(tmpdir(), 'tce-deadlines-'));
  afterAll(() => {
    killSpawned();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(expectNoSpawnedViolations);

  const serve = (db: string, transport: string) =>
    spawnServe(['--db', db, '--account-sid', ACCOUNT, '--auth-token', TOKEN, '--webhook-transport', transport]);

  const until = async (what: string, check: () => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it.each(['worker', 'inline'])('--webhook-transport %s: exits within 5 s; the post-event in flight stays pending for the next start', { timeout: 30_000 }, async (transport) => {
    const slowConsumer = await startTrickler(1000);
    const db = join(dir, `${transport}.sqlite`);
    try {
      const served = await serve(db, transport);
      const { child, url } = served;
      const client = twilio(ACCOUNT, TOKEN, { httpClient: emulatorHttpClient(url) });
      const v1 = client.conversations.v1;
      const service = (await v1.configuration().fetch()).defaultChatServiceSid;
      const hooks = v1.services(service).configuration.webhooks();
      await hooks.update({ postWebhookUrl: slowConsumer.url('/post'), filters: ['onMessageAdd', 'onMessageAdded'], method: 'POST' });
      const c = await v1.conversations.create({ friendlyName: 'shutdown' });
      const posted = await v1.conversations(c.sid).messages.create({ body: 'trickle while we stop', ...ON });
      await hooks.update({ preWebhookUrl: slowConsumer.url('/trickle-pre'), postWebhookUrl: slowConsumer.url('/post'), filters: ['onMessageAdd', 'onMessageAdded'], method: 'POST' });
      // a REST call held by its pre-event, and one held by an injected delay: both in flight at SIGTERM
      const held = v1.conversations(c.sid).messages.create({ body: 'held by its pre-event', ...ON }).catch((e: unknown) => e);
      const delayed = fetch(`${url}/v1/Conversations`, {
        headers: { authorization: `Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64')}`, 'X-Emulator-Fault': 'delay=600000' },
      }).catch((e: unknown) => e);
      await until('the post-event and the pre-event at the consumer', () => slowConsumer.hits.some((h) => h.path === '/post') && slowConsumer.hits.some((h) => h.path === '/trickle-pre'));
      const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
      const sent = Date.now();
      child.kill('SIGTERM');
      const { code, at } = await exited;
      expect(at - sent, served.output).toBeLessThan(5000);
      // close() finished on its own: the 4.5 s backstop exits with 1
      expect(code, served.output).toBe(0);
      await Promise.all([held, delayed]);
      // dropped at shutdown, not counted as an attempt: it goes out again at the next start, with its token
      const file = new Database(db, { readonly: true });
      try {
        const rows = file.prepare("SELECT state, attempts FROM webhook_deliveries WHERE event_type = 'onMessageAdded' AND params LIKE ?").all(`%${posted.sid}%`) as { state: string; attempts: string }[];
        expect(rows).toEqual([{ state: 'pending', attempts: '[]' }]);
      } finally {
        file.close();
      }
    } finally {
      await slowConsumer.close();
    }
  });
});
