/**
 * Installable: the package as a user gets it. `npm pack` (its `prepare` script builds dist/), the tarball installed
 * into a fresh ESM project with vitest and twilio, and a vitest file there that imports only from the package name
 * `twilio-conversations-emulator/testing`, run by that project's own vitest in a child process. Catches what the
 * in-repo tests cannot: a file missing from package.json `files`, a broken `exports` entry, a dependency that is
 * only a devDependency, an import of src/ from dist/.
 * Slow (a native addon is built on install): one test, with a generous deadline.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const versionIn = (dir: string): string => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
/** the versions this repo tests with, so the consumer gets the same ones */
const versionOf = (name: string): string => versionIn(join(ROOT, 'node_modules', name));

// the child vitest must not think it runs inside this one
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(VITEST|STRYKER)/.test(key)));

/** runs a command to its end or its deadline; on failure the error says the command and its output */
async function sh(file: string, args: string[], cwd: string, timeoutMs: number): Promise<{ stdout: string; ms: number }> {
  const started = Date.now();
  try {
    const { stdout } = await run(file, args, { cwd, env: childEnv, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 });
    return { stdout, ms: Date.now() - started };
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/** the consumer's test file: only the package's public entry point, as the README's "Testing your app" shows */
const CONSUMER_TEST = `
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { useEmulator, webhookSink } from 'twilio-conversations-emulator/testing';

const t = useEmulator({ hooks: { beforeAll, beforeEach, afterAll } });
let sink;
beforeAll(async () => {
  sink = await webhookSink({ authToken: t.emulator.authToken });
});
beforeEach(() => sink.clear());
afterAll(() => sink.close());

it('a customer text reaches the webhook, and the reply reaches the handset', async () => {
  const conversation = await t.client.conversations.v1.conversations.create({ friendlyName: 'Support' });
  await t.client.conversations.v1.conversations(conversation.sid).participants.create({
    'messagingBinding.address': '+15558675310',
    'messagingBinding.proxyAddress': '+15017122661',
  });
  await t.client.conversations.v1.conversations(conversation.sid).webhooks.create({
    target: 'webhook',
    'configuration.url': sink.url + '/twilio/conversations',
    'configuration.filters': ['onMessageAdded'],
  });

  await t.emulator.channel.inbound({ from: '+15558675310', to: '+15017122661', body: 'Where is my order?' });
  const hook = await sink.waitFor('onMessageAdded', (r) => r.params.Author === '+15558675310');
  expect(hook.valid).toBe(true);
  expect(hook.params.Body).toBe('Where is my order?');
  expect(hook.params.ConversationSid).toBe(conversation.sid);

  const reply = await t.client.conversations.v1.conversations(conversation.sid).messages.create({ author: 'agent', body: 'On its way' });
  const [sms] = await t.emulator.channel.waitForReceipt(reply.sid, 'delivered');
  expect(sms).toMatchObject({ to: '+15558675310', from: '+15017122661', body: 'On its way' });
  expect(t.emulator.channel.outbox({ to: '+15558675310' }).map((m) => m.body)).toEqual(['On its way']);
});

it('starts every test from an empty emulator', async () => {
  expect(await t.client.conversations.v1.conversations.list()).toEqual([]);
  expect(t.emulator.channel.outbox()).toEqual([]);
  expect(sink.all()).toEqual([]);
});
`;

/** the part of vitest's JSON reporter output read here */
interface ConsumerReport {
  success: boolean;
  numTotalTests: number;
  numPassedTests: number;
  testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
}

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

it('installs from its npm pack tarball and runs a consumer vitest file against the package name', async () => {
  const packDir = mkdtempSync(join(tmpdir(), 'tce-pack-'));
  const project = mkdtempSync(join(tmpdir(), 'tce-consumer-'));
  temps.push(packDir, project);

  const pack = await sh('npm', ['pack', '--pack-destination', packDir], ROOT, 120_000);
  const [tarball] = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
  expect(tarball).toBe(`twilio-conversations-emulator-${versionIn(ROOT)}.tgz`);
  const tarballPath = join(packDir, tarball!);
  const listed = (await sh('tar', ['-tzf', tarballPath], packDir, 30_000)).stdout.split('\n');
  // LICENSE is not in package.json `files`: npm always packs it
  expect(listed).toEqual(expect.arrayContaining(['package/LICENSE', 'package/bin/tce.js', 'package/dist/testing/index.js']));

  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'tce-consumer', private: true, type: 'module' }));
  const install = await sh(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', tarballPath, `vitest@${versionOf('vitest')}`, `twilio@${versionOf('twilio')}`],
    project,
    300_000,
  );
  process.stderr.write(`package-install: npm pack ${pack.ms} ms, tarball install ${install.ms} ms\n`);
  const installed = join(project, 'node_modules', 'twilio-conversations-emulator');
  for (const file of ['dist/testing/index.js', 'bin/tce.js', 'LICENSE']) expect(existsSync(join(installed, file)), file).toBe(true);

  writeFileSync(join(project, 'consumer.test.js'), CONSUMER_TEST);
  const report = join(project, 'report.json');
  // a failing consumer test exits 1: its report, when there is one, says which assertion failed
  const inner = await sh('npx', ['--no', 'vitest', 'run', '--reporter=json', `--outputFile=${report}`], project, 120_000).catch((e: Error) => e);
  if (!existsSync(report)) throw inner;
  const result = JSON.parse(readFileSync(report, 'utf8')) as ConsumerReport;
  const failures = result.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status !== 'passed').map((a) => `${a.title}: ${a.failureMessages[0] ?? a.status}`));
  expect(failures).toEqual([]);
  expect(result).toMatchObject({ success: true, numTotalTests: 2, numPassedTests: 2 });
  if (inner instanceof Error) throw inner;
  process.stderr.write(`package-install: consumer vitest run ${inner.ms} ms\n`);
}, 600_000);
