/**
 * The twilsock endpoint at the protocol level, with a plain `ws` client and frames written out by hand:
 * init/update/reply/close/ping/telemetry, tunnelled requests, token checks, continuation tokens and the bounds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createEmulator, type EmulatorHandle } from '../src/index.js';
import { EmulatorCore } from '../src/emulator/core.js';
import { buildApp } from '../src/emulator/app.js';
import { ClientTokens } from '../src/emulator/realtime/client-tokens.js';

let emulator: EmulatorHandle;
beforeAll(async () => {
  emulator = await createEmulator();
});
afterAll(() => emulator.close());

interface Frame {
  header: Record<string, any>;
  body: unknown;
}

/** `TWILSOCK V3.0 <n>\r\n<header>\r\n<payload>`, as the SDK writes it (twilsock parser.ts) */
function frame(header: Record<string, unknown>, payload = ''): Buffer {
  const h = JSON.stringify({ ...header, payload_size: Buffer.byteLength(payload) });
  return Buffer.from(`TWILSOCK V3.0 ${Buffer.byteLength(h)}\r\n${h}\r\n${payload}`);
}

function parse(data: Buffer): Frame {
  const text = data.toString('utf8');
  const first = text.indexOf('\r\n');
  const [magic, version, size] = text.slice(0, first).split(' ');
  expect([magic, version]).toEqual(['TWILSOCK', 'V3.0']);
  const headerBytes = data.subarray(Buffer.byteLength(text.slice(0, first)) + 2);
  const header = JSON.parse(headerBytes.subarray(0, Number(size)).toString('utf8'));
  const payload = headerBytes.subarray(Number(size) + 2, Number(size) + 2 + header.payload_size).toString('utf8');
  return { header, body: payload ? JSON.parse(payload) : undefined };
}

