/** `tce serve` as a child process, driven by the SDK: what a CI pipeline does. Needs dist/ (npm test builds it). */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import twilio from 'twilio';
import { afterAll, describe, expect, it } from 'vitest';
import { emulatorHttpClient } from '../src/client.js';
import { createEmulator } from '../src/index.js';
import { SID } from './support/spec.js';

const BIN = new URL('../bin/tce.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tce-cli-'));
const children = new Set<ChildProcessWithoutNullStreams>();

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Served {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output: string;
}

function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    env: { ...process.env, TWILIO_ACCOUNT_SID: '', TWILIO_AUTH_TOKEN: '', ...env },
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`tce serve did not start:\n${output}`)), 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m && output.includes('default Conversation Service')) {
        clearTimeout(timer);
        resolve({ child, url: m[1], output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tce serve exited with ${code}:\n${output}`));
    });
  });
}

function stopped(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

const ACCOUNT = 'AC' + '1'.repeat(32);
const TOKEN = 'cli-test-token';

describe('tce serve', () => {
  it('keeps every acknowledged write across a crash (SIGKILL) and a restart on the same file', async () => {
    const db = join(dir, 'durable.sqlite');
    const first = await serve(['--db', db], { TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: TOKEN });
    const client = twilio(ACCOUNT, TOKEN, { httpClient: emulatorHttpClient(first.url) });
    const c = await client.conversations.v1.conversations.create({ uniqueName: 'survivor', friendlyName: 'before crash' });
    for (let i = 0; i < 3; i++) await client.conversations.v1.conversations(c.sid).messages.create({ body: `m${i}` });
    await client.conversations.v1.conversations(c.sid).participants.create({ identity: 'alice' });
    await stopped(first.child, 'SIGKILL');

    const second = await serve(['--db', db], { TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: TOKEN });
    const again = twilio(ACCOUNT, TOKEN, { httpClient: emulatorHttpClient(second.url) });
    const fetched = await again.conversations.v1.conversations('survivor').fetch();
    expect(fetched.sid).toBe(c.sid);
    expect(fetched.friendlyName).toBe('before crash');
    const messages = await again.conversations.v1.conversations(c.sid).messages.list();
    expect(messages.map((m) => m.body)).toEqual(['m0', 'm1', 'm2']);
    expect((await again.conversations.v1.conversations(c.sid).participants.list()).map((p) => p.identity)).toEqual(['alice']);
    const next = await again.conversations.v1.conversations(c.sid).messages.create({ body: 'after' });
    expect(next.index).toBe(3);
    await stopped(second.child, 'SIGTERM');
  });

  it('generates and prints credentials when none are given, and honours --public-url', async () => {
    const s = await serve(['--db', ':memory:', '--public-url', 'https://conversations.twilio.com']);
    const sid = /TWILIO_ACCOUNT_SID=(AC[0-9a-f]{32})/.exec(s.output)?.[1];
    const token = /TWILIO_AUTH_TOKEN=([0-9a-f]{32})/.exec(s.output)?.[1];
    expect(sid).toMatch(SID.account);
    expect(token).toBeDefined();
    const client = twilio(sid as string, token as string, { httpClient: emulatorHttpClient(s.url) });
    const c = await client.conversations.v1.conversations.create({});
    expect(c.url).toBe(`https://conversations.twilio.com/v1/Conversations/${c.sid}`);
    // the httpClient rewrites next-page URLs on the public origin back to the emulator
    for (let i = 0; i < 3; i++) await client.conversations.v1.conversations.create({});
    expect((await client.conversations.v1.conversations.list({ pageSize: 1 })).length).toBe(4);
    await stopped(s.child, 'SIGTERM');
  });

  it('prints the test credentials, which send to the magic numbers and nothing else', async () => {
    const s = await serve(['--db', ':memory:', '--account-sid', ACCOUNT, '--auth-token', TOKEN]);
    const sid = /TWILIO_TEST_ACCOUNT_SID=(AC[0-9a-f]{32})/.exec(s.output)?.[1];
    const token = /TWILIO_TEST_AUTH_TOKEN=([0-9a-f]{32})/.exec(s.output)?.[1];
    expect(sid).toMatch(SID.account);
    expect(sid).not.toBe(ACCOUNT);
    const test = twilio(sid as string, token as string, { httpClient: emulatorHttpClient(s.url) });
    expect(await test.messages.create({ from: '+15005550006', to: '+15558675310', body: 'pretend' })).toMatchObject({ accountSid: sid, status: 'queued' });
    await expect(test.messages.create({ from: '+15005550006', to: '+15005550009', body: 'x' })).rejects.toMatchObject({ status: 400, code: 21614 });
    await expect(test.conversations.v1.conversations.list()).rejects.toMatchObject({ status: 403, code: 20008 });
    await stopped(s.child, 'SIGTERM');
  });

  it('--seed makes SIDs repeatable', async () => {
    const sids: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const s = await serve(['--db', ':memory:', '--seed', 'repeat-me', '--account-sid', ACCOUNT, '--auth-token', TOKEN]);
      const client = twilio(ACCOUNT, TOKEN, { httpClient: emulatorHttpClient(s.url) });
      const c = await client.conversations.v1.conversations.create({});
      const m = await client.conversations.v1.conversations(c.sid).messages.create({ body: 'x' });
      sids.push([c.sid, m.sid]);
      await stopped(s.child, 'SIGTERM');
    }
    expect(sids[0]).toEqual(sids[1]);
    expect(sids[0][0]).toMatch(SID.conversation);
  });

  it('prints usage, and fails clearly on a bad flag', () => {
    const help = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    for (const flag of ['--port', '--host', '--db', '--account-sid', '--auth-token', '--public-url', '--seed']) expect(help.stdout).toContain(flag);
    const bad = spawnSync(process.execPath, [BIN, 'serve', '--no-such-flag'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/no-such-flag/);
    const port = spawnSync(process.execPath, [BIN, 'serve', '--port', 'eighty'], { encoding: 'utf8' });
    expect(port.status).toBe(1);
    expect(port.stderr).toMatch(/--port/);
  });
});

