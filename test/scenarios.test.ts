/**
 * The scenario suites: all of them pass against the in-process emulator with the reference router on SQLite, and
 * each is proven able to fail, run against a deliberately broken consumer (test/support/broken-consumers.ts).
 * Also the API's skip/fail paths, the runner's signature-checking receiver, and `tce scenario` through the binary.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator } from '../src/index.js';
import {
  AssertionFailure, builtInScenarios, connectConsumer, createEmulatorTarget, defineScenario, formatSummary, runScenarios,
  selectScenarios, startReferenceRouter, toJunit, type RunResult, type Target,
} from '../src/scenarios/index.js';
import { startConsumer, type BrokenConsumer, type Flaws } from './support/broken-consumers.js';
import { storeBackends } from './support/router-stores.js';

const run = promisify(execFile);
const tce = (args: string[]) => run(process.execPath, ['bin/tce.js', ...args], { encoding: 'utf8' }).then(
  (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
  (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
);

let target: Target;
beforeAll(async () => {
  target = await createEmulatorTarget({ seed: 'scenarios-test' });
});
afterAll(async () => {
  await target?.close();
});

const statuses = (result: RunResult) => Object.fromEntries(result.scenarios.map((r) => [r.name, r.reason ? `${r.status}: ${r.reason}` : r.status]));

describe.each(storeBackends())('the suites against the reference router on $name', (backend) => {
  it('every scenario passes against the in-process emulator', async () => {
    // SQLite: a fresh :memory: router per scenario; PostgreSQL + Redis: the stores given, shared by the run
    const prepared = backend.name === 'sqlite' ? undefined : backend.prepare();
    const stores = prepared?.options ?? { db: ':memory:' };
    const result = await runScenarios(builtInScenarios, { target, seed: 'all-pass', startConsumer: () => startReferenceRouter(target, stores) }).finally(() => prepared?.cleanup());
    process.stderr.write(formatSummary(result));
    expect(result.scenarios.filter((r) => r.status !== 'passed').map((r) => `${r.name}: ${r.status} ${r.reason}`)).toEqual([]);
    expect(result.passed).toBe(builtInScenarios.length);
    expect(new Set(result.scenarios.map((r) => r.suite))).toEqual(new Set(['stop', 'delivery-failure', 'ordering', 'idempotency', 'rate-limit']));
    // the budget is 30 s on 2 cores; a loaded CI machine gets headroom
    expect(result.durationMs).toBeLessThan(60_000);
  }, 120_000);
});

describe('each suite can fail: broken consumers', () => {
  let consumer: BrokenConsumer | undefined;
  afterAll(async () => consumer?.close());

  async function against(flaws: Flaws, selectors: string[]): Promise<RunResult> {
    await consumer?.close();
    consumer = await startConsumer({ twilioUrl: target.twilioUrl!, accountSid: target.accountSid, authToken: target.authToken, flaws });
    const c = consumer;
    const result = await runScenarios(selectScenarios(builtInScenarios, selectors), { target, seed: 'broken', startConsumer: () => connectConsumer(c.url, { apiToken: c.apiToken }) });
    process.stderr.write(formatSummary(result));
    return result;
  }

  it('a sound consumer of the same make passes the suites it can be checked on', async () => {
    const result = await against({ stateApi: true }, ['stop', 'delivery-failure', 'idempotency']);
    expect(result.scenarios.filter((r) => r.status === 'failed').map((r) => `${r.name}: ${r.reason}`)).toEqual([]);
  }, 60_000);

  it('without dedupe: ordering and idempotency fail', async () => {
    const result = await against({ noDedupe: true }, ['ordering', 'idempotency']);
    const s = statuses(result);
    expect(s['inbound webhooks duplicated, failed and delayed post each message once']).toMatch(/^failed: .*(posted once|one conversation)/);
    expect(s['20 concurrent first messages from one number give one conversation']).toMatch(/^failed: /);
    // no state API: the derived-state scenarios check what Twilio sees, and say so
    const reordered = result.scenarios.find((r) => r.name === 'webhooks reordered in windows of 10 converge');
    expect(reordered).toMatchObject({ status: 'passed', note: 'checked what Twilio sees only' });
    expect(result.failed).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('ignoring STOP: stop fails', async () => {
    const result = await against({ ignoresStop: true, stateApi: true }, ['stop']);
    const s = statuses(result);
    expect(s['stop variants suppress the address']).toMatch(/^failed: .*suppressed/);
    expect(s['STOP in one conversation suppresses every conversation on that sender']).toMatch(/^failed: /);
    // the two-number scenario too (the one that runs on real Twilio)
    expect(s['STOP from the customer number suppresses; START lifts it']).toMatch(/^failed: after STOP, the consumer's state shows .* suppressed/);
    // what Twilio enforces anyway still holds: the send fails 21610 and never reaches the handset
    expect(s['after STOP a send is refused or fails 21610']).toBe('passed');
    const failed = result.scenarios.find((r) => r.name === 'stop variants suppress the address')!;
    expect(failed.journal?.length).toBeGreaterThan(0);
  }, 60_000);

  it('overwriting read with delivered: ordering and delivery-failure fail', async () => {
    const result = await against({ overwritesRead: true, stateApi: true }, ['ordering', 'delivery-failure']);
    const s = statuses(result);
    expect(s['webhooks reordered in windows of 10 converge']).toMatch(/^failed: the consumer's (messages and receipts vs Twilio's|state)/);
    expect(s['a read receipt after a failure stays failed']).toMatch(/^failed: a read receipt after a failure: the consumer's state shows \{.*"read"/);
    const reordered = result.scenarios.find((r) => r.name === 'webhooks reordered in windows of 10 converge')!;
    expect(reordered.log.join('\n')).toMatch(/"type":"reorder","window":10/);
    expect(reordered.journal!.join('\n')).toMatch(/onDeliveryUpdated/);
  }, 60_000);

  it('looping on failure: delivery-failure fails', async () => {
    const result = await against({ loopsOnFailure: true, stateApi: true }, ['delivery-failure']);
    expect(statuses(result)['a failed fallback does not loop']).toMatch(/^failed: exactly one fallback to whatsapp:\+1555\d{7}: got [2-9]/);
  }, 60_000);
});

describe('the scenario API', () => {
  it('a missing capability skips, never passes; an AssertionFailure fails with its conversation journal', async () => {
    let ran = false;
    const needsUpFront = defineScenario({ name: 'needs the state API', suite: 'custom', needs: ['router-state'], run: async () => void (ran = true) });
    const needsMidway = defineScenario({ name: 'needs it midway', suite: 'custom', run: async (ctx) => ctx.needs('router-state') });
    const fails = defineScenario({
      name: 'fails with a conversation',
      suite: 'custom',
      run: async (ctx) => {
        const c = await ctx.target.client.conversations.v1.conversations.create({ uniqueName: 'journal', xTwilioWebhookEnabled: 'true' });
        await ctx.target.waitFor(async () => (await ctx.target.deliveries({ conversationSid: c.sid })).some((d) => d.state === 'delivered'), 5000, 'a delivery');
        throw new AssertionFailure('planted', { conversationSid: c.sid });
      },
    });
    const noApi = await startConsumer({ twilioUrl: target.twilioUrl!, accountSid: target.accountSid, authToken: target.authToken });
    try {
      const result = await runScenarios([needsUpFront, needsMidway, fails], { target, seed: 'api', startConsumer: () => connectConsumer(noApi.url) });
      expect(ran).toBe(false);
      expect(result.scenarios.map((r) => [r.status, r.reason])).toEqual([['skipped', 'needs router-state'], ['skipped', 'needs router-state'], ['failed', 'planted']]);
      expect(result.scenarios[2].journal!.join('\n')).toMatch(/onConversationAdded CH[0-9a-f]{32}: delivered \[200 in/);
      const junit = toJunit(result);
      expect(junit).toContain('<failure message="planted">');
      expect(junit).toContain('<skipped message="needs router-state"/>');
    } finally {
      await noApi.close();
    }
    expect(() => defineScenario({ name: '', suite: 'x', run: async () => undefined })).toThrow(/name/);
    expect(() => defineScenario({ name: 'x', suite: 'Not Kebab', run: async () => undefined })).toThrow(/kebab-case/);
  }, 30_000);

  it("the target's receiver checks every signature with twilio.validateRequest", async () => {
    await target.reset();
    const conversation = await target.client.conversations.v1.conversations.create({ friendlyName: 'receiver' });
    await target.client.conversations.v1.conversations(conversation.sid).webhooks.create({ target: 'webhook', 'configuration.url': `${target.webhooks.url}/hook`, 'configuration.filters': ['onMessageAdded'] });
    await target.client.conversations.v1.conversations(conversation.sid).messages.create({ author: 'a', body: 'signed', xTwilioWebhookEnabled: 'true' });
    const got = await target.waitFor(() => target.webhooks.received.find((w) => w.params.Body === 'signed'), 5000, 'the webhook');
    expect(got).toMatchObject({ path: '/hook', valid: true });
    await fetch(`${target.webhooks.url}/hook`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'forged' }, body: 'Body=forged' });
    expect(target.webhooks.received.find((w) => w.params.Body === 'forged')).toMatchObject({ valid: false });
  });
});

describe('tce scenario', () => {
  it('list prints every scenario with its suite, tags and needs', async () => {
    const { code, stdout } = await tce(['scenario', 'list']);
    expect(code).toBe(0);
    for (const s of builtInScenarios) expect(stdout).toContain(`${s.suite} / ${s.name}`);
    expect(stdout).toMatch(/needs: control-plane, router-state/);
  });

  it('run stop --json passes and exits 0; against a STOP-ignoring consumer it exits 1 with the failure, seed and JUnit', async () => {
    const ok = await tce(['scenario', 'run', 'stop', '--json', '--seed', 'cli']);
    expect(ok.code, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report).toMatchObject({ passed: 8, failed: 0, skipped: 0, seed: 'cli' });
    expect(report.scenarios[0]).toEqual({ name: 'stop variants suppress the address', suite: 'stop', status: 'passed', durationMs: expect.any(Number) });
    expect(ok.stderr).toMatch(/^ok {3}stop \/ stop variants suppress the address \(\d+ ms\)$/m);

    const emulator = await createEmulator({ db: ':memory:', port: 0, logger: false });
    const broken = await startConsumer({ twilioUrl: emulator.url, accountSid: emulator.accountSid, authToken: emulator.authToken, flaws: { ignoresStop: true, stateApi: true } });
    try {
      const junit = join(mkdtempSync(join(tmpdir(), 'tce-scenario-')), 'report.xml');
      const bad = await tce(['scenario', 'run', 'stop variants suppress the address', '--emulator-url', emulator.url, '--consumer', broken.url, '--consumer-token', broken.apiToken, '--json', '--junit', junit, '--seed', 'cli']);
      expect(bad.code).toBe(1);
      const failed = JSON.parse(bad.stdout);
      expect(failed).toMatchObject({ passed: 0, failed: 1, seed: 'cli' });
      expect(failed.scenarios[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/suppressed/), journal: expect.any(Array) });
      expect(readFileSync(junit, 'utf8')).toMatch(/<failure message="[^"]*suppressed/);
      const table = await tce(['scenario', 'run', 'stop variants suppress the address', '--emulator-url', emulator.url, '--consumer', broken.url, '--consumer-token', broken.apiToken, '--seed', 'cli']);
      expect(table.code).toBe(1);
      expect(table.stdout).toMatch(/FAILED stop \/ stop variants suppress the address \(seed cli/);
      expect(table.stdout).toMatch(/webhook journal:\n {4}#\d+ /);
    } finally {
      await broken.close();
      await emulator.close();
    }
  }, 60_000);

  it('bad flags and selectors are one line naming them, exit 1', async () => {
    for (const [args, message] of [
      [['scenario', 'run', '--nope'], /^tce: Unknown option '--nope'/],
      [['scenario', 'run', 'no-such-suite'], /^tce: no suite or scenario named "no-such-suite"/],
      [['scenario', 'run', '--target', 'twilio'], /^tce: --target twilio needs TWILIO_ACCOUNT_SID /],
      [['scenario', 'run', '--public-url', 'https://tunnel.example'], /^tce: --public-url is for --target twilio/],
      [['scenario', 'run', '--consumer', 'not a url'], /^tce: --consumer must be an http\(s\) URL/],
      [['scenario', 'run', '--seed', 'a b'], /^tce: --seed must be/],
      [['scenario', 'run', '--database-url', 'mysql://x'], /^tce: --database-url must be postgres:/],
    ] as const) {
      const r = await tce([...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
