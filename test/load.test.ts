/**
 * `tce load` against real consumers on 127.0.0.1: every request checked with the official SDK's validateRequest,
 * duplicates counted by idempotency token, reorders by a conversation's Index going backwards. The CLI cases spawn
 * bin/tce.js, which runs dist/ (the suite's global setup builds it from src/).
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { runLoad, type LoadOptions } from '../src/load/runner.js';
import { EventGenerator } from '../src/load/generator.js';
import { createRandom } from '../src/emulator/random.js';

const BIN = new URL('../bin/tce.js', import.meta.url).pathname;
const AUTH_TOKEN = 'load-test-auth-token';
const ACCOUNT = 'AC' + 'a'.repeat(32);
const servers: Server[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

interface Consumer {
  url: string;
  checkUrl: string;
  requests: number;
  invalid: number;
  duplicates: number;
  reorders: number;
  tokens: Set<string>;
  /** how many times each idempotency token arrived */
  sends: Map<string, number>;
  eventTypes: Record<string, number>;
  samples: Record<string, Record<string, string>>;
  /** added to the unique count the check URL reports */
  appliedOffset: number;
}

async function consumer(answer: { delayMs?: number; status?: number } = {}): Promise<Consumer> {
  const maxIndex = new Map<string, number>();
  const state: Consumer = { url: '', checkUrl: '', requests: 0, invalid: 0, duplicates: 0, reorders: 0, tokens: new Set(), sends: new Map(), eventTypes: {}, samples: {}, appliedOffset: 0 };
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ applied: state.tokens.size + state.appliedOffset }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests++;
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
      const signature = String(req.headers['x-twilio-signature'] ?? '');
      if (!twilio.validateRequest(AUTH_TOKEN, signature, state.url, params)) state.invalid++;
      const token = String(req.headers['i-twilio-idempotency-token']);
      state.sends.set(token, (state.sends.get(token) ?? 0) + 1);
      if (state.tokens.has(token)) state.duplicates++;
      else {
        state.tokens.add(token);
        state.eventTypes[params.EventType] = (state.eventTypes[params.EventType] ?? 0) + 1;
        state.samples[params.EventType] ??= params;
        if (params.EventType === 'onMessageAdded') {
          const index = Number(params.Index);
          const max = maxIndex.get(params.ConversationSid) ?? -1;
          if (index < max) state.reorders++;
          else maxIndex.set(params.ConversationSid, index);
        }
      }
      const end = () => res.writeHead(answer.status ?? 200).end();
      if (answer.delayMs) setTimeout(end, answer.delayMs);
      else end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}/twilio/conversations/webhook`;
  state.checkUrl = `http://127.0.0.1:${port}/applied-count`;
  return state;
}

const base = (c: Consumer, extra: Partial<LoadOptions> = {}): LoadOptions => ({
  url: c.url,
  authToken: AUTH_TOKEN,
  accountSid: ACCOUNT,
  rate: 500,
  durationMs: 2000,
  conversations: 20,
  seed: 'load-test',
  ...extra,
});