describe('tce serve beyond loopback', () => {
  /** a non-internal IPv4 address of this machine, if it has one (a LAN address) */
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

  it('refuses a non-loopback --host without --control-token: one line naming both flags, exit 1, nothing bound', () => {
    for (const host of ['0.0.0.0', '::', ...(lan ? [lan] : [])]) {
      const refused = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--db', ':memory:', '--host', host], { encoding: 'utf8', timeout: 10_000 });
      expect({ host, status: refused.status, stdout: refused.stdout }).toEqual({ host, status: 1, stdout: '' });
      expect(refused.stderr).toBe(
        `tce: --host ${host} exposes the control plane (/_emulator: API keys, reset) to the network: pass --control-token <t>, or --unsafe-open-control-plane\n`,
      );
    }
  });

  it('binds 0.0.0.0 with --control-token, prints the real bind address, and keeps health open', async () => {
    const s = await serve(['--db', ':memory:', '--host', '0.0.0.0', '--control-token', 'lan-secret']);
    const port = /listening on http:\/\/0\.0\.0\.0:(\d+) \(from this machine: http:\/\/127\.0\.0\.1:(\d+)\)/.exec(s.output);
    expect(port?.[1]).toBeDefined();
    expect(port?.[2]).toBe(port?.[1]);
    const local = `http://127.0.0.1:${port?.[1]}`;
    const health = await fetch(`${local}/_emulator/health`);
    expect(health.status).toBe(200);
    expect((await health.json()).status).toBe('ok');
    const mint = (authorization?: string) =>
      fetch(`${local}/_emulator/accounts`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: '{}' });
    const denied = await mint();
    expect(denied.status).toBe(401);
    expect((await denied.json()).code).toBe(20003);
    expect((await mint('Bearer wrong-secret')).status).toBe(401);
    expect((await mint('Bearer lan-secret')).status).toBe(201);
    await stopped(s.child, 'SIGTERM');
  });

  it('binds 0.0.0.0 without a token only with --unsafe-open-control-plane, and says so', async () => {
    const s = await serve(['--db', ':memory:', '--host', '0.0.0.0', '--unsafe-open-control-plane']);
    expect(s.output).toMatch(/tce: warning: the control plane http:\/\/0\.0\.0\.0:\d+\/_emulator is open to anyone who reaches the port/);
    const port = /listening on http:\/\/0\.0\.0\.0:(\d+)/.exec(s.output)?.[1];
    expect((await fetch(`http://127.0.0.1:${port}/_emulator/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(201);
    await stopped(s.child, 'SIGTERM');
  });

  it('applies the same rule to createEmulator({ host })', async () => {
    await expect(createEmulator({ host: '0.0.0.0' })).rejects.toThrow(/refusing to bind 0\.0\.0\.0 .*controlToken.*unsafeOpenControlPlane/);
    await expect(createEmulator({ host: '::' })).rejects.toThrow(/refusing to bind ::/);
    for (const options of [{ controlToken: 't' }, { unsafeOpenControlPlane: true }]) {
      const e = await createEmulator({ host: '0.0.0.0', ...options });
      expect(e.url).toBe(`http://127.0.0.1:${e.port}`);
      await e.close();
    }
    // loopback, spelt any way, needs neither
    for (const host of ['127.0.0.1', 'localhost']) {
      const e = await createEmulator({ host });
      expect((await fetch(`${e.url}/_emulator/health`)).status).toBe(200);
      await e.close();
    }
  });
});
