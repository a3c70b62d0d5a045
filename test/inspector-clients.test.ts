/**
 * `GET /_emulator/ui/api/clients` over plain HTTP while the real @twilio/conversations SDK is connected: its
 * identity, service, remote address and the Sync objects it subscribed to, then gone once the client shuts down;
 * bounded (200 sessions listed, `truncated` past them), sockets not yet past init counted apart; behind
 * `--control-token` like the rest of the inspector API.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { TestEmulator } from './support/emulator.js';
import type { ClientList } from '../src/emulator/ui/inspector-types.js';
import { sdkTestbed } from './support/conversations-sdk.js';

type Listed = ClientList;

let t: TestEmulator;
const sdk = sdkTestbed((started) => (t = started));

async function clients(): Promise<Listed> {
  const r = await t.http('GET', '/_emulator/ui/api/clients', { auth: null });
  expect(r.status, r.text).toBe(200);
  return r.body as Listed;
}

describe('GET /_emulator/ui/api/clients', () => {
  it('is empty with no client connected', async () => {
    expect(await clients()).toEqual({ clients: [], total: 0, connecting: 0, truncated: false });
  });

  it('lists a connected SDK client with its subscriptions, and drops it after shutdown', async () => {
    const sid = await sdk.conversationWith(['alice', 'bob']);
    const before = Date.now();
    const alice = await sdk.connect('alice');
    await (await alice.getConversationBySid(sid)).getMessages();
    await sdk.subscribed('alice', `${sid}.messages`);

    const listed = await clients();
    expect(listed).toMatchObject({ total: 1, connecting: 0, truncated: false });
    const [client] = listed.clients;
    expect(client).toMatchObject({ identity: 'alice', accountSid: t.emulator.accountSid, serviceSid: t.emulator.defaultServiceSid, requestsInFlight: 0 });
    expect(client.remoteAddress).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    const since = Date.parse(client.connectedSince);
    expect(since).toBeGreaterThanOrEqual(before - 1000);
    expect(since).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(client.tokenExpiresAt)).toBeGreaterThan(Date.now());
    // the same ids the hub holds, each with its kind, counted by kind
    const held = t.emulator.clientConnections()[0].subscriptions;
    expect(client.subscriptions.count).toBe(held.length);
    expect(client.subscriptions.first.map((s) => s.id)).toEqual(held.slice(0, 20));
    expect(client.subscriptions.first).toContainEqual({ id: `${sid}.messages`, kind: 'messages' });
    expect(client.subscriptions.kinds.messages).toBe(1);
    expect(Object.values(client.subscriptions.kinds).reduce((a, b) => a + b, 0)).toBe(held.length);

    await alice.shutdown();
    const deadline = Date.now() + 5000;
    let after = await clients();
    while (after.total > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      after = await clients();
    }
    expect(after).toEqual({ clients: [], total: 0, connecting: 0, truncated: false });
  });

  it('lists two sessions of two identities, oldest first', async () => {
    await sdk.connect('alice');
    await sdk.connect('bob');
    const listed = await clients();
    expect(listed.clients.map((c) => c.identity)).toEqual(['alice', 'bob']);
    expect(listed.total).toBe(2);
  });
});

/** a plain twilsock connection (frames as the SDK writes them), resolved once its init is answered 200 */
async function rawClient(identity: string | undefined): Promise<WebSocket> {
  const ws = new WebSocket(sdk.wsUri());
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  if (identity === undefined) return ws;
  const header = JSON.stringify({ method: 'init', id: `TM${identity}`, token: t.emulator.clientToken(identity), capabilities: [], payload_size: 0 });
  const replied = new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString('utf8'))));
  ws.send(`TWILSOCK V3.0 ${Buffer.byteLength(header)}\r\n${header}\r\n`);
  expect(await replied).toContain('"code":200');
  return ws;
}

describe('bounds', () => {
  it('lists the oldest 200 sessions and says it truncated; a socket before init is counted as connecting', { timeout: 60_000 }, async () => {
    const sockets: WebSocket[] = [];
    try {
      for (let i = 0; i < 201; i++) sockets.push(await rawClient(`user-${String(i).padStart(3, '0')}`));
      sockets.push(await rawClient(undefined));
      const listed = await clients();
      expect(listed).toMatchObject({ total: 201, connecting: 1, truncated: true });
      expect(listed.clients).toHaveLength(200);
      expect(listed.clients[0]).toMatchObject({ identity: 'user-000', subscriptions: { count: 0, kinds: {}, first: [] } });
      expect(listed.clients.map((c) => c.identity)).not.toContain('user-200');
    } finally {
      for (const ws of sockets) ws.terminate();
    }
  });
});