const SID = (prefix: string) => new RegExp(`^${prefix}[0-9a-f]{32}$`);
const MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('tce load', () => {
  it('sends correctly signed, realistic events at the rate asked, with the duplicates and reorders it reports', async () => {
    const c = await consumer();
    // One connection: requests arrive in the order sent, so every reorder the consumer sees is one tce made.
    const stats = await runLoad(base(c, { connections: 1, duplicates: 0.1, reorder: 0.05, checkUrl: c.checkUrl }));
    expect(c.invalid).toBe(0);
    expect(c.requests).toBe(stats.sent);
    expect(stats.status2xx).toBe(stats.sent);
    expect(stats.errors + stats.dropped).toBe(0);
    expect(stats.duplicatesSent).toBeGreaterThan(50);
    expect(stats.reorderedSent).toBeGreaterThan(5);
    expect(c.duplicates).toBe(stats.duplicatesSent);
    expect(c.reorders).toBe(stats.reorderedSent);
    expect(c.tokens.size).toBe(stats.unique);
    expect(stats.achievedRate).toBeGreaterThan(450);
    expect(stats.achievedRate).toBeLessThan(550);
    expect(stats.sent).toBeGreaterThan(900);
    expect(stats.check).toEqual({ url: c.checkUrl, applied: stats.unique, lost: 0, appliedTwice: 0 });
    expect(stats.passed).toBe(true);
    expect(Object.keys(c.eventTypes).sort()).toEqual(['onDeliveryUpdated', 'onMessageAdded', 'onParticipantAdded']);
    expect(c.eventTypes.onParticipantAdded).toBe(40); // two per conversation, each once

    const message = c.samples.onMessageAdded;
    expect(Object.keys(message).sort()).toEqual(
      ['AccountSid', 'Attributes', 'Author', 'Body', 'ConversationSid', 'DateCreated', 'EventType', 'Index', 'MessageSid', 'MessagingServiceSid', 'ParticipantSid', 'RetryCount', 'Source'],
    );
    expect(message).toMatchObject({ AccountSid: ACCOUNT, EventType: 'onMessageAdded', RetryCount: '0', Attributes: '{}' });
    expect(message.ConversationSid).toMatch(SID('CH'));
    expect(message.MessageSid).toMatch(SID('IM'));
    expect(message.ParticipantSid).toMatch(SID('MB'));
    expect(message.MessagingServiceSid).toMatch(SID('MG'));
    expect(message.DateCreated).toMatch(MILLIS);
    expect(message.Index).toMatch(/^\d+$/);
    const participant = c.samples.onParticipantAdded;
    expect(participant.ParticipantSid).toMatch(SID('MB'));
    expect(['SMS', 'CHAT']).toContain(participant['MessagingBinding.Type']);
    const receipt = c.samples.onDeliveryUpdated;
    expect(receipt.DeliveryReceiptSid).toMatch(SID('DY'));
    expect(receipt.ChannelMessageSid).toMatch(SID('SM'));
    expect(receipt.ChatServiceSid).toMatch(SID('IS'));
    expect(['sent', 'delivered', 'read', 'undelivered']).toContain(receipt.Status);
  });

  it('agrees with many connections too (duplicates counted by token)', async () => {
    const c = await consumer();
    const stats = await runLoad(base(c, { rate: 1000, durationMs: 1000, conversations: 200, duplicates: 0.2, connections: 64 }));
    expect(c.invalid).toBe(0);
    expect(stats.status2xx).toBe(stats.sent);
    expect(c.duplicates).toBe(stats.duplicatesSent);
    expect(c.tokens.size).toBe(stats.unique);
  });

  it('is deterministic with a seed', () => {
    const make = () => new EventGenerator({ url: 'http://x/', authToken: 't', accountSid: ACCOUNT, conversations: 7, duplicates: 0.2, reorder: 0.2, rate: 1000, random: createRandom('same') });
    const a = make();
    const b = make();
    const seq = (g: EventGenerator) => Array.from({ length: 2000 }, (_, i) => g.next(i)).map((r) => `${r.kind}:${r.token}:${r.params.Index ?? ''}`);
    const first = seq(a);
    expect(seq(b)).toEqual(first);
    expect(first.some((s) => s.startsWith('duplicate'))).toBe(true);
    expect(first.some((s) => s.startsWith('reordered'))).toBe(true);
  });

  it('sends a duplicate once: no idempotency token goes out more than twice, even at duplicates 0.9', async () => {
    const c = await consumer();
    const stats = await runLoad(base(c, { rate: 400, durationMs: 1000, duplicates: 0.9, connections: 4 }));
    expect(stats.duplicatesSent).toBeGreaterThan(100);
    expect(c.duplicates).toBe(stats.duplicatesSent);
    expect(Math.max(...c.sends.values())).toBe(2);
  });

  it('measures latency the consumer imposes (30 ms answers: p50 within 30..45 ms)', async () => {
    const c = await consumer({ delayMs: 30 });
    const stats = await runLoad(base(c, { rate: 200, durationMs: 2000, conversations: 50 }));
    expect(stats.status2xx).toBe(stats.sent);
    expect(stats.latencyMs.p50).toBeGreaterThanOrEqual(30);
    expect(stats.latencyMs.p50).toBeLessThanOrEqual(45);
    expect(stats.latencyMs.max).toBeGreaterThanOrEqual(stats.latencyMs.p99);
  });

  it('counts timeouts and fails --max-p99', async () => {
    const c = await consumer({ delayMs: 400 });
    const stats = await runLoad(base(c, { rate: 100, durationMs: 500, timeoutMs: 150, maxP99Ms: 50 }));
    expect(stats.timeouts).toBe(stats.sent);
    expect(stats.status2xx).toBe(0);
    expect(stats.errorRate).toBe(1);
    expect(stats.thresholds.find((t) => t.name === 'max-p99')?.passed).toBe(false);
    expect(stats.passed).toBe(false);
  });

  it('--check-url reports lost and applied-twice events', async () => {
    const c = await consumer();
    c.appliedOffset = -3;
    const short = await runLoad(base(c, { rate: 200, durationMs: 500, checkUrl: c.checkUrl, checkWaitMs: 300 }));
    expect(short.check).toMatchObject({ applied: short.unique - 3, lost: 3, appliedTwice: 0 });
    expect(short.passed).toBe(false);
    const d = await consumer();
    d.appliedOffset = 2;
    const twice = await runLoad(base(d, { rate: 200, durationMs: 500, duplicates: 0.3, checkUrl: d.checkUrl }));
    expect(twice.check).toMatchObject({ applied: twice.unique + 2, lost: 0, appliedTwice: 2 });
    const none = await runLoad(base(d, { rate: 100, durationMs: 200, checkUrl: 'http://127.0.0.1:1/applied-count' }));
    expect(none.check?.applied).toBeUndefined();
    expect(none.check?.error).toBeTruthy();
    expect(none.passed).toBe(false);
  });
});

