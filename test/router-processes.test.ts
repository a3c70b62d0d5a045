/**
 * The router as real processes: `kill -9` mid-storm loses no acknowledged event; two replicas on one PostgreSQL +
 * Redis behind a round-robin split apply each event exactly once, in order per conversation, under a 10× duplicate
 * storm with reordering; an ingress-only router under load keeps its memory flat while the database takes the spill.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useEmulator } from './support/emulator.js';
import { storeBackends, type StoreBackend } from './support/router-stores.js';
import { killRouters, postSignedForm, roundRobinProxy, runRouterCommand, spawnRouter, storeEnv, storeFlags } from './support/router-process.js';
import { ALL_EVENTS, eventually, freePort, webhooksOut } from './support/router.js';
import { openStores } from '../src/router/store/open-stores.js';
import type { EventStore } from '../src/router/store/types.js';

const t = useEmulator();
const AUTH_TOKEN = 'router-process-token';
const ACCOUNT = 'AC' + 'a'.repeat(32);
const WEBHOOK = '/twilio/conversations/webhook';


function eventParams(conversation: number, index: number): Record<string, string> {
  const ch = 'CH' + conversation.toString(16).padStart(32, '0');
  return {
    AccountSid: ACCOUNT,
    EventType: 'onMessageAdded',
    ConversationSid: ch,
    MessageSid: 'IM' + (conversation * 100_000 + index).toString(16).padStart(32, '0'),
    Index: String(index),
    Author: 'agent',
    Body: `message ${index}`,
    Source: 'API',
    DateCreated: new Date(Date.UTC(2026, 11, 1, 10, 0, 0, index)).toISOString(),
    RetryCount: '0',
  };
}

/** a crashed router's leases run out in 3 s instead of 30 (the queue is shared: a restart waits for them) */
function shortLeaseConfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tce-router-conf-')), 'router.toml');
  writeFileSync(file, '[router.worker]\nlease_ms = 3000\n\n[twilio_conversations.webhooks]\nmax_processing_ms = 2000\n');
  return file;
}

async function waitDrained(events: EventStore, timeoutMs = 30_000): Promise<void> {
  await eventually(async () => expect((await events.stats()).depth).toBe(0), timeoutMs);
}

describe('tce router: bad input', () => {
  it('a bad flag, a missing credential or an unreachable database is one line naming it, exit 1, no stack', async () => {
    const env = { TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: AUTH_TOKEN };
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['serve', '--port', 'abc'], env, /^tce: --port: expected an integer 0-65535, got "abc"\n$/],
      [['serve', '--bogus'], env, /^tce: unknown flag --bogus/],
      [['serve', '--db', ':memory:'], { TWILIO_ACCOUNT_SID: ACCOUNT }, /^tce: TWILIO_AUTH_TOKEN is required to check webhook signatures/],
      [['serve', '--database-url', 'postgres://router:secret@127.0.0.1:1/none'], env, /^tce: cannot use PostgreSQL at postgres:\/\/router@127\.0\.0\.1:1\/none: connect ECONNREFUSED/],
    ];
    for (const [args, caseEnv, expected] of cases) {
      const run = await runRouterCommand(args, caseEnv);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(expected);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stderr).not.toContain('secret');
    }
  });
});

