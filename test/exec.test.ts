/**
 * `tce exec -- <command>` through `node bin/tce.js` (dist/, built by the suite's global setup): the command reaches
 * a fresh emulator with the credentials in its environment, tce exits with its code, snapshots go in and out.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TCE_BIN } from './support/spawned.js';
import { freePort } from './support/free-port.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tce-exec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `tce exec …`, from the repository root (the scripts import twilio and dist/client.js from there). */
function tce(args: string[], onStdout?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TCE_BIN, ...args], { cwd: root, timeout: 25_000, env: { ...process.env, TWILIO_ACCOUNT_SID: '', TWILIO_AUTH_TOKEN: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A script that does what an app under test does: the twilio SDK with the API key tce exec exported, at TCE_URL. */
const SDK_SCRIPT = `
import twilio from 'twilio';
import { emulatorHttpClient } from './dist/client.js';
const e = process.env;
const client = twilio(e.TWILIO_API_KEY_SID, e.TWILIO_API_KEY_SECRET, { accountSid: e.TWILIO_ACCOUNT_SID, httpClient: emulatorHttpClient(e.TCE_URL) });
const name = process.argv[1];
const existing = (await client.conversations.v1.conversations.list()).map((c) => c.friendlyName);
const created = await client.conversations.v1.conversations.create({ friendlyName: name });
// the auth token works too
const byToken = twilio(e.TWILIO_ACCOUNT_SID, e.TWILIO_AUTH_TOKEN, { httpClient: emulatorHttpClient(e.TCE_URL) });
await byToken.conversations.v1.conversations(created.sid).fetch();
console.log(JSON.stringify({ sid: created.sid, existing }));
if (process.argv[2]) process.exit(Number(process.argv[2]));
`;
const sdk = (name: string, exitCode?: number) => ['node', '--input-type=module', '-e', SDK_SCRIPT, name, ...(exitCode === undefined ? [] : [String(exitCode)])];

/** What a command sees of the emulator tce exec started: its control plane and the SDK's answers, as one line. */
const INSPECT_SCRIPT = `
import twilio from 'twilio';
import { emulatorHttpClient } from './dist/client.js';
const e = process.env;
const auth = e.TCE_CONTROL_TOKEN ? { authorization: 'Bearer ' + e.TCE_CONTROL_TOKEN } : {};
const control = async (path, init = {}) => (await fetch(e.TCE_URL + '/_emulator' + path, { ...init, headers: { 'content-type': 'application/json', ...auth } })).json();
const withoutToken = (await fetch(e.TCE_URL + '/_emulator/limits')).status;
const { webhookTransport, durability } = await control('/health');
const { mode } = await control('/clock', { method: 'POST', body: '{}' });
const limits = await control('/limits');
const client = twilio(e.TWILIO_ACCOUNT_SID, e.TWILIO_AUTH_TOKEN, { httpClient: emulatorHttpClient(e.TCE_URL) });
const c = await client.conversations.v1.conversations.create({});
console.log('RESULT ' + JSON.stringify({ url: e.TCE_URL, account: e.TWILIO_ACCOUNT_SID, token: e.TWILIO_AUTH_TOKEN, controlToken: e.TCE_CONTROL_TOKEN, withoutToken, webhookTransport, durability, mode, limits, sid: c.sid, conversationUrl: c.url }));
`;


describe('tce exec', () => {
  it('runs a command that creates a conversation through the SDK, exits 0, and --export saves it', async () => {
    const file = join(dir, 'after.json');
    const ran = await tce(['exec', '--export', file, '--', ...sdk('first')]);
    expect(ran.stderr).toMatch(/^tce exec: emulator at http:\/\/127\.0\.0\.1:\d+ /);
    expect(ran.status).toBe(0);
    const { sid, existing } = JSON.parse(ran.stdout) as { sid: string; existing: string[] };
    expect(existing).toEqual([]);
    const snapshot = JSON.parse(readFileSync(file, 'utf8'));
    expect(snapshot).toMatchObject({ format: 'tce-snapshot', version: 1 });
    expect(snapshot.tables.conversations.map((c: { sid: string; friendly_name: string }) => [c.sid, c.friendly_name])).toEqual([[sid, 'first']]);

    // --import: the next run starts where this one ended
    const again = await tce(['exec', '--import', file, '--', ...sdk('second')]);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout).existing).toEqual(['first']);
  });

  it("exits with the command's exit code, and exports also when it failed", async () => {
    const file = join(dir, 'failed.json');
    const ran = await tce(['exec', '--export', file, '--', 'node', '-e', 'process.exit(3)']);
    expect(ran.status).toBe(3);
    expect(JSON.parse(readFileSync(file, 'utf8')).format).toBe('tce-snapshot');
    // a command that saw the variables, reached the emulator, then failed: its code, and its work in the export
    const reached = join(dir, 'reached-then-failed.json');
    const failed = await tce(['exec', '--export', reached, '--', ...sdk('then failed', 3)]);
    expect(failed.status).toBe(3);
    const { sid } = JSON.parse(failed.stdout) as { sid: string };
    expect(JSON.parse(readFileSync(reached, 'utf8')).tables.conversations.map((c: { sid: string }) => c.sid)).toEqual([sid]);
  });

  it('passes SIGTERM on to the command and exits with what it answers', async () => {
    const script = "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(7); }); console.log('ready'); setInterval(() => {}, 1000);";
    let sent = false;
    const ran = await tce(['exec', '--', 'node', '-e', script], (out, child) => {
      if (!sent && out.includes('ready')) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    expect(ran.stdout).toContain('got SIGTERM');
    expect(ran.status).toBe(7);
  });

  it('takes every tce serve flag, and each one reaches the emulator the command talks to', async () => {
    const port = await freePort();
    const account = 'AC' + 'e'.repeat(32);
    const flags = [
      '--port', String(port), '--host', '127.0.0.1', '--db', join(dir, 'exec-flags.sqlite'), '--durability', 'normal',
      '--account-sid', account, '--auth-token', 'exec-token', '--public-url', 'https://conversations.twilio.com',
      '--seed', 'exec-seed', '--clock', 'manual', '--control-token', 'exec-secret', '--request-timeout', '5s',
      '--rate-limit', '50,60,4', '--webhook-transport', 'inline', '--validate-responses', '--log',
    ];
    const ran = await tce(['exec', ...flags, '--', 'node', '--input-type=module', '-e', INSPECT_SCRIPT]);
    expect(ran.status, ran.stderr).toBe(0);
    const line = ran.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    const seen = JSON.parse(line!.slice('RESULT '.length));
    expect(seen).toEqual({
      url: `http://127.0.0.1:${port}`,
      account,
      token: 'exec-token',
      controlToken: 'exec-secret',
      withoutToken: 401,
      webhookTransport: 'inline',
      durability: 'normal',
      mode: 'manual',
      limits: { rps: 50, burst: 60, concurrency: 4 },
      sid: expect.stringMatching(/^CH[0-9a-f]{32}$/),
      conversationUrl: `https://conversations.twilio.com/v1/Conversations/${seen.sid}`,
    });
    // --log: fastify's request log lines on stdout, beside the command's
    expect(ran.stdout).toMatch(/"url":"\/_emulator\/health"/);
    // --seed: the same SIDs in a fresh run
    const again = await tce(['exec', '--seed', 'exec-seed', '--account-sid', account, '--auth-token', 'exec-token', '--', 'node', '--input-type=module', '-e', INSPECT_SCRIPT]);
    expect(again.status, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout.split('\n').find((l) => l.startsWith('RESULT '))!.slice('RESULT '.length));
    expect(second).toMatchObject({ sid: seen.sid, mode: 'real', webhookTransport: 'worker', durability: 'off', withoutToken: 200 });
    expect(second.url).not.toBe(seen.url);
  });

  it('--help prints the usage and runs nothing', async () => {
    const ran = await tce(['exec', '--help']);
    expect(ran.status).toBe(0);
    expect(ran.stdout).toMatch(/^usage: tce exec \[--export FILE\] \[tce serve flags/);
  });

  it('refuses a missing -- or command, an unknown flag and a bad --import with one line, exit 2', async () => {
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{');
    const cases: [string[], RegExp][] = [
      [['exec', 'node', '-e', '1'], /^tce: tce exec needs -- before the command to run; usage: tce exec /],
      [['exec', '--'], /^tce: tce exec needs a command after --; usage: /],
      [['exec', '--bogus', '--', 'node'], /^tce: tce exec: unknown flag --bogus; usage: tce exec /],
      [['exec', '--seed', '--', 'node'], /^tce: tce exec: Option '--seed <value>' argument missing; usage: /],
      [['exec', '--clock', 'sometimes', '--', 'node'], /^tce: --clock must be real or manual, got sometimes\n$/],
      [['exec', '--rate-limit', 'fast', '--', 'node'], /^tce: --rate-limit must be rps\[,burst\[,concurrency\]\], got fast: rps must be a number > 0/],
      [['exec', '--host', '0.0.0.0', '--', 'node'], /^tce: --host 0\.0\.0\.0 exposes the control plane .* pass --control-token <t>, or --unsafe-open-control-plane\n$/],
      [['exec', '--import', notJson, '--', 'node', '-e', '1'], /^tce: --import .*not\.json: not JSON/],
      [['exec', '--', 'no-such-command-tce'], /tce: exec: cannot run no-such-command-tce \(ENOENT\)\n$/],
    ];
    for (const [args, message] of cases) {
      const ran = await tce(args);
      expect(ran.stderr, args.join(' ')).toMatch(message);
      expect(ran.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
      expect(ran.status, args.join(' ')).toBe(2);
    }
  });
});