function tce(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, TWILIO_AUTH_TOKEN: '', TWILIO_ACCOUNT_SID: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('tce load (CLI)', () => {
  it('--json prints the stats; a healthy consumer passes the thresholds', async () => {
    const c = await consumer();
    const out = await tce(['load', '--url', c.url, '--rate', '300', '--duration', '1s', '--auth-token', AUTH_TOKEN, '--duplicates', '0.1', '--reorder', '0.05', '--seed', 'cli', '--max-error-rate', '0.01', '--max-p99', '2000ms', '--check-url', c.checkUrl, '--json']);
    expect(out.code, out.stderr).toBe(0);
    const stats = JSON.parse(out.stdout);
    expect(stats.sent).toBe(c.requests);
    expect(stats.status2xx).toBe(stats.sent);
    expect(stats.duplicatesSent).toBe(c.duplicates);
    expect(Math.max(...c.sends.values()), 'sends of one idempotency token').toBeLessThanOrEqual(2);
    expect(stats.check).toMatchObject({ lost: 0, appliedTwice: 0 });
    expect(stats.accountSid).toMatch(SID('AC'));
    expect(c.invalid).toBe(0);
  });

  it('a consumer answering 500 is counted as 5xx and --max-error-rate 0.01 exits non-zero', async () => {
    const c = await consumer({ status: 500 });
    const out = await tce(['load', '--url', c.url, '--rate', '200', '--duration', '500ms', '--auth-token', AUTH_TOKEN, '--max-error-rate', '0.01']);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^5xx\s+\d+/m);
    expect(out.stdout).toMatch(/threshold max-error-rate\s+FAIL/);
    expect(out.stderr).toContain('max-error-rate');
    const sent = Number(/^sent\s+([\d,]+)/m.exec(out.stdout)?.[1].replace(/,/g, ''));
    expect(Number(/^5xx\s+([\d,]+)/m.exec(out.stdout)?.[1].replace(/,/g, ''))).toBe(sent);
    expect(sent).toBe(c.requests);
  });

  it('rejects bad flags', async () => {
    const out = await tce(['load', '--url', 'http://127.0.0.1:1/x', '--auth-token', 't', '--duration', 'soon']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('--duration must be a duration');
  });
});
