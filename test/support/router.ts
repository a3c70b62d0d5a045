/**
 * The reference router in tests: a real router (createRouter, port 0) pointed at a real emulator, on the store
 * backend a suite runs on (SQLite, or PostgreSQL + Redis with a schema and key prefix of its own), with the
 * emulator's account webhooks aimed at it.
 */
import { expect } from 'vitest';
import { createRouter, type RouterHandle, type RouterOptions } from '../../src/router/create-router.js';
import type { TestEmulator } from './emulator.js';
import type { OpenStoresOptions } from '../../src/router/store/open-stores.js';

export const ROUTER_API_TOKEN = 'test-api-token';

export const ALL_EVENTS = [
  'onConversationAdded',
  'onConversationUpdated',
  'onConversationRemoved',
  'onConversationStateUpdated',
  'onParticipantAdded',
  'onParticipantUpdated',
  'onParticipantRemoved',
  'onMessageAdded',
  'onMessageUpdated',
  'onMessageRemoved',
  'onDeliveryUpdated',
];

export async function startRouterFor(t: TestEmulator, stores: OpenStoresOptions, options: RouterOptions = {}): Promise<RouterHandle> {
  return createRouter({
    port: 0,
    host: '127.0.0.1',
    twilioUrl: t.emulator.url,
    accountSid: t.emulator.accountSid,
    authToken: t.emulator.authToken,
    apiToken: ROUTER_API_TOKEN,
    logLevel: 'silent',
    ...stores,
    ...options,
    worker: { concurrency: 8, leaseMs: 10_000, maxAttempts: 5, ...options.worker },
  });
}

/** the emulator's account-level webhooks → the router */
export async function aimWebhooksAt(t: TestEmulator, router: RouterHandle, filters: string[] = ALL_EVENTS): Promise<void> {
  await t.client.conversations.v1.configuration.webhooks().update({
    method: 'POST',
    postWebhookUrl: router.url + router.config.paths.webhook,
    filters,
  });
}

export async function routerApi(router: RouterHandle, method: string, path: string, body?: unknown) {
  const response = await fetch(router.url + path, {
    method,
    headers: { authorization: `Bearer ${ROUTER_API_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : undefined };
}

/** poll `check` until it stops throwing (an `expect` inside), at most `timeoutMs` */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/**
 * Every webhook the emulator owes is out: none pending, and none held back by a reorder fault ('held' until its
 * window fills or times out). Checking only 'pending' let a test read the journal while a held delivery was still owed.
 */
export async function webhooksOut(t: TestEmulator, timeoutMs?: number): Promise<void> {
  await eventually(async () => {
    for (const status of ['pending', 'held']) {
      const { body } = await t.http('GET', `/_emulator/webhooks/deliveries?status=${status}&limit=1`, { auth: null });
      expect(body.deliveries, `${status} deliveries`).toEqual([]);
    }
  }, timeoutMs);
}

/** every webhook the emulator owes is out, and the router applied all it accepted */
export async function settle(t: TestEmulator, router: RouterHandle): Promise<void> {
  await webhooksOut(t);
  await router.drain();
}

/** the router applied each event exactly once, and in log order within each partition */
export async function expectExactlyOnceInOrder(router: RouterHandle): Promise<void> {
  const applied = await router.events.applied();
  expect(applied.filter((a) => a.applyCount !== 1)).toEqual([]);
  const last = new Map<string, { id: number; seq: number }>();
  for (const a of [...applied].sort((x, y) => x.id - y.id)) {
    const previous = last.get(a.partitionKey);
    if (previous) expect(a.appliedSeq, `partition ${a.partitionKey}: event ${a.id} applied before ${previous.id}`).toBeGreaterThan(previous.seq);
    last.set(a.partitionKey, { id: a.id, seq: a.appliedSeq });
  }
}

export { freePort } from './free-port.js';