describe.each(storeBackends())('router processes on $name', (backend) => {
  let prepared: ReturnType<StoreBackend['prepare']> | undefined;
  const prepare = () => (prepared = backend.prepare()).options;
  afterEach(async () => {
    const stores = prepared;
    prepared = undefined;
    await killRouters();
    await stores?.cleanup();
  });

  it('kill -9 in the middle of a storm loses no acknowledged event', async () => {
    const stores = prepare();
    const port = await freePort();
    const env = { TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TCE_TWILIO_URL: t.emulator.url, ...storeEnv(stores) };
    const args = ['--port', String(port), '--config', shortLeaseConfig(), ...storeFlags(stores)];
    const first = await spawnRouter(args, env);
    const url = first.url + WEBHOOK;
    const acknowledged: string[] = [];
    let sent = 0;
    const total = 2_000;
    let killed = false;
    const sender = async () => {
      while (sent < total) {
        const n = sent++;
        const token = `storm-${n}`;
        const status = await postSignedForm(url, eventParams(n % 40, n), AUTH_TOKEN, { 'i-twilio-idempotency-token': token });
        if (status === 200) acknowledged.push(token);
        if (!killed && acknowledged.length >= 500) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, sender));
    expect(killed).toBe(true);
    expect(acknowledged.length).toBeGreaterThanOrEqual(500);

    await spawnRouter(args, env);
    const reopened = await openStores(stores);
    try {
      await waitDrained(reopened.events);
      // the ingress keys an event by its source and Twilio's idempotency token
      const logged = new Set((await reopened.events.readLog(0, 100_000)).map((e) => e.dedupeKey.replace(/^conversations\|idem\|/, '')));
      expect(acknowledged.filter((token) => !logged.has(token))).toEqual([]);
      const applied = await reopened.events.applied();
      expect(applied.filter((a) => a.applyCount !== 1)).toEqual([]);
      expect(applied.length).toBe(logged.size);

      // `tce router replay --check` finds the live state equal to the fold of the log; a tampered doc makes it fail,
      // and `tce router replay` puts the fold back
      const replay = (...flags: string[]) => runRouterCommand(['replay', ...flags, ...storeFlags(stores)], storeEnv(stores));
      const clean = await replay('--check');
      expect(clean.stdout).toMatch(/ 0 differ from the live state/);
      expect(clean.code).toBe(0);
      const docs = await reopened.events.allEntities();
      const victim = docs.find((d) => d.kind === 'message')!;
      await reopened.events.replaceEntities(docs.map((d) => (d === victim ? { ...d, doc: { ...d.doc, body: 'tampered' } } : d)));
      const tampered = await replay('--check');
      expect([tampered.code, tampered.stdout]).toEqual([1, expect.stringContaining(`message:${victim.id}`)]);
      expect((await replay()).code).toBe(0);
      expect((await replay('--check')).code).toBe(0);
    } finally {
      await reopened.close();
    }
  }, 120_000);

  it('SIGTERM: the router says so, closes and exits 0 within 5 s', async () => {
    const stores = prepare();
    const env = { TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TCE_TWILIO_URL: t.emulator.url, ...storeEnv(stores) };
    const router = await spawnRouter(['--port', '0', ...storeFlags(stores)], env);
    expect(await postSignedForm(router.url + WEBHOOK, eventParams(1, 1), AUTH_TOKEN, { 'i-twilio-idempotency-token': 'term-1' })).toBe(200);
    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => router.child.once('exit', (code) => resolve(code)));
    router.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(router.output).toContain('tce router: SIGTERM, closing');
  });

  it('an ingress-only router under load keeps its memory flat; the queue drains once a worker runs', async () => {
    const stores = prepare();
    const port = await freePort();
    const env = { TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TCE_TWILIO_URL: t.emulator.url, ...storeEnv(stores) };
    const ingress = await spawnRouter(['--port', String(port), '--ingress-only', ...storeFlags(stores)], env);
    const url = ingress.url + WEBHOOK;
    const post = (n: number) => postSignedForm(url, eventParams(n % 200, n), AUTH_TOKEN, { 'i-twilio-idempotency-token': `load-${n}` });
    let n = 0;
    const batch = async (count: number) => {
      const statuses = await Promise.all(Array.from({ length: count }, () => post(n++)));
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
    };
    for (let i = 0; i < 5; i++) await batch(200); // warm up: JIT, pools, caches
    const before = await ingress.rss();
    for (let i = 0; i < 30; i++) await batch(200);
    const after = await ingress.rss();
    // 6,000 events held in the database, not in memory
    expect(after - before).toBeLessThan(40 * 1024 * 1024);
    const reopened = await openStores(stores);
    try {
      expect((await reopened.events.stats()).depth).toBe(n);
      await spawnRouter(['--port', String(await freePort()), ...storeFlags(stores)], env);
      await waitDrained(reopened.events, 120_000);
      expect((await reopened.events.applied()).length).toBe(n);
    } finally {
      await reopened.close();
    }
  }, 240_000);

  it.runIf(backend.name !== 'sqlite')('two replicas behind a round-robin split apply each event once, in order, under a 10x duplicate storm with reordering', async () => {
    const stores = prepare();
    const proxyPort = await freePort();
    const publicUrl = `http://127.0.0.1:${proxyPort}`;
    const env = { TWILIO_ACCOUNT_SID: t.emulator.accountSid, TWILIO_AUTH_TOKEN: t.emulator.authToken, TCE_TWILIO_URL: t.emulator.url, ...storeEnv(stores) };
    const a = await spawnRouter(['--port', '0', '--public-url', publicUrl, ...storeFlags(stores)], env);
    const b = await spawnRouter(['--port', '0', '--public-url', publicUrl, ...storeFlags(stores)], env);
    const split = await roundRobinProxy([a.url, b.url], proxyPort);
    try {
      await t.client.conversations.v1.configuration.webhooks().update({ method: 'POST', postWebhookUrl: publicUrl + WEBHOOK, filters: ALL_EVENTS });
      await t.http('PUT', '/_emulator/faults/webhooks', {
        body: JSON.stringify({
          rules: [
            { match: { eventType: 'onMessageAdded' }, probability: 0.5, action: { type: 'reorder', window: 4, ms: 200 } },
            { action: { type: 'duplicate', count: 9 } },
          ],
        }),
        contentType: 'application/json',
        auth: null,
      });
      for (let c = 0; c < 4; c++) {
        const conversation = await t.client.conversations.v1.conversations.create({ uniqueName: `split-${c}` });
        for (let m = 0; m < 8; m++) await conversation.messages().create({ author: 'agent', body: `m${m}`, xTwilioWebhookEnabled: 'true' });
      }
      await webhooksOut(t, 30_000);
      const journal = (await t.http('GET', '/_emulator/webhooks/deliveries?limit=10000', { auth: null })).body.deliveries as Array<{ idempotencyToken: string }>;
      const distinct = new Set(journal.map((d) => d.idempotencyToken));
      const reopened = await openStores(stores);
      try {
        await waitDrained(reopened.events);
        const applied = await reopened.events.applied();
        expect(applied.length).toBe(distinct.size);
        expect(applied.filter((x) => x.applyCount !== 1)).toEqual([]);
        const last = new Map<string, number>();
        for (const x of [...applied].sort((p, q) => p.id - q.id)) {
          expect(x.appliedSeq).toBeGreaterThan(last.get(x.partitionKey) ?? 0);
          last.set(x.partitionKey, x.appliedSeq);
        }
        const log = await reopened.events.readLog(0, 10_000);
        expect(log.length).toBe(distinct.size);
        // both replicas took deliveries
        for (const replica of [a, b]) {
          const metrics = await (await fetch(replica.url + '/metrics')).text();
          expect(Number(/tce_router_webhooks_received_total\{[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0)).toBeGreaterThan(0);
        }
      } finally {
        await reopened.close();
      }
    } finally {
      await split.close();
    }
  }, 120_000);
});
