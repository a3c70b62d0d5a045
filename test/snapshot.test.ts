/**
 * Snapshots: state made through the twilio SDK and the control plane, taken from one emulator and loaded into a
 * fresh one, answers byte for byte the same; a refused document changes nothing; the CLI saves and loads files.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type TestEmulator } from './support/emulator.js';
import { expectNoSpawnedViolations, killSpawned, spawnServe, TCE_BIN } from './support/spawned.js';

const dir = mkdtempSync(join(tmpdir(), 'tce-snapshot-'));
const open: TestEmulator[] = [];
afterAll(async () => {
  killSpawned();
  for (const e of open) await e.emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

const PUBLIC_URL = 'https://conversations.twilio.com';
const HANDSET = '+15551230001';
const PROXY = '+15559870000';

/** A seeded emulator with a manual clock: its SIDs repeat run after run, so a fresh one with the same seed would draw them again. */
async function emulator(): Promise<TestEmulator> {
  const e = await startEmulator({ seed: 'snapshot', clock: 'manual', publicUrl: PUBLIC_URL, webhookTransport: 'inline' });
  open.push(e);
  return e;
}

async function control(e: TestEmulator, method: string, path: string, body?: unknown) {
  const response = await fetch(`${e.emulator.url}/_emulator${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, body: text ? JSON.parse(text) : undefined };
}

interface Made {
  accountSid: string;
  authToken: string;
  key: { sid: string; secret: string };
  /** GET paths whose answers the copy must repeat, REST (with the account's credentials) and control plane */
  rest: string[];
  controlPaths: string[];
}

/** Every kind of state a snapshot carries, made the way a user makes it. */
async function makeState(e: TestEmulator): Promise<Made> {
  const v1 = e.client.conversations.v1;
  const { accountSid, authToken } = e.emulator;
  await control(e, 'PUT', `/handsets/${encodeURIComponent(HANDSET)}`, { outcome: 'undelivered' });
  const conversation = await v1.conversations.create({ friendlyName: 'kept', uniqueName: 'kept', attributes: '{"a":1}', 'timers.closed': 'P1D' });
  const sms = await v1.conversations(conversation.sid).participants.create({ 'messagingBinding.address': HANDSET, 'messagingBinding.proxyAddress': PROXY });
  const alice = await v1.conversations(conversation.sid).participants.create({ identity: 'alice' });
  const message = await v1.conversations(conversation.sid).messages.create({ author: 'alice', body: 'hello' });
  await v1.conversations(conversation.sid).messages.create({ author: 'alice', body: 'again' });
  const hook = await v1.conversations(conversation.sid).webhooks.create({ target: 'webhook', 'configuration.url': 'http://127.0.0.1:9/conversation', 'configuration.filters': ['onMessageAdded'] });
  await v1.configuration.webhooks().update({ postWebhookUrl: 'http://127.0.0.1:9/account', filters: ['onConversationAdded'], method: 'POST' });
  const service = await v1.services.create({ friendlyName: 'second service' });
  const user = await v1.services(service.sid).users.create({ identity: 'bob', friendlyName: 'Bob' });
  const serviceConversation = await v1.services(service.sid).conversations.create({ friendlyName: 'in the service' });
  const key = (await control(e, 'POST', `/accounts/${accountSid}/keys`, { friendlyName: 'ci' })).body as { sid: string; secret: string };
  await control(e, 'PUT', '/faults/webhooks', { rules: [{ match: { eventType: 'onMessageAdded' }, times: 3, action: { type: 'drop' } }] });
  await control(e, 'PUT', '/faults/rest', { rules: [{ match: { path: '/v1/Nothing/*' }, action: { type: 'error', status: 503 } }] });
  await control(e, 'PUT', '/limits', { rps: 1000 });
  await control(e, 'POST', '/inbound', { From: '+15551230002', To: PROXY, Body: 'STOP' });
  await control(e, 'POST', '/clock', { advanceSeconds: 3600 });
  const c = `/v1/Conversations/${conversation.sid}`;
  return {
    accountSid,
    authToken,
    key,
    rest: [
      '/v1/Conversations',
      c,
      `/v1/Conversations/kept`,
      `${c}/Participants`,
      `${c}/Participants/${sms.sid}`,
      `${c}/Participants/${alice.sid}`,
      `${c}/Messages`,
      `${c}/Messages/${message.sid}`,
      `${c}/Messages/${message.sid}/Receipts`,
      `${c}/Webhooks`,
      `${c}/Webhooks/${hook.sid}`,
      '/v1/Configuration',
      '/v1/Configuration/Webhooks',
      '/v1/Services',
      `/v1/Services/${service.sid}`,
      `/v1/Services/${service.sid}/Users`,
      `/v1/Services/${service.sid}/Users/${user.sid}`,
      `/v1/Services/${service.sid}/Conversations`,
      `/v1/Services/${service.sid}/Conversations/${serviceConversation.sid}`,
      '/v1/Roles',
      '/v1/Users',
      '/v1/Conversations?PageSize=1',
    ],
    controlPaths: [
      `/accounts/${accountSid}`,
      `/handsets/${encodeURIComponent(HANDSET)}`,
      '/faults/webhooks',
      '/faults/rest',
      '/limits',
      '/opt-outs',
      '/outbox',
    ],
  };
}

/** Every answer, as text, with the account's credentials (or the API key's). */
async function answers(e: TestEmulator, made: Made, auth: [string, string] = [made.accountSid, made.authToken]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const path of made.rest) {
    const a = await e.http('GET', path, { auth });
    expect(a.status, path).toBe(200);
    out[path] = a.text;
  }
  for (const path of made.controlPaths) out[`/_emulator${path}`] = (await control(e, 'GET', path)).text;
  out.clock = (await control(e, 'POST', '/clock', {})).text;
  return out;
}

const withoutTakenAt = (snapshot: Record<string, unknown>) => ({ ...snapshot, takenAt: undefined });

describe('GET / PUT /_emulator/snapshot', () => {
  it('loads into a fresh emulator that answers every request byte for byte the same, and draws new SIDs', async () => {
    const source = await emulator();
    const made = await makeState(source);
    const before = await answers(source, made);
    const snapshot = await control(source, 'GET', '/snapshot');
    expect(snapshot.status).toBe(200);
    expect(snapshot.body).toMatchObject({ format: 'tce-snapshot', version: 1, accountSid: null, clock: { mode: 'manual' } });
    expect(snapshot.body.tables.webhook_deliveries).toBeUndefined();

    const copy = await emulator();
    expect((await control(copy, 'PUT', '/snapshot', snapshot.text)).status).toBe(204);
    expect(await answers(copy, made)).toEqual(before);
    // the API key works on the copy, and the copy's own snapshot is the same document
    expect(await answers(copy, made, [made.key.sid, made.key.secret])).toEqual(await answers(source, made, [made.key.sid, made.key.secret]));
    expect(withoutTakenAt((await control(copy, 'GET', '/snapshot')).body)).toEqual(withoutTakenAt(snapshot.body));

    // both started with the same seed: without the load moving the copy's draws on, these would be the source's next SIDs
    const client = copy.clientFor(made.accountSid, made.authToken);
    const fresh = await client.conversations.v1.conversations.create({ friendlyName: 'after' });
    const reply = await client.conversations.v1.conversations(fresh.sid).messages.create({ body: 'new' });
    const participant = await client.conversations.v1.conversations(fresh.sid).participants.create({ identity: 'carol' });
    const taken = snapshot.text;
    for (const sid of [fresh.sid, reply.sid, participant.sid]) expect(taken).not.toContain(sid);
    const sourceNext = await source.client.conversations.v1.conversations.create({ friendlyName: 'after' });
    expect(sourceNext.sid).not.toBe(fresh.sid);
  });

  it('round-trips 1,000+ mixed rows: every page of every list answers byte for byte the same', async () => {
    const source = await emulator();
    const v1 = source.client.conversations.v1;
    const { accountSid, authToken } = source.emulator;
    const paths = ['/v1/Conversations?PageSize=50', '/v1/Services?PageSize=50'];
    for (let c = 0; c < 10; c++) {
      const conversation = await v1.conversations.create({ friendlyName: `bulk ${c}`, attributes: JSON.stringify({ c }) });
      await v1.conversations(conversation.sid).participants.create({ 'messagingBinding.address': `+1555000${String(1000 + c)}`, 'messagingBinding.proxyAddress': PROXY });
      await v1.conversations(conversation.sid).participants.create({ identity: `agent-${c}`, attributes: '{"role":"agent"}' });
      for (let m = 0; m < 40; m++) await v1.conversations(conversation.sid).messages.create({ author: `agent-${c}`, body: `message ${m} of ${c} é ✓` });
      paths.push(`/v1/Conversations/${conversation.sid}/Participants?PageSize=50`);
      paths.push(`/v1/Conversations/${conversation.sid}/Messages?PageSize=10`);
    }
    const snapshot = await control(source, 'GET', '/snapshot');
    const rows = Object.values(snapshot.body.tables as Record<string, unknown[]>).reduce((n, t) => n + t.length, 0);
    expect(rows).toBeGreaterThanOrEqual(1_000);
    const read = async (e: TestEmulator) => {
      const out: Record<string, string> = {};
      for (const first of paths) {
        // every page, following next_page_url: a page token or a row out of order would show here
        for (let path: string | null = first; path; ) {
          const a = await e.http('GET', path, { auth: [accountSid, authToken] });
          expect(a.status, path).toBe(200);
          out[path] = a.text;
          const next = (JSON.parse(a.text) as { meta: { next_page_url: string | null } }).meta.next_page_url;
          path = next && next.replace(/^https?:\/\/[^/]+/, '');
        }
      }
      expect(Object.keys(out)).toHaveLength(paths.length + 30); // 40 messages: 4 pages of 10 each
      return out;
    };
    const before = await read(source);
    const copy = await emulator();
    expect((await control(copy, 'PUT', '/snapshot', snapshot.text)).status).toBe(204);
    expect(await read(copy)).toEqual(before);
    expect(withoutTakenAt((await control(copy, 'GET', '/snapshot')).body)).toEqual(withoutTakenAt(snapshot.body));
  }, 120_000);

  it('takes and loads one account, leaving the others as they are', async () => {
    const e = await emulator();
    const other = (await control(e, 'POST', '/accounts', {})).body as { accountSid: string; authToken: string };
    const mine = await e.client.conversations.v1.conversations.create({ friendlyName: 'mine' });
    const theirs = await e.clientFor(other.accountSid, other.authToken).conversations.v1.conversations.create({ friendlyName: 'theirs' });
    const one = await control(e, 'GET', `/snapshot?accountSid=${other.accountSid}`);
    expect(one.body.accountSid).toBe(other.accountSid);
    expect(one.body.tables.accounts.map((a: { sid: string }) => a.sid)).toEqual([other.accountSid]);
    expect(one.body.tables.conversations.map((c: { sid: string }) => c.sid)).toEqual([theirs.sid]);
    expect(one.body.tables.handsets).toBeUndefined();

    await e.clientFor(other.accountSid, other.authToken).conversations.v1.conversations(theirs.sid).remove();
    expect((await control(e, 'PUT', '/snapshot', one.text)).status).toBe(204);
    expect((await e.clientFor(other.accountSid, other.authToken).conversations.v1.conversations(theirs.sid).fetch()).friendlyName).toBe('theirs');
    expect((await e.client.conversations.v1.conversations(mine.sid).fetch()).friendlyName).toBe('mine');
    expect((await control(e, 'GET', '/snapshot?accountSid=AC' + '0'.repeat(32))).status).toBe(404);
  });

  it('refuses a bad document with 400 and a clear message, and changes nothing', async () => {
    const e = await emulator();
    const made = await makeState(e);
    const good = (await control(e, 'GET', '/snapshot')).body;
    const before = await answers(e, made);
    const emptied = { ...good, tables: { ...good.tables, conversations: [] } };
    const refused: [unknown, RegExp][] = [
      ['{"format": "tce-snapshot", ', /JSON/i],
      [{ ...emptied, format: 'other' }, /not a tce snapshot: format must be "tce-snapshot"/],
      [{ ...emptied, version: undefined }, /has no version/],
      [{ ...emptied, version: 999 }, /snapshot version 999 is not one this tce reads \(versions 1 to 1\)/],
      [{ ...emptied, schemaVersion: 10_000 }, /taken by a newer tce/],
      [{ ...emptied, tables: { ...emptied.tables, nonsense: [] } }, /unknown table "nonsense"/],
      [{ ...emptied, tables: { ...emptied.tables, participants: [{ nope: 1 }] } }, /table participants has no column "nope"/],
      // a row SQLite refuses (a missing NOT NULL column), after other tables' rows went in: the whole load rolls back
      [{ ...emptied, tables: { ...emptied.tables, users: [{ sid: 'US' + '1'.repeat(32) }] } }, /table users row 0 cannot be loaded: NOT NULL constraint failed/],
      [{ ...emptied, clock: { mode: 'sideways', now: 'x' } }, /clock must be/],
      [{ ...emptied, webhookFaults: [{ action: { type: 'explode' } }] }, /unknown action type explode/],
    ];
    for (const [body, message] of refused) {
      const answer = await control(e, 'PUT', '/snapshot', typeof body === 'string' ? body : JSON.stringify(body));
      expect(answer.status, String(message)).toBe(400);
      expect(answer.body.message, String(message)).toMatch(message);
    }
    expect(await answers(e, made)).toEqual(before);
  });
});

describe('tce snapshot save / load, tce serve --import', () => {
  // asynchronous: the emulators it calls run in this process
  const tce = (...args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [TCE_BIN, ...args], { timeout: 20_000 });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  it('saves a running emulator to a file and loads it into another', async () => {
    const source = await emulator();
    const made = await makeState(source);
    const file = join(dir, 'saved.json');
    const saved = await tce('snapshot', 'save', file, '--url', source.emulator.url);
    expect(saved.stderr).toBe('');
    expect(saved.status).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ format: 'tce-snapshot', version: 1 });

    const copy = await emulator();
    const loaded = await tce('snapshot', 'load', file, '--url', copy.emulator.url);
    expect(loaded.stderr).toBe('');
    expect(loaded.status).toBe(0);
    expect(await answers(copy, made)).toEqual(await answers(source, made));
  });

  it('sends --control-token, and says when the emulator refuses the call', async () => {
    const guarded = await startEmulator({ controlToken: 'let-me-in' });
    open.push(guarded);
    const file = join(dir, 'guarded.json');
    const refused = await tce('snapshot', 'save', file, '--url', guarded.emulator.url);
    expect(refused.stderr).toMatch(/^tce: the emulator refused the snapshot \(401\): /);
    expect(refused.status).toBe(1);
    const saved = await tce('snapshot', 'save', file, '--url', guarded.emulator.url, '--control-token', 'let-me-in');
    expect(saved.status).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).tables.accounts[0].sid).toBe(guarded.emulator.accountSid);
    const loaded = await tce('snapshot', 'load', file, '--url', guarded.emulator.url, '--control-token', 'let-me-in');
    expect(loaded.status).toBe(0);
  });

  it('tce serve --import FILE starts with the snapshot loaded', async () => {
    const source = await emulator();
    const made = await makeState(source);
    const file = join(dir, 'imported.json');
    writeFileSync(file, (await control(source, 'GET', '/snapshot')).text);
    const served = await spawnServe(['--db', ':memory:', '--import', file, '--public-url', PUBLIC_URL]);
    try {
      // the banner's account is the snapshot's (it holds the first account)
      expect(served.output).toContain(`TWILIO_ACCOUNT_SID=${made.accountSid}`);
      const auth = `Basic ${Buffer.from(`${made.accountSid}:${made.authToken}`).toString('base64')}`;
      for (const path of made.rest) {
        const [here, there] = await Promise.all([source.http('GET', path), fetch(served.url + path, { headers: { authorization: auth } }).then((r) => r.text())]);
        expect(there, path).toBe(here.text);
      }
    } finally {
      served.child.kill('SIGTERM');
    }
    await expectNoSpawnedViolations();
  });

  it('names the file or the flag on a mistake, exit 2 and no stack', async () => {
    const e = await emulator();
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, 'nope');
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ format: 'tce-snapshot', version: 999, tables: {} }));
    const cases: [string[], RegExp][] = [
      [['snapshot', 'load', join(dir, 'missing.json'), '--url', e.emulator.url], /^tce: FILE .*missing\.json: cannot read it \(ENOENT\)\n$/],
      [['snapshot', 'load', notJson, '--url', e.emulator.url], /^tce: FILE .*not\.json: not JSON/],
      [['snapshot', 'load', wrong, '--url', e.emulator.url], /^tce: .*wrong\.json: the emulator refused it: snapshot version 999 is not one/],
      [['snapshot', 'save', join(dir, 'x.json')], /^tce: tce snapshot save needs --url/],
      [['snapshot', 'save', join(dir, 'x.json'), '--url', 'http://127.0.0.1:9'], /^tce: --url http:\/\/127\.0\.0\.1:9: no answer from the emulator/],
      [['snapshot', 'save', join(dir, 'no-such-dir', 'x.json'), '--url', e.emulator.url], /^tce: FILE .*x\.json: cannot write it \(ENOENT\)/],
      [['snapshot', 'copy', 'x'], /^tce: unknown snapshot command: copy/],
      [['serve', '--port', '0', '--db', ':memory:', '--import', wrong], /^tce: --import .*wrong\.json: the snapshot cannot be loaded: snapshot version 999/],
      [['serve', '--port', '0', '--db', ':memory:', '--import', join(dir, 'missing.json')], /^tce: --import .*missing\.json: cannot read it/],
    ];
    for (const [args, message] of cases) {
      const run = await tce(...args);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
      expect(run.status, args.join(' ')).toBe(2);
    }
  });
});
