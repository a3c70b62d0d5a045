/**
 * The contract drift alarm: a session recorded through the official twilio SDK (Recorder) replays against a fresh
 * emulator with zero differences; differences planted in a copy are each reported, precisely; the sanitizer keeps
 * no secret; a bad recording gets one clear line.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Recorder } from '../src/client.js';
import { RECORDING_FILE, type Recording, type RestEntry } from '../src/contracts/recording.js';
import { sanitize, sanitizeHeaders, sanitizePairs } from '../src/contracts/sanitize.js';
import { compareAnswer } from '../src/contracts/drift.js';
import { startEmulator } from './support/emulator.js';
import { startReceiver, type Received } from './support/webhook-receiver.js';
import { expectNoSpawnedViolations, killSpawned, spawnServe, TCE_BIN } from './support/spawned.js';

const CH_A = `CH${'a'.repeat(32)}`;
const CH_B = `CH${'b'.repeat(32)}`;
const MB = `MB${'1'.repeat(32)}`;

describe('sanitize', () => {
  it('maps SIDs to stable placeholders, one numbering per prefix, the same SID the same placeholder', () => {
    const first = sanitize({ sid: CH_A, url: `https://x/v1/Conversations/${CH_A}/Messages/${MB}`, other: CH_B }, {});
    expect(first.value).toEqual({ sid: '{CH1}', url: 'https://x/v1/Conversations/{CH1}/Messages/{MB1}', other: '{CH2}' });
    // the map goes on: a later value reuses the placeholders; the input map is not touched (pure)
    const before = { ...first.sids };
    const second = sanitize([CH_B, CH_A, `IS${'c'.repeat(32)}`], first.sids);
    expect(second.value).toEqual(['{CH2}', '{CH1}', '{IS1}']);
    expect(first.sids).toEqual(before);
    // not a SID: wrong length, or part of a longer word
    expect(sanitize(`CH${'a'.repeat(31)} xCH${'a'.repeat(32)}`, {}).value).toBe(`CH${'a'.repeat(31)} xCH${'a'.repeat(32)}`);
  });

  it('shapes dates by format class when asked, never request values', () => {
    const dates = { a: '2026-12-01T11:00:00Z', b: '2026-12-01T11:00:00.123Z', c: 'Tue, 01 Dec 2026 11:00:00 +0000', d: '2026-12-01' };
    expect(sanitize(dates, {}, { shapeDates: true }).value).toEqual({ a: '{date:iso8601}', b: '{date:iso8601-ms}', c: '{date:rfc2822}', d: '2026-12-01' });
    expect(sanitize(dates, {}).value).toEqual(dates);
  });

  it('redacts secrets anywhere, credential-named params, page tokens; drops signatures and Authorization', () => {
    const secret = 'sUp3rS3cretT0ken';
    expect(sanitize({ note: `token is ${secret}!` }, {}, { secrets: [secret] }).value).toEqual({ note: 'token is {redacted}!' });
    const pairs = sanitizePairs([['Secret', 'x'], ['PrivateKey', 'k'], ['PageToken', `PA${CH_A}`], ['ConversationSid', CH_A], ['Author', 'alice'], ['Body', 'hi']], {});
    expect(pairs.value).toEqual([['Secret', '{redacted}'], ['PrivateKey', '{redacted}'], ['PageToken', '{PageToken}'], ['ConversationSid', '{CH1}'], ['Author', 'alice'], ['Body', 'hi']]);
    expect(sanitize(`/v1/Conversations?PageSize=2&PageToken=PA${CH_A}&Page=1`, {}).value).toBe('/v1/Conversations?PageSize=2&PageToken={PageToken}&Page=1');
    const headers = sanitizeHeaders({ Authorization: 'Basic abc', 'X-Twilio-Signature': 'sig', 'I-Twilio-Idempotency-Token': 'tok', 'X-Api-Key': 'k', 'Content-Type': 'text/plain' }, {});
    expect(headers.value).toEqual({ 'i-twilio-idempotency-token': '{idempotency-token}', 'content-type': 'text/plain' });
  });
});

describe('compareAnswer', () => {
  it('reports status, error code, missing and extra fields, types, enums; binds placeholders', () => {
    const bindings = new Map<string, string>();
    const schema = { properties: { state: { type: 'string', enum: ['active', 'inactive', 'closed'] } } };
    const recorded = { status: 200, body: { sid: '{CH1}', state: 'active', n: 1, gone: 'x', at: '{date:iso8601}' } };
    const actual = { status: 200, body: { sid: CH_A, state: 'closed', n: '1', added: true, at: 'Tue, 01 Dec 2026 11:00:00 +0000' } };
    expect(compareAnswer(recorded, actual, schema, bindings)).toEqual([
      'field state: "active" ≠ "closed"',
      'field n: type number ≠ string',
      'field gone missing',
      'field at: {date:iso8601} ≠ {date:rfc2822}',
      'field added extra',
    ]);
    expect(bindings.get('{CH1}')).toBe(CH_A);
    expect(compareAnswer({ status: 200, body: { sid: '{CH1}' } }, { status: 200, body: { sid: CH_B } }, undefined, bindings)).toEqual([
      `field sid: {CH1} (${CH_A}) ≠ ${CH_B}: refers to another resource`,
    ]);
    expect(compareAnswer({ status: 409, body: { code: 50353 } }, { status: 400, body: { code: 50300 } }, undefined, bindings)).toEqual([
      'status 409 ≠ 400',
      'error code 50353 ≠ 50300',
    ]);
  });
});

describe('tce contracts diff', () => {
  const root = mkdtempSync(join(tmpdir(), 'tce-diff-'));
  const good = join(root, 'good');
  let recording: Recording;
  let text: string;
  let secrets: string[] = [];
  let hooks: Received[] = [];

  beforeAll(async () => {
    const t = await startEmulator();
    const rx = await startReceiver(() => t.emulator.authToken);
    try {
      const { accountSid, authToken } = t.emulator;
      const key = t.emulator.control.createApiKey(accountSid);
      secrets = [authToken, key.secret];
      const recorder = new Recorder({ accountSid });
      // two clients on one recorder: the auth token and an API key (both secrets must stay out of the files)
      const viaToken = twilio(accountSid, authToken, { httpClient: recorder.httpClient({ baseUrl: t.emulator.url }) }).conversations.v1;
      const viaKey = twilio(key.sid, key.secret, { accountSid, httpClient: recorder.httpClient({ baseUrl: t.emulator.url }) });
      const v1 = viaKey.conversations.v1;
      const c = await viaToken.conversations.create({ friendlyName: 'drift', uniqueName: 'drift-1' });
      await v1.services(c.chatServiceSid).configuration.webhooks().update({ postWebhookUrl: rx.url(), filters: ['onMessageAdded'], method: 'POST' });
      await expect(v1.conversations.create({ uniqueName: 'drift-1' })).rejects.toMatchObject({ status: 409, code: 50353 });
      await v1.conversations(c.sid).participants.create({ identity: 'alice' });
      await v1.conversations(c.sid).participants.create({ 'messagingBinding.address': '+15551230001', 'messagingBinding.proxyAddress': '+15559870001' });
      const sent = [];
      for (const body of ['one', 'two', 'three']) sent.push(await v1.conversations(c.sid).messages.create({ author: 'alice', body, xTwilioWebhookEnabled: 'true' }));
      expect(await v1.conversations(c.sid).messages.list({ pageSize: 2 })).toHaveLength(3);
      await v1.conversations(c.sid).fetch();
      await v1.conversations(c.sid).update({ state: 'inactive' });
      await v1.conversations(c.sid).messages(sent[0].sid).remove();
      await expect(v1.conversations(`CH${'0'.repeat(32)}`).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
      // the 2010 Messages API: the account in the path, RFC 2822 dates
      await viaKey.messages.create({ to: '+15551230002', from: '+15559870001', body: 'plain SMS' });
      for (let i = 0; i < 200 && rx.requests.length < 3; i++) await new Promise((r) => setTimeout(r, 25));
      hooks = [...rx.requests];
      expect(hooks).toHaveLength(3);
      for (const r of hooks) recorder.recordWebhook({ method: r.method, url: r.fullUrl, headers: r.headers, body: r.body });
      recorder.save(good);
    } finally {
      await rx.close();
      await t.emulator.close();
    }
    text = readFileSync(join(good, RECORDING_FILE), 'utf8');
    recording = JSON.parse(text) as Recording;
  });

  afterEach(expectNoSpawnedViolations);
  afterAll(() => {
    killSpawned();
    rmSync(root, { recursive: true, force: true });
  });

  const diff = (...args: string[]) => spawnSync(process.execPath, [TCE_BIN, 'contracts', 'diff', ...args], { encoding: 'utf8', timeout: 60_000 });
  const rest = (r: Recording) => r.entries.filter((e): e is RestEntry => e.kind === 'rest');
  const find = (r: Recording, method: string, path: RegExp, status?: number) => {
    const e = rest(r).find((x) => x.method === method && path.test(x.path) && (status === undefined || x.status === status));
    if (!e) throw new Error(`no ${method} ${path} in the recording`);
    return e;
  };
  /** a copy of the good recording, altered */
  const planted = (name: string, alter: (r: Recording) => void) => {
    const copy = structuredClone(recording);
    alter(copy);
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, RECORDING_FILE), JSON.stringify(copy));
    return dir;
  };

  it('records every exchange and webhook in order, sanitized: placeholders, date shapes, no secret anywhere', () => {
    expect(recording).toMatchObject({ format: 'tce-recording', version: 1, account: '{AC1}' });
    const kinds = recording.entries.map((e) => (e.kind === 'rest' ? `${e.method} ${e.path} ${e.status}` : `webhook ${e.eventType}`));
    expect(kinds).toEqual([
      'POST /v1/Conversations 201',
      'POST /v1/Services/{IS1}/Configuration/Webhooks 200',
      'POST /v1/Conversations 409',
      'POST /v1/Conversations/{CH1}/Participants 201',
      'POST /v1/Conversations/{CH1}/Participants 201',
      'POST /v1/Conversations/{CH1}/Messages 201',
      'POST /v1/Conversations/{CH1}/Messages 201',
      'POST /v1/Conversations/{CH1}/Messages 201',
      'GET /v1/Conversations/{CH1}/Messages 200',
      'GET /v1/Conversations/{CH1}/Messages 200',
      'GET /v1/Conversations/{CH1} 200',
      'POST /v1/Conversations/{CH1} 200',
      'DELETE /v1/Conversations/{CH1}/Messages/{IM1} 204',
      'GET /v1/Conversations/{CH2} 404',
      'POST /2010-04-01/Accounts/{AC1}/Messages.json 201',
      'webhook onMessageAdded',
      'webhook onMessageAdded',
      'webhook onMessageAdded',
    ]);
    const create = recording.entries[0] as RestEntry;
    expect(create.form).toEqual([['FriendlyName', 'drift'], ['UniqueName', 'drift-1']]);
    expect(create.body).toMatchObject({ sid: '{CH1}', account_sid: '{AC1}', chat_service_sid: '{IS1}', date_created: '{date:iso8601}', state: 'active' });
    const page2 = recording.entries[9] as RestEntry;
    expect(page2.follow).toEqual({ n: 9, link: 'meta.next_page_url' });
    expect(page2.query).toContainEqual(['PageToken', '{PageToken}']);
    const hook = recording.entries[15];
    expect(recording.entries[14]).toMatchObject({ host: 'api.twilio.com', body: { account_sid: '{AC1}', sid: '{SM1}', date_created: '{date:rfc2822}' } });
    expect(hook).toMatchObject({ kind: 'webhook', method: 'POST', path: '/hook', headers: { 'i-twilio-idempotency-token': '{idempotency-token}' } });
    expect(hook.kind === 'webhook' && hook.params).toContainEqual(['ConversationSid', '{CH1}']);
    expect(hook.kind === 'webhook' && hook.params).toContainEqual(['DateCreated', '{date:iso8601-ms}']);
    // nothing that authenticates: tokens, API secret, signatures, Authorization, or a real SID
    for (const secret of [...secrets, ...hooks.map((h) => h.signature as string)]) expect(text).not.toContain(secret);
    expect(hooks.every((h) => h.signature)).toBe(true);
    expect(text).not.toMatch(/authorization|x-twilio-signature|Basic /i);
    expect(text).not.toMatch(/[A-Z]{2}[0-9a-f]{32}/);
  });

  it('reports zero differences for a recording of the emulator itself, and exits 0', () => {
    const run = diff(good);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`${good}: 15 exchanges replayed, 3 webhook entries not replayed: no differences\n`);
    expect(run.status).toBe(0);
  });

  it('replays against a running tce serve (--emulator-url), on a fresh account of its own', async () => {
    const served = await spawnServe(['--db', ':memory:']);
    try {
      const run = diff(good, '--emulator-url', served.url);
      expect(run.stdout).toContain('15 exchanges replayed, 3 webhook entries not replayed: no differences');
      expect(run.status).toBe(0);
    } finally {
      served.child.kill('SIGTERM');
    }
  });

  it('reports each planted difference precisely, and exits 1', () => {
    const dir = planted('planted', (r) => {
      find(r, 'DELETE', /Messages/).status = 200; // a status
      const fetched = find(r, 'GET', /^\/v1\/Conversations\/\{CH1\}$/).body as Record<string, any>;
      delete fetched.links.participants; // a field removed: the emulator's answer has it
      fetched.links.transcripts = 'https://x'; // a field the emulator lacks
      (find(r, 'POST', /^\/v1\/Conversations$/, 201).body as Record<string, unknown>).friendly_name = 42; // a type
      (find(r, 'POST', /^\/v1\/Conversations\/\{CH1\}$/).body as Record<string, unknown>).state = 'closed'; // an enum value
      (find(r, 'POST', /^\/v1\/Conversations$/, 409).body as Record<string, unknown>).code = 50300; // an error code
      (find(r, 'POST', /Participants/).body as Record<string, unknown>).date_created = '{date:rfc2822}'; // a date format
    });
    const run = diff(dir);
    expect(run.stdout.trim().split('\n')).toEqual([
      '#1 POST /v1/Conversations: field friendly_name: type number ≠ string',
      '#3 POST /v1/Conversations: error code 50300 ≠ 50353',
      '#4 POST /v1/Conversations/{CH1}/Participants: field date_created: {date:rfc2822} ≠ {date:iso8601}',
      '#11 GET /v1/Conversations/{CH1}: field links.transcripts missing',
      '#11 GET /v1/Conversations/{CH1}: field links.participants extra',
      '#12 POST /v1/Conversations/{CH1}: field state: "closed" ≠ "inactive"',
      '#13 DELETE /v1/Conversations/{CH1}/Messages/{IM1}: status 200 ≠ 204',
      `${dir}: 15 exchanges replayed, 3 webhook entries not replayed: 7 differences`,
    ]);
    expect(run.status).toBe(1);
  });

  it('a changed status is one difference: the error body it came with is not compared field by field', () => {
    const dir = planted('status', (r) => {
      find(r, 'POST', /^\/v1\/Conversations$/, 409).status = 201;
    });
    const run = diff(dir);
    expect(run.stdout).toContain('#3 POST /v1/Conversations: status 201 ≠ 409\n');
    expect(run.stdout).toContain('1 difference\n');
    expect(run.status).toBe(1);
  });

  it('a bad directory or file gets one line naming it, no stack, exit 1', () => {
    const cases: [string, RegExp][] = [];
    const missing = join(root, 'nowhere');
    cases.push([missing, new RegExp(`^tce: ${missing}: no such directory\n$`)]);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    cases.push([empty, /^tce: .*empty\/recording\.json: missing \(a recording is a directory holding recording\.json\)\n$/]);
    const notJson = join(root, 'not-json');
    mkdirSync(notJson);
    writeFileSync(join(notJson, RECORDING_FILE), '{"format": "tce-recording",');
    cases.push([notJson, /^tce: .*not-json\/recording\.json: not JSON \(.+\)\n$/]);
    const badEntry = planted('bad-entry', (r) => {
      (r.entries[2] as unknown as Record<string, unknown>).status = 'teapot';
    });
    cases.push([badEntry, /^tce: .*bad-entry\/recording\.json: entry 3: "status" must be an HTTP status code\n$/]);
    const badVersion = join(root, 'v2');
    cpSync(good, badVersion, { recursive: true });
    writeFileSync(join(badVersion, RECORDING_FILE), JSON.stringify({ ...recording, version: 2 }));
    cases.push([badVersion, /^tce: .*v2\/recording\.json: "version" must be 1, got 2\n$/]);
    for (const [dir, message] of cases) {
      const run = diff(dir);
      expect(run.stderr, dir).toMatch(message);
      expect(run.stdout).toBe('');
      expect(run.status).toBe(1);
    }
    const usage = diff();
    expect(usage.stderr).toBe('tce: tce contracts diff needs one recording directory: tce contracts diff DIR [--emulator-url URL]\n');
    expect(usage.status).toBe(1);
  });
});
