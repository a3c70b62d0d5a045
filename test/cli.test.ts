/** `tce serve` as a child process, driven by the SDK: what a CI pipeline does. Runs dist/, which the suite's global setup builds from src/ first. */
import { spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import twilio from 'twilio';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { emulatorHttpClient } from '../src/client.js';
import { createEmulator } from '../src/index.js';
import { startEmulator } from './support/emulator.js';
import { SID } from './support/spec.js';
import { expectNoSpawnedViolations, killSpawned, spawnServe, TCE_BIN as BIN } from './support/spawned.js';

const dir = mkdtempSync(join(tmpdir(), 'tce-cli-'));

afterAll(() => {
  killSpawned();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(expectNoSpawnedViolations);

const serve = (args: string[], env: Record<string, string> = {}) => spawnServe(args, env, 10_000);

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
    // a flag mistake is a usage error (src/shared/usage-error.ts): one line naming it, exit 2
    const bad = spawnSync(process.execPath, [BIN, 'serve', '--no-such-flag'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^tce: tce serve: unknown flag --no-such-flag; usage: /);
    const port = spawnSync(process.execPath, [BIN, 'serve', '--port', 'eighty'], { encoding: 'utf8' });
    expect(port.status).toBe(2);
    expect(port.stderr).toBe('tce: --port must be 0-65535, got eighty\n');
  });
});

describe('tce serve beyond loopback', () => {
  /** a non-internal IPv4 address of this machine, if it has one (a LAN address) */
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

  it('refuses a non-loopback --host without --control-token: one line naming both flags, exit 2, nothing bound', () => {
    for (const host of ['0.0.0.0', '::', ...(lan ? [lan] : [])]) {
      const refused = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--db', ':memory:', '--host', host], { encoding: 'utf8', timeout: 10_000 });
      expect({ host, status: refused.status, stdout: refused.stdout }).toEqual({ host, status: 2, stdout: '' });
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
      const { emulator: e } = await startEmulator({ host: '0.0.0.0', ...options });
      expect(e.url).toBe(`http://127.0.0.1:${e.port}`);
      await e.close();
    }
    // loopback, spelt any way, needs neither
    for (const host of ['127.0.0.1', 'localhost']) {
      const { emulator: e } = await startEmulator({ host });
      expect((await fetch(`${e.url}/_emulator/health`)).status).toBe(200);
      await e.close();
    }
  });
});

/** `tce serve` that must refuse to start: its exit status, stderr and how long it took. */
function refused(args: string[]): { status: number | null; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', ...args], { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stderr: r.stderr, ms: Date.now() - t0 };
}

describe('tce serve: operator messages about the database file', () => {
  it('a second tce on a file in use fails at once, naming the file and the other tce', async () => {
    const db = join(dir, 'in-use.sqlite');
    const first = await serve(['--db', db]);
    const second = refused(['--db', db]);
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(db);
    expect(second.stderr).toMatch(/in use by another process \(another tce serving it\?\)/);
    expect(second.stderr).not.toMatch(/\n\s+at /);
    expect(second.ms).toBeLessThan(3_000);
    await stopped(first.child, 'SIGTERM');
  });

  it('a path that cannot be opened names the path and why', () => {
    const asDirectory = refused(['--db', dir]);
    expect(asDirectory.status).toBe(1);
    expect(asDirectory.stderr).toContain(`database ${dir}: cannot open the file: the path is a directory`);
    const blocked = refused(['--db', '/dev/null/tce.sqlite']);
    expect(blocked.status).toBe(1);
    expect(blocked.stderr).toContain('database /dev/null/tce.sqlite: cannot create its directory /dev/null');
  });

  it('a corrupted database refuses to start (PRAGMA quick_check) instead of answering 500 later', async () => {
    const db = join(dir, 'corrupt.sqlite');
    const first = await serve(['--db', db, '--account-sid', ACCOUNT, '--auth-token', TOKEN]);
    const client = twilio(ACCOUNT, TOKEN, { httpClient: emulatorHttpClient(first.url) });
    const c = await client.conversations.v1.conversations.create({});
    for (let i = 0; i < 50; i++) await client.conversations.v1.conversations(c.sid).messages.create({ body: `message ${i} `.repeat(20) });
    await stopped(first.child, 'SIGTERM');
    // scribble over the messages table's pages, not the schema tce reads at start
    const file = new BetterSqlite3(db, { readonly: true });
    const pageSize = file.pragma('page_size', { simple: true }) as number;
    const root = (file.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'messages'").pluck().get() as number);
    file.close();
    const fd = openSync(db, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (root - 1) * pageSize);
    closeSync(fd);
    const r = refused(['--db', db]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`database ${db} is corrupted (PRAGMA quick_check:`);
  });

  it('a non-empty SQLite file that is not tce\'s is refused and left as it was', () => {
    const db = join(dir, 'foreign.sqlite');
    const foreign = new BetterSqlite3(db);
    foreign.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('ada')");
    foreign.close();
    const r = refused(['--db', db]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`database ${db} is not a tce database (it holds other tables: customers)`);
    const after = new BetterSqlite3(db, { readonly: true });
    expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()).toEqual(['customers']);
    after.close();
  });

  it('a database of an older tce (no application_id yet) still starts', async () => {
    const db = join(dir, 'older.sqlite');
    const first = await serve(['--db', db, '--account-sid', ACCOUNT, '--auth-token', TOKEN]);
    await stopped(first.child, 'SIGTERM');
    const file = new BetterSqlite3(db);
    file.pragma('application_id = 0');
    file.close();
    const again = await serve(['--db', db, '--account-sid', ACCOUNT, '--auth-token', TOKEN]);
    expect(again.output).toContain(`TWILIO_ACCOUNT_SID=${ACCOUNT}`);
    await stopped(again.child, 'SIGTERM');
  });

  it('--durability is shown in the banner and /_emulator/health, and a bad level names the flag', async () => {
    const s = await serve(['--db', join(dir, 'full.sqlite'), '--durability', 'full']);
    expect(s.output).toContain('durability full');
    expect((await (await fetch(`${s.url}/_emulator/health`)).json()).durability).toBe('full');
    await stopped(s.child, 'SIGTERM');
    const bad = refused(['--db', ':memory:', '--durability', 'fast']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--durability must be off, normal or full, got fast');
  });
});