/** A raw twilsock connection that records every frame and the close. */
class Raw {
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: (() => void)[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(parse(data));
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }
  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }
  static open(url = `${emulator.url.replace('http', 'ws')}/v3/wsconnect`): Promise<Raw> {
    const ws = new WebSocket(url);
    const raw = new Raw(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(raw));
      ws.once('error', reject);
    });
  }
  send(header: Record<string, unknown>, payload?: string) {
    this.ws.send(frame(header, payload));
  }
  /** the first frame the predicate accepts, within a deadline */
  async next(predicate: (f: Frame) => boolean, what: string, ms = 3000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found;
      if (this.closed || Date.now() > deadline) throw new Error(`${what}: not received (closed: ${JSON.stringify(this.closed)}; frames: ${JSON.stringify(this.frames.map((f) => f.header))})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  reply(id: string) {
    return this.next((f) => f.header.method === 'reply' && f.header.id === id, `reply to ${id}`);
  }
  async closedWithin(ms = 3000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the server did not close the socket');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.closed;
  }
  async init(token: string, continuation: string | null = null): Promise<Frame> {
    const id = `TMinit${Math.random()}`;
    this.send({ method: 'init', id, token, continuation_token: continuation, capabilities: ['client_update', 'offline_storage', 'telemetry.v1'], metadata: { sdk: 'test' }, registrations: [] });
    return this.reply(id);
  }
}

describe('twilsock: init and tokens', () => {
  it('answers a valid init with 200, a continuation token and the capabilities it confirms', async () => {
    const raw = await Raw.open();
    const reply = await raw.init(emulator.clientToken('alice'));
    expect(reply.header.status).toEqual({ code: 200, status: 'OK' });
    expect(reply.header.continuation_token).toMatch(/^CT[0-9a-f]{32}$/);
    expect(reply.header.continuation_token_status).toEqual({ reissued: false });
    expect(reply.header.capabilities).toEqual(['client_update', 'telemetry.v1']);
    raw.ws.close();

    // a reconnect with it resumes; one the emulator never issued is reissued
    const again = await Raw.open();
    const resumed = await again.init(emulator.clientToken('alice'), reply.header.continuation_token);
    expect(resumed.header.continuation_token).toBe(reply.header.continuation_token);
    expect(resumed.header.continuation_token_status).toEqual({ reissued: false });
    again.ws.close();
    const third = await Raw.open();
    const reissued = await third.init(emulator.clientToken('bob'), reply.header.continuation_token);
    expect(reissued.header.continuation_token).not.toBe(reply.header.continuation_token);
    expect(reissued.header.continuation_token_status).toMatchObject({ reissued: true });
    third.ws.close();
  });

  it('refuses a forged token (401/20107) and an expired one (401/20104, the SDK then says tokenExpired)', async () => {
    const raw = await Raw.open();
    const token = emulator.clientToken('alice', { ttl: 60 });
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.alloc(32).toString('base64url')}`;
    const refused = await raw.init(forged);
    expect(refused.header.status).toMatchObject({ code: 401, status: 'Unauthorized', errorCode: 20107 });
    expect(refused.header.status.description).toContain('signature');

    emulator.clock.setMode('manual');
    try {
      emulator.clock.advance(61);
      const expired = await raw.init(token);
      expect(expired.header.status).toMatchObject({ code: 401, errorCode: 20104 });
    } finally {
      emulator.clock.reset();
    }
    raw.ws.close();
  });

  it('warns token_about_to_expire, then closes with 410 when the token expires (manual clock)', async () => {
    emulator.clock.setMode('manual');
    try {
      const raw = await Raw.open();
      expect((await raw.init(emulator.clientToken('alice', { ttl: 600 }))).header.status.code).toBe(200);
      emulator.clock.advance(545);
      const warning = await raw.next((f) => f.header.method === 'client_update', 'client_update');
      expect(warning.header.client_update_type).toBe('token_about_to_expire');
      emulator.clock.advance(60);
      const close = await raw.next((f) => f.header.method === 'close', 'close');
      expect(close.header.status).toMatchObject({ code: 410, errorCode: 20104 });
      expect((await raw.closedWithin()).code).toBe(1000);
    } finally {
      emulator.clock.reset();
    }
  });

  it('takes a new token by update (the same identity only) and answers ping and telemetry', async () => {
    const raw = await Raw.open();
    await raw.init(emulator.clientToken('alice'));
    raw.send({ method: 'update', id: 'TMupdate1', token: emulator.clientToken('alice', { ttl: 7200 }) });
    expect((await raw.reply('TMupdate1')).header.status.code).toBe(200);
    raw.send({ method: 'update', id: 'TMupdate2', token: emulator.clientToken('mallory') });
    expect((await raw.reply('TMupdate2')).header.status).toMatchObject({ code: 403, errorCode: 20106 });
    raw.send({ method: 'ping', id: 'TMping' });
    expect((await raw.reply('TMping')).header.status.code).toBe(200);
    raw.send({ method: 'telemetry.v1', id: 'TMtelemetry' }, JSON.stringify({ events: [{ name: 'startup' }] }));
    expect((await raw.reply('TMtelemetry')).header.status.code).toBe(200);
    raw.ws.close();
  });
});

describe('twilsock: tunnelled requests', () => {
  it('routes by host: aim answers Client/v2/Configuration, an unknown host gets 404 in http_status', async () => {
    const raw = await Raw.open();
    await raw.init(emulator.clientToken('carol'));
    const request = (id: string, host: string, path: string) =>
      raw.send({ method: 'message', id, active_grant: 'ip_messaging', payload_type: 'application/json; charset=utf-8', http_request: { host, path, method: 'GET', params: {}, headers: {} } });
    request('TMconf', 'aim.us1.twilio.com', '/Client/v2/Configuration');
    const conf = await raw.reply('TMconf');
    expect(conf.header.http_status).toEqual({ code: 200, status: 'OK' });
    const body = conf.body as Record<string, any>;
    expect(body.identity).toBe('carol');
    expect(body.sync_objects.my_conversations).toMatch(/^US[0-9a-f]{32}\.channels$/);
    expect(body.links.my_conversations).toBe('https://aim.us1.twilio.com/Client/v2/Me/Conversations');

    request('TMother', 'content.us1.twilio.com', '/v1/Content');
    const other = await raw.reply('TMother');
    expect(other.header.status.code).toBe(200);
    expect(other.header.http_status.code).toBe(404);
    expect(other.body).toMatchObject({ status: 404, code: 20404 });

    // a message naming media nobody uploaded is refused, and nothing is stored
    raw.send(
      { method: 'message', id: 'TMmedia', active_grant: 'ip_messaging', payload_type: 'application/json; charset=utf-8', http_request: { host: 'aim.us1.twilio.com', path: '/Client/v2/Conversations', method: 'POST', params: {}, headers: {} } },
      JSON.stringify({ friendly_name: 'media test' }),
    );
    const created = (await raw.reply('TMmedia')).body as { sid: string };
    raw.send(
      { method: 'message', id: 'TMjoin', payload_type: 'application/json', http_request: { host: 'aim.us1.twilio.com', path: `/Client/v2/Conversations/${created.sid}/Participants`, method: 'POST', params: {}, headers: {} } },
      JSON.stringify({ identity: 'carol' }),
    );
    expect((await raw.reply('TMjoin')).header.http_status.code).toBe(201);
    raw.send(
      { method: 'message', id: 'TMforged', payload_type: 'application/json', http_request: { host: 'aim.us1.twilio.com', path: `/Client/v2/Conversations/${created.sid}/Messages`, method: 'POST', params: {}, headers: {} } },
      JSON.stringify({ body: 'x', media_sids: [`ME${'0'.repeat(32)}`] }),
    );
    const refused = await raw.reply('TMforged');
    expect(refused.header.http_status.code).toBe(400);
    expect((refused.body as { message: string }).message).toContain('was not uploaded to this service');
    expect(emulator.core.db.get('SELECT count(*) AS n FROM messages WHERE conversation_sid = ?', created.sid)?.n).toBe(0);

    // another user's conversations are not readable
    request('TMforeign', 'cds.us1.twilio.com', `/v3/Maps/US${'0'.repeat(32)}.channels`);
    expect((await raw.reply('TMforeign')).header.http_status.code).toBe(404);
    raw.ws.close();
  });
});

