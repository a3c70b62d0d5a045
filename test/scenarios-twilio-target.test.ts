/**
 * The `twilio` target's code, run in CI: pointed with `--twilio-url` at an in-process emulator through a counting
 * proxy (so every request the target and the reference router make is seen: none may be `/_emulator/*`). The
 * account's two numbers are bought first through IncomingPhoneNumbers, as a real account has them; the
 * two-number STOP scenario passes, the rest are skipped with their reason. `tce scenario run --target twilio
 * --record DIR` through the binary writes a sanitized recording.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorHttpClient } from '../src/client.js';
import { readRecording } from '../src/contracts/recording.js';
import { createEmulator, type EmulatorHandle } from '../src/index.js';
import { builtInScenarios, createTwilioTarget, formatSummary, runScenarios, selectScenarios, startReferenceRouter, twilioTargetOptionsFromEnv, type Target } from '../src/scenarios/index.js';

const run = promisify(execFile);
const tce = (args: string[], env: NodeJS.ProcessEnv) => run(process.execPath, ['bin/tce.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env } }).then(
  (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
  (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
);

const A = '+15017125551';
const B = '+15017125552';

/** forwards everything to the emulator and remembers each request's method and path */
async function countingProxy(upstream: string): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      seen.push(`${request.method} ${request.url}`);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(request.headers)) if (v !== undefined && k !== 'host' && k !== 'connection' && k !== 'content-length') headers[k] = String(v);
      const body = chunks.length ? new Uint8Array(Buffer.concat(chunks)) : undefined;
      fetch(upstream + (request.url ?? '/'), { method: request.method, headers, body })
        .then(async (answer) => {
          const out: Record<string, string> = {};
          answer.headers.forEach((v, k) => {
            if (k !== 'content-encoding' && k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v;
          });
          response.writeHead(answer.status, out).end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => response.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let emulator: EmulatorHandle;
let proxy: Awaited<ReturnType<typeof countingProxy>>;
let env: Record<string, string>;

beforeAll(async () => {
  emulator = await createEmulator({ db: ':memory:', port: 0, host: '127.0.0.1', seed: 'twilio-target', logger: false });
  proxy = await countingProxy(emulator.url);
  // the test (not the target) may use the control plane: an API key, as a real account has one
  const key = (await (await fetch(`${emulator.url}/_emulator/accounts/${emulator.accountSid}/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { sid: string; secret: string };
  // the account's two numbers, bought through IncomingPhoneNumbers
  const client = twilio(emulator.accountSid, emulator.authToken, { httpClient: emulatorHttpClient(emulator.url) });
  for (const phoneNumber of [A, B]) await client.incomingPhoneNumbers.create({ phoneNumber });
  env = {
    TWILIO_ACCOUNT_SID: emulator.accountSid,
    TWILIO_API_KEY_SID: key.sid,
    TWILIO_API_KEY_SECRET: key.secret,
    TWILIO_AUTH_TOKEN: emulator.authToken,
    TCE_SCENARIO_NUMBER: A,
    TCE_SCENARIO_CUSTOMER_NUMBER: B,
  };
});
afterAll(async () => {
  await proxy?.close();
  await emulator?.close();
});

describe('the twilio target against the emulator (--twilio-url), no control plane', () => {
  let target: Target;
  afterAll(async () => target?.close());

  it('runs the two-number STOP scenario, skips the rest with their reason, and never calls /_emulator', async () => {
    target = await createTwilioTarget(twilioTargetOptionsFromEnv(env, { twilioUrl: proxy.url }));
    proxy.seen.splice(0);
    const result = await runScenarios(builtInScenarios, { target, seed: 'twilio-target', startConsumer: () => startReferenceRouter(target), timeoutMs: 60_000 });
    process.stderr.write(formatSummary(result));
    const byName = Object.fromEntries(result.scenarios.map((r) => [r.name, r]));
    expect(byName['STOP from the customer number suppresses; START lifts it']).toMatchObject({ status: 'passed' });
    expect(result.failed).toBe(0);
    // REST-only scenarios run too: concurrent creates with one UniqueName need nothing but the API
    expect(byName['concurrent creates with one UniqueName give one conversation']).toMatchObject({ status: 'passed' });
    expect(result.passed).toBe(2);
    for (const r of result.scenarios.filter((s) => s.status !== 'passed')) {
      expect(r.status, r.name).toBe('skipped');
      expect(r.reason, r.name).toMatch(/^needs (control-plane|handsets|webhook-faults|rest-faults|clock)/);
    }
    // the target and the router talked only to Twilio's public API: the numbers, Messages, Conversations
    expect(proxy.seen.filter((line) => line.includes('/_emulator'))).toEqual([]);
    expect(proxy.seen.some((line) => /^POST \/2010-04-01\/Accounts\/AC\w+\/IncomingPhoneNumbers\/PN\w+\.json/.test(line))).toBe(true);
    expect(proxy.seen.some((line) => /^POST \/2010-04-01\/Accounts\/AC\w+\/Messages\.json/.test(line))).toBe(true);
    // and the counting can fail: a control-plane call through the proxy is seen
    await fetch(`${proxy.url}/_emulator/requests`);
    expect(proxy.seen.filter((line) => line.includes('/_emulator'))).toHaveLength(1);
    // A's SmsUrl was set through IncomingPhoneNumbers to the consumer's inbound path, behind the target's receiver
    const client = twilio(emulator.accountSid, emulator.authToken, { httpClient: emulatorHttpClient(emulator.url) });
    const [a] = await client.incomingPhoneNumbers.list({ phoneNumber: A });
    expect(a.smsUrl).toBe(`${target.publicUrl}/twilio/messaging/inbound`);
    // every webhook the target's receiver got was signed for the public URL
    expect(target.webhooks.received.every((w) => w.valid)).toBe(true);
  }, 120_000);

  it('a missing variable is one clear error naming it', () => {
    const { TCE_SCENARIO_CUSTOMER_NUMBER: _, ...rest } = env;
    expect(() => twilioTargetOptionsFromEnv(rest)).toThrow(/^--target twilio needs TCE_SCENARIO_CUSTOMER_NUMBER /);
    expect(() => twilioTargetOptionsFromEnv({ ...env, TCE_SCENARIO_NUMBER: B })).toThrow(/two different numbers/);
  });

  it('a number the account does not own is refused before any scenario', async () => {
    await expect(createTwilioTarget(twilioTargetOptionsFromEnv({ ...env, TCE_SCENARIO_NUMBER: '+15017125559' }, { twilioUrl: emulator.url }))).rejects.toThrow(/\+15017125559 is not one of account/);
  });
});

describe('tce scenario run --target twilio', () => {
  it('runs the stop suite through the binary and --record writes a sanitized recording', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tce-twilio-record-'));
    const r = await tce(['scenario', 'run', 'stop', '--target', 'twilio', '--twilio-url', emulator.url, '--record', dir, '--json', '--seed', 'cli'], env);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ passed: 1, failed: 0, skipped: selectScenarios(builtInScenarios, ['stop']).length - 1 });
    const text = readFileSync(join(dir, 'recording.json'), 'utf8');
    const recording = readRecording(dir);
    expect(recording.entries.some((e) => e.kind === 'rest')).toBe(true);
    expect(recording.entries.some((e) => e.kind === 'webhook')).toBe(true);
    for (const secret of [env.TWILIO_API_KEY_SECRET, env.TWILIO_AUTH_TOKEN, env.TWILIO_ACCOUNT_SID, env.TWILIO_API_KEY_SID]) expect(text).not.toContain(secret);
    expect(text.toLowerCase()).not.toContain('x-twilio-signature');
    // tce contracts diff reads and replays it; into a fresh account it differs where the run relied on what the
    // recording does not hold (the numbers bought before, the consumer's own REST calls): reported, not a crash
    const diff = await tce(['contracts', 'diff', dir], {});
    expect(diff.stdout, diff.stderr).toMatch(new RegExp(`${recording.entries.filter((e) => e.kind === 'rest').length} exchanges replayed, ${recording.entries.filter((e) => e.kind === 'webhook').length} webhook entries not replayed`));
    expect([0, 1]).toContain(diff.code);
  }, 120_000);

  it('--record on the emulator target: a REST-only scenario replays with zero differences', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tce-emulator-record-'));
    const r = await tce(['scenario', 'run', 'concurrent creates with one UniqueName give one conversation', '--record', dir, '--seed', 'rec'], {});
    expect(r.code, r.stderr).toBe(0);
    const recording = readRecording(dir);
    expect(recording.account).toBe('{AC1}');
    expect(recording.entries.filter((e) => e.kind === 'rest' && e.method === 'POST' && e.path === '/v1/Conversations').length).toBe(10);
    const diff = await tce(['contracts', 'diff', dir], {});
    expect(diff.stdout, diff.stderr).toMatch(/exchanges replayed: no differences/);
    expect(diff.code).toBe(0);
  }, 60_000);

  it('a missing variable: one line naming it, exit non-zero', async () => {
    const r = await tce(['scenario', 'run', 'stop', '--target', 'twilio', '--twilio-url', emulator.url], { ...env, TWILIO_API_KEY_SECRET: '' });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('TWILIO_API_KEY_SECRET');
  });
});
