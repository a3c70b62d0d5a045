/**
 * `tce replay`, run as the binary (`node bin/tce.js replay`, dist/ built by the suite's global setup) against real
 * receivers that check every X-Twilio-Signature with the SDK's `twilio.validateRequest` and record arrival times;
 * and the round trip from the emulator's journal export (`?format=jsonl`) to a second consumer.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type TestEmulator } from './support/emulator.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';
import { TCE_BIN } from './support/spawned.js';

const TOKEN = 'replay-consumer-token';
const dir = mkdtempSync(join(tmpdir(), 'tce-replay-'));
let rx: Receiver;

beforeAll(async () => {
  rx = await startReceiver(() => TOKEN);
});
afterAll(async () => {
  await rx.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/tce.js replay …` as a child: asynchronous, so the receivers in this process keep answering. */
function tceReplay(args: string[]): Promise<Run> {
  const env = { ...process.env };
  delete env.TWILIO_AUTH_TOKEN;
  const child = spawn(process.execPath, [TCE_BIN, 'replay', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

let files = 0;
function writeFile(text: string, ext = 'jsonl'): string {
  const file = join(dir, `f${++files}.${ext}`);
  writeFileSync(file, text);
  return file;
}

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const stamp = (ms: number) => new Date(T0 + ms).toISOString();

/** captured webhooks `at` ms apart: each has an Id and its own idempotency token */
function capture(ats: number[], extra: (i: number) => Record<string, string | string[]> = () => ({})): string {
  return ats
    .map((at, i) =>
      JSON.stringify({
        receivedAt: stamp(at),
        params: { EventType: i % 2 ? 'onMessageAdded' : 'onConversationUpdated', AccountSid: `AC${'a'.repeat(32)}`, ConversationSid: `CH${'c'.repeat(32)}`, Id: String(i), ...extra(i) },
        headers: { 'I-Twilio-Idempotency-Token': `token-${i}`, 'X-Twilio-Signature': 'stale-signature-from-the-capture' },
      }),
    )
    .join('\n');
}

const base = (file: string, url: string) => ['--from', file, '--url', url, '--auth-token', TOKEN];

describe('tce replay', () => {
  it('sends every line in order, signed for --url (query included), idempotency token kept, gaps divided by --speed', async () => {
    rx.clear();
    const ats = [0, 1500, 3000, 6000, 6000];
    const file = writeFile(capture(ats, (i): Record<string, string[]> => (i === 2 ? { MediaSid: ['ME2', 'ME1'] } : {})) + '\n\n');
    const url = rx.url('/hooks/twilio?tenant=acme&v=2');
    const run = await tceReplay([...base(file, url), '--speed', '10', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ lines: 5, sent: 5, answered: { '2xx': 5, '4xx': 0, '5xx': 0, network: 0 }, errorRate: 0, speed: 10, passed: true });
    expect(rx.requests.map((r) => r.params.Id)).toEqual(['0', '1', '2', '3', '4']);
    expect(rx.invalid()).toEqual([]);
    expect(rx.requests.every((r) => r.fullUrl === url && r.signatureValid)).toBe(true);
    expect(rx.requests.map((r) => r.idempotencyToken)).toEqual(['token-0', 'token-1', 'token-2', 'token-3', 'token-4']);
    expect(rx.requests[2].params.MediaSid).toEqual(['ME2', 'ME1']);
    // due at the captured offsets / 10: 0, 150, 300, 600, 600 ms. The first request also opens the connection (and
    // warms the child up), so arrivals are measured from the second; timers and a busy machine only make them later.
    const from1 = rx.requests.map((r) => r.at - rx.requests[1].at);
    const expected = [0, 0, 150, 450, 450];
    for (const i of [2, 3, 4]) {
      expect(from1[i], `arrival ${i}`).toBeGreaterThanOrEqual(expected[i] - 20);
      expect(from1[i], `arrival ${i}`).toBeLessThanOrEqual(expected[i] + 120);
    }
    expect(rx.requests[1].at - rx.requests[0].at).toBeLessThanOrEqual(150 + 120);
    // each deadline is absolute: the whole run is the captured span / 10, not that plus per-send time
    expect(rx.requests[4].at - rx.requests[0].at).toBeLessThan(600 + 150);
  });

  it('1,000 lines at --speed 100: in order, every one validly signed, each arrival within 10 % of the run of its due time', async () => {
    rx.clear();
    // 500 s captured, gaps of 0 to 10 s in a fixed pattern: 5 s at --speed 100
    const ats: number[] = [];
    for (let i = 0, at = 0; i < 1_000; i++, at += ((i * 37) % 11) * 100) ats.push(at);
    const file = writeFile(capture(ats));
    const run = await tceReplay([...base(file, rx.url('/hooks/bulk')), '--speed', '100', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(rx.requests.map((r) => Number(r.params.Id))).toEqual(ats.map((_, i) => i));
    expect(rx.invalid()).toEqual([]);
    // measured from the second arrival (the first also opens the connection)
    const span = (ats.at(-1)! - ats[1]!) / 100;
    const tolerance = span * 0.1;
    const late: string[] = [];
    for (let i = 1; i < ats.length; i++) {
      const actual = rx.requests[i]!.at - rx.requests[1]!.at;
      const due = (ats[i]! - ats[1]!) / 100;
      if (Math.abs(actual - due) > tolerance) late.push(`#${i}: ${actual.toFixed(0)} ms, due ${due.toFixed(0)} ms`);
    }
    expect(late).toEqual([]);
  }, 60_000);

  it('--speed max sends without waiting; the text summary counts and latency', async () => {
    rx.clear();
    const file = writeFile(capture([0, 60_000, 120_000]));
    const run = await tceReplay([...base(file, rx.url('/fast')), '--speed', 'max']);
    expect(run.code).toBe(0);
    expect(rx.requests.length).toBe(3);
    expect(rx.requests[2].at - rx.requests[0].at).toBeLessThan(2000);
    expect(run.stdout).toMatch(/sent\s+3 of 3 lines/);
    expect(run.stdout).toMatch(/2xx 3, 3xx 0, 4xx 0, 5xx 0, network 0/);
    expect(run.stdout).toMatch(/latency\s+p50 [\d.]+ms, p99 [\d.]+ms/);
  });

  it('fault rules from a file with a fixed seed: duplicates and delays, the same sequence on two runs', async () => {
    const rules = writeFile(
      JSON.stringify({
        rules: [
          { match: { eventType: 'onMessageAdded' }, probability: 0.5, action: { type: 'duplicate', count: 2 } },
          { match: { eventType: 'onConversationUpdated' }, probability: 0.5, action: { type: 'delay', uniform: [20, 200] } },
          { match: { eventType: 'onConversationUpdated' }, probability: 0.3, action: { type: 'drop' } },
        ],
      }),
      'json',
    );
    const file = writeFile(capture(Array.from({ length: 20 }, (_, i) => i * 5)));
    const sequence = async (seed: string) => {
      rx.clear();
      const run = await tceReplay([...base(file, rx.url('/faulty')), '--faults', rules, '--seed', seed, '--speed', '1', '--json']);
      expect(run.code).toBe(0);
      expect(rx.invalid()).toEqual([]);
      return { ids: rx.requests.map((r) => `${r.params.Id}:${r.idempotencyToken}`), faults: JSON.parse(run.stdout).faults, sent: JSON.parse(run.stdout).sent };
    };
    const first = await sequence('fixed-7');
    const second = await sequence('fixed-7');
    expect(second).toEqual(first);
    expect(first.sent).toBe(first.ids.length);
    expect(first.faults.duplicated).toBeGreaterThan(0);
    expect(first.faults.delayed).toBeGreaterThan(0);
    // a duplicated line arrives three times in a row, same token; a delayed one arrives after a later line
    const counts = new Map<string, number>();
    for (const id of first.ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.values()].filter((n) => n === 3).length * 2).toBe(first.faults.duplicated);
    const order = first.ids.filter((id, i) => first.ids.indexOf(id) === i).map((id) => Number(id.split(':')[0]));
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
    expect(order.length).toBe(20 - first.faults.dropped);
  }, 60_000);

  it('a reorder rule shuffles a held window; another seed, another order', async () => {
    const rules = writeFile(JSON.stringify([{ action: { type: 'reorder', window: 6, ms: 1000 } }]), 'json');
    const file = writeFile(capture([0, 1, 2, 3, 4, 5]));
    const order = async (seed: string) => {
      rx.clear();
      const run = await tceReplay([...base(file, rx.url('/reorder')), '--faults', rules, '--seed', seed]);
      expect(run.code).toBe(0);
      return rx.requests.map((r) => r.params.Id);
    };
    const a = await order('one');
    expect([...a].sort()).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(await order('one')).toEqual(a);
    expect(await order('two')).not.toEqual(a);
  }, 60_000);

  it('thresholds: exit 1 naming --max-error-rate or --max-p99; met thresholds exit 0', async () => {
    const file = writeFile(capture([0, 1, 2, 3]));
    rx.clear();
    rx.respond = (r) => ({ status: r.params.Id === '1' ? 500 : r.params.Id === '2' ? 404 : 200 });
    const errors = await tceReplay([...base(file, rx.url('/errors')), '--speed', 'max', '--max-error-rate', '0.25', '--json']);
    expect(errors.code).toBe(1);
    expect(errors.stderr).toMatch(/threshold failed: error rate 0\.5 is above --max-error-rate 0\.25/);
    expect(JSON.parse(errors.stdout)).toMatchObject({ answered: { '2xx': 2, '4xx': 1, '5xx': 1 }, errorRate: 0.5, passed: false });

    rx.clear();
    rx.respond = () => ({ status: 200, delayMs: 120 });
    const slow = await tceReplay([...base(file, rx.url('/slow')), '--speed', 'max', '--max-p99', '50', '--max-error-rate', '0']);
    expect(slow.code).toBe(1);
    expect(slow.stderr).toMatch(/threshold failed: p99 [\d.]+ms is above --max-p99 50ms/);
    expect(slow.stderr).not.toMatch(/error rate/);
    expect(slow.stdout).toMatch(/FAIL\s+--max-p99 50/);

    rx.clear();
    const fine = await tceReplay([...base(file, rx.url('/fine')), '--speed', 'max', '--max-p99', '5s', '--max-error-rate', '0']);
    expect(fine.stderr).toBe('');
    expect(fine.code).toBe(0);
  }, 60_000);

  it('a network failure counts as an error, not a crash', async () => {
    const file = writeFile(capture([0, 1]));
    const run = await tceReplay([...base(file, 'http://127.0.0.1:1/nothing'), '--speed', 'max', '--json', '--timeout', '2s']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ sent: 2, answered: { network: 2 }, errorRate: 1 });
  });

  it('a malformed line: FILE:LINE and what is wrong, exit 2, nothing sent', async () => {
    rx.clear();
    const good = capture([0, 10]);
    const cases: [string, RegExp][] = [
      [`${good}\n{"params": {"Id": "2"}`, /:3: not JSON/],
      [`${good}\n{"params": {"Id": 2}}`, /:3: params\.Id must be a string or an array of strings/],
      [`${good}\n\n{"params": {}, "receivedAt": "yesterday"}`, /:4: "receivedAt" must be an ISO-8601 date-time, got "yesterday"/],
      [`${good}\n{"receivedAt": "2026-03-01T12:00:00Z"}`, /:3: "params" is missing/],
      [`${good}\n{"params": {}, "header": {}}`, /:3: unknown field "header"/],
      [`${good}\n[1, 2]`, /:3: must be a JSON object/],
    ];
    for (const [text, message] of cases) {
      const file = writeFile(text);
      const run = await tceReplay([...base(file, rx.url('/never')), '--speed', 'max']);
      expect(run.code, text).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`^tce replay: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${message.source}`));
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stdout).toBe('');
    }
    expect(rx.requests).toEqual([]);
  }, 120_000);

  it('bad flags and a bad rules file: one line naming them, exit 2, nothing sent', async () => {
    rx.clear();
    const file = writeFile(capture([0]));
    const url = rx.url('/never');
    const cases: [string[], RegExp][] = [
      [['--url', url, '--auth-token', TOKEN], /needs --from FILE/],
      [['--from', file, '--auth-token', TOKEN], /needs --url/],
      [['--from', file, '--url', url], /needs --auth-token/],
      [[...base(file, url), '--speed=-1'], /--speed must be a positive number, 0 or max, got -1/],
      [[...base(file, url), '--speed', 'fast'], /--speed must be a positive number, 0 or max, got fast/],
      [[...base(file, url), '--max-error-rate', '2'], /--max-error-rate must be a rate from 0 to 1/],
      [[...base(file, url), '--concurrency', '0'], /--concurrency must be an integer from 1 to 1000/],
      [[...base(file, url), '--bogus'], /Unknown option '--bogus'/],
      [[...base(join(dir, 'missing.jsonl'), url)], /missing\.jsonl: cannot read it \(ENOENT\)/],
      [[...base(file, url), '--faults', writeFile('{"rules": [{"action": {"type": "fail", "status": 503}}]}', 'json')], /rules\[0\]\.action fail does not apply to a replay/],
      [[...base(file, url), '--faults', writeFile('{"rules": [{"action": {"type": "explode"}}]}', 'json')], /\.json: unknown action type explode/],
      [[...base(file, url), '--faults', writeFile('{"rules": [{"match": {"body": "x"}, "action": {"type": "drop"}}]}', 'json')], /rules\[0\]\.match\.body is not a webhook match key/],
    ];
    for (const [args, message] of cases) {
      const run = await tceReplay(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toMatch(/^tce replay: [^\n]+\n$/);
    }
    expect(rx.requests).toEqual([]);
  }, 120_000);
});

describe('round trip: the emulator journal exported as JSON Lines, replayed to another consumer', () => {
  let t: TestEmulator;
  let other: Receiver;
  beforeAll(async () => {
    t = await startEmulator();
    other = await startReceiver(() => TOKEN);
  });
  afterAll(async () => {
    await other?.close();
    await t?.emulator.close();
  });

  it('GET ?format=jsonl is the replay format; replayed, the second consumer gets the same params, validly signed', async () => {
    const first = await startReceiver(() => t.emulator.authToken);
    try {
      const v1 = t.client.conversations.v1;
      await v1.services(t.emulator.defaultServiceSid).configuration.webhooks().update({
        postWebhookUrl: first.url('/captured'),
        filters: ['onConversationAdded', 'onParticipantAdded', 'onMessageAdded'],
        method: 'POST',
      });
      const c = await v1.conversations.create({ friendlyName: 'incident', xTwilioWebhookEnabled: 'true' });
      await v1.conversations(c.sid).participants.create({ identity: 'alice', xTwilioWebhookEnabled: 'true' });
      let last = '';
      for (const body of ['hello', 'are you there?', 'STOP']) last = (await v1.conversations(c.sid).messages.create({ body, author: 'alice', xTwilioWebhookEnabled: 'true' })).sid;
      await t.emulator.control.waitForDelivery((d) => d.params.MessageSid === last && d.state === 'delivered', 8000);
      expect(first.requests.length).toBe(5);
      expect(first.invalid()).toEqual([]);

      // the JSON default is unchanged; jsonl is one replayable line a delivery
      const json = await t.http('GET', '/_emulator/webhooks/deliveries', { auth: null });
      expect(json.body.deliveries).toHaveLength(5);
      expect((await t.http('GET', '/_emulator/webhooks/deliveries?format=xml', { auth: null })).status).toBe(400);
      const exported = await t.http('GET', '/_emulator/webhooks/deliveries?format=jsonl', { auth: null });
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-type')).toMatch(/^application\/jsonl/);
      const lines = exported.text.trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(lines).toHaveLength(5);
      for (const line of lines) {
        expect(Object.keys(line).sort()).toEqual(['headers', 'params', 'receivedAt']);
        expect(Object.keys(line.headers).map((h) => h.toLowerCase())).not.toContain('x-twilio-signature');
      }
      // receivedAt: when the first consumer got each one (its first attempt)
      lines.forEach((line, i) => expect(Math.abs(Date.parse(line.receivedAt) - first.requests[i].at), `line ${i + 1}`).toBeLessThan(1000));
      const file = writeFile(exported.text);

      const url = other.url('/replayed?from=incident');
      const run = await tceReplay(['--from', file, '--url', url, '--auth-token', TOKEN, '--speed', 'max', '--json']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ lines: 5, sent: 5, answered: { '2xx': 5 } });
      expect(other.invalid()).toEqual([]);
      expect(other.requests.map((r) => r.params)).toEqual(first.requests.map((r) => r.params));
      expect(other.requests.map((r) => r.params.EventType)).toEqual(['onConversationAdded', 'onParticipantAdded', 'onMessageAdded', 'onMessageAdded', 'onMessageAdded']);
      expect(other.requests.map((r) => r.idempotencyToken)).toEqual(first.requests.map((r) => r.idempotencyToken));
    } finally {
      await first.close();
    }
  });
});