describe('twilsock: public URL', () => {
  it('hands out media links on the emulator\'s publicUrl, as REST links are', async () => {
    const behind = await createEmulator({ publicUrl: 'https://tce.example.test' });
    try {
      const raw = await Raw.open(`${behind.url.replace('http', 'ws')}/v3/wsconnect`);
      expect((await raw.init(behind.clientToken('zoe'))).header.status.code).toBe(200);
      raw.send({ method: 'message', id: 'TMconf', payload_type: 'application/json', http_request: { host: 'aim.us1.twilio.com', path: '/Client/v2/Configuration', method: 'GET', params: {}, headers: {} } });
      const links = ((await raw.reply('TMconf')).body as { links: Record<string, string> }).links;
      expect(links.media_service).toBe(`https://tce.example.test/mcs/v1/Services/${behind.defaultServiceSid}/Media`);
      raw.ws.close();
    } finally {
      await behind.close();
    }
  });
});

describe('twilsock: subscriptions', () => {
  it('replays what followed last_event_id, says interrupted when that reaches past what is kept, then pushes live', async () => {
    const raw = await Raw.open();
    await raw.init(emulator.clientToken('erin'));
    const rest = async (path: string, form: Record<string, string>) => {
      const r = await fetch(`${emulator.url}/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${emulator.accountSid}:${emulator.authToken}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form),
      });
      return (await r.json()) as { sid: string };
    };
    const conversation = await rest('/Conversations', { FriendlyName: 'busy' });
    await rest(`/Conversations/${conversation.sid}/Participants`, { Identity: 'erin' });
    for (let i = 0; i < 210; i++) await rest(`/Conversations/${conversation.sid}/Messages`, { Author: 'bot', Body: `m${i}` });
    const list = `${conversation.sid}.messages`;
    let n = 0;
    const subscribe = async (lastEventId: number) => {
      const id = `TMsub${n++}`;
      raw.send(
        { method: 'message', id, payload_type: 'application/json', http_request: { host: 'cds.us1.twilio.com', path: '/v4/Subscriptions', method: 'POST', params: {}, headers: {} } },
        JSON.stringify({ event_protocol_version: 4, action: 'establish', correlation_id: n, retried_requests: 0, ttl_in_s: -1, requests: [{ object_sid: list, object_type: 'list', last_event_id: lastEventId }] }),
      );
      expect((await raw.reply(id)).header.http_status.code).toBe(200);
      return raw.next((f) => f.header.message_type === 'twilio.sync.event' && (f.body as any).event_type === 'subscription_established' && (f.body as any).correlation_id === n, 'established');
    };
    const replayed = () => raw.frames.filter((f) => f.header.message_type === 'twilio.sync.event' && (f.body as any).event_type === 'list_item_added');

    const first = await subscribe(0);
    expect((first.body as any).events[0]).toMatchObject({ object_sid: list, replay_status: 'interrupted' });
    // the newest 200 of the 210 are kept and replayed, in order
    expect(replayed().map((f) => (f.body as any).event.item_data.text)).toEqual(Array.from({ length: 200 }, (_, i) => `m${i + 10}`));

    // from the event of item 207 on: 208 and 209 again
    const of207 = replayed().find((f) => (f.body as any).event.item_index === 207)?.body as { event: { id: number } };
    raw.frames.splice(0);
    const second = await subscribe(of207.event.id);
    expect((second.body as any).events[0].replay_status).toBe('completed');
    expect(replayed().map((f) => (f.body as any).event.item_index)).toEqual([208, 209]);

    await rest(`/Conversations/${conversation.sid}/Messages`, { Author: 'bot', Body: 'live' });
    const live = await raw.next((f) => f.header.message_type === 'com.twilio.rtd.cds.list', 'live list event');
    expect((live.body as any)).toMatchObject({ event_type: 'list_item_added', event: { list_sid: list, item_index: 210, item_data: { text: 'live', author: 'bot' } } });
    raw.ws.close();
  }, 30_000);
});

describe('twilsock: bounds', () => {
  it('closes with 406 on a frame that is not twilsock, and on a request before init', async () => {
    const garbage = await Raw.open();
    garbage.ws.send(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    const close = await garbage.next((f) => f.header.method === 'close', 'close');
    expect(close.header.status.code).toBe(406);
    expect((await garbage.closedWithin()).code).toBe(1002);

    const early = await Raw.open();
    early.send({ method: 'message', id: 'TMearly', http_request: { host: 'aim.us1.twilio.com', path: '/Client/v2/Configuration', method: 'GET' } });
    expect((await early.next((f) => f.header.method === 'close', 'close')).header.status).toMatchObject({ code: 406, description: 'message before init' });
    await early.closedWithin();
  });

  it('refuses a frame over 256 KiB (1009) and answers plain HTTP on the endpoint without a 500', async () => {
    const raw = await Raw.open();
    await raw.init(emulator.clientToken('alice'));
    raw.send({ method: 'telemetry.v1', id: 'TMbig' }, JSON.stringify({ events: ['x'.repeat(300 * 1024)] }));
    expect((await raw.closedWithin()).code).toBe(1009);
    const plain = await fetch(`${emulator.url}/v3/wsconnect`);
    expect(plain.status).toBeGreaterThanOrEqual(400);
    expect(plain.status).toBeLessThan(500);
  });

  it('closes a connection that sends no init in time, one that stops answering pings, and all of them at close()', async () => {
    const core = new EmulatorCore();
    const account = core.accounts.create();
    const app = buildApp({ core, version: 'test', realtime: { limits: { initDeadlineMs: 200, heartbeatMs: 100, maxConnections: 2 } } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as { port: number };
    const url = `ws://127.0.0.1:${address.port}/v3/wsconnect`;
    try {
      const silent = await Raw.open(url);
      expect((await silent.closedWithin(2000)).code).toBe(1008);

      // a peer that never pongs is cut by the heartbeat (after a valid init: the init deadline is not what ends it)
      const deaf = new WebSocket(url, { autoPong: false });
      const deafClosed = new Promise<number>((resolve) => deaf.on('close', (code) => resolve(code)));
      const initReply = new Promise<Frame>((resolve) => deaf.once('message', (data: Buffer) => resolve(parse(data))));
      await new Promise((resolve) => deaf.once('open', resolve));
      deaf.send(frame({ method: 'init', id: 'TMdeaf', token: new ClientTokens(core).mint(account.sid, 'deaf'), capabilities: [] }));
      expect((await initReply).header.status.code).toBe(200);
      expect(await Promise.race([deafClosed, new Promise((resolve) => setTimeout(() => resolve('still open'), 2000))])).toBe(1006);

      const open = await Raw.open(url);
      // two held (`open` and `second`): the third is turned away
      const second = await Raw.open(url);
      const third = await Raw.open(url);
      expect(await third.closedWithin(2000)).toEqual({ code: 1013, reason: 'too many connections; try again later' });
      second.ws.close();
      await app.close();
      // @fastify/websocket closes its clients first (1005), else the hub does (1001 going away)
      expect([1001, 1005]).toContain((await open.closedWithin(2000)).code);
    } finally {
      await app.close();
      core.close();
    }
  });
});
