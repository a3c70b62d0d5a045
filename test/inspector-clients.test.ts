/**
 * `GET /_emulator/ui/api/clients` over plain HTTP while the real @twilio/conversations SDK is connected: its
 * identity, service, remote address and the Sync objects it subscribed to, then gone once the client shuts down;
 * behind `--control-token` like the rest of the inspector API.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type TestEmulator } from './support/emulator.js';
import { sdkHarness } from './support/conversations-sdk.js';

interface Listed {
  clients: {
    identity: string;
    accountSid: string;
    serviceSid: string;
    connectedSince: string;
    tokenExpiresAt: string;
    remoteAddress: string | null;
    requestsInFlight: number;
    subscriptions: { count: number; kinds: Record<string, number>; first: { id: string; kind: string }[] };
  }[];
  total: number;
  connecting: number;
  truncated: boolean;
}

let t: TestEmulator;
const sdk = sdkHarness(() => t);

beforeAll(async () => {
  t = await startEmulator();
});
afterEach(async () => {
  await sdk.shutdown();
  t.emulator.reset();
});
afterAll(() => t.emulator.close());

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

describe('with --control-token', () => {
  let secured: TestEmulator;
  beforeAll(async () => {
    secured = await startEmulator({ controlToken: 'sesame' });
  });
  afterAll(async () => {
    await secured.emulator.close();
  });

  it('refuses the list without the bearer token', async () => {
    const refused = await secured.http('GET', '/_emulator/ui/api/clients', { auth: null });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    const ok = await secured.http('GET', '/_emulator/ui/api/clients', { auth: null, headers: { authorization: 'Bearer sesame' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ clients: [], total: 0, connecting: 0, truncated: false });
  });
});
