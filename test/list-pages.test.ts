/**
 * List pages are written straight to JSON text (src/emulator/resources/list-writer.ts) from rows read as JSON
 * (Database.allColumns), while single answers still go through JSON.stringify. A listed record must be byte for
 * byte what the fetch of the same row answers, and the page exactly the text JSON.stringify writes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../src/contracts/spec.js';
import { Database } from '../src/emulator/store/database.js';
import { jsonString, jsonValue, UnusualJsonValue } from '../src/emulator/wire/json.js';
import { startEmulator, useEmulator, type TestEmulator } from './support/emulator.js';
import { buildWorld, pathOf } from './support/world.js';

const t = useEmulator({ clock: 'manual' });

/** Strings JSON has to escape, or must not: quotes, backslashes, every control character, non-ASCII. */
const TRICKY = [
  'quote " backslash \\ slash / apostrophe \'',
  Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\u007f',
  'é 中文 😀 \u2028\u2029 \ufeff',
  '</script><!-- -->',
];

/**
 * GET a list page and check it: the page is JSON.stringify's own text, and each record is exactly the fetch
 * answer of its `url`. Returns the records.
 */
async function expectListedAsFetched(e: TestEmulator, path: string, origin = e.emulator.url): Promise<Record<string, unknown>[]> {
  const page = await e.http('GET', path);
  expect(page.status, `${path}: ${page.text}`).toBe(200);
  expect(page.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(Number(page.headers.get('content-length'))).toBe(Buffer.byteLength(page.text));
  expect(JSON.stringify(page.body), path).toBe(page.text);
  const records = page.body[page.body.meta.key] as Record<string, unknown>[];
  for (const record of records) {
    if (typeof record.url !== 'string') continue;
    expect(record.url.startsWith(origin + '/v1/')).toBe(true);
    const fetched = await e.http('GET', record.url.slice(origin.length));
    expect(fetched.status).toBe(200);
    expect(JSON.stringify(record), record.url).toBe(fetched.text);
  }
  return records;
}

async function post(e: TestEmulator, path: string, form: Record<string, string | string[]>) {
  const r = await e.http('POST', path, { form });
  expect(r.status, r.text).toBeLessThan(300);
  return r.body;
}

describe('List pages written as text', () => {
  it('every list operation answers records that are byte for byte the fetch answers of the same rows', async () => {
    const world = await buildWorld(t);
    const c = world.conversation;
    await post(t, `/v1/Conversations/${c}`, { 'Timers.Inactive': 'PT5M', 'Timers.Closed': 'PT20M', 'Bindings.Email.Address': 'a@example.com' });
    await post(t, `/v1/Conversations/${c}/Participants`, { Identity: 'proj', 'MessagingBinding.ProjectedAddress': '+15005550007' });
    await post(t, `/v1/Conversations/${c}/Messages`, { MediaSid: 'ME' + 'ab'.repeat(16) });
    await post(t, `/v1/Conversations/${c}/Messages`, { ContentSid: 'HX' + '12'.repeat(16), ContentVariables: '{"1":"Ann"}' });
    await post(t, `/v1/Conversations/${c}/Webhooks`, { Target: 'studio', 'Configuration.FlowSid': 'FW' + 'cd'.repeat(16) });
    await post(t, '/v1/Configuration/Addresses', {
      Type: 'sms',
      Address: '+15005550008',
      'AutoCreation.Enabled': 'true',
      'AutoCreation.Type': 'webhook',
      'AutoCreation.WebhookUrl': 'https://example.com/auto',
    });
    let lists = 0;
    let records = 0;
    for (const op of loadManifest()) {
      if (!op.operationId.startsWith('List')) continue;
      const path = pathOf(world, op);
      const query = op.params.some((p) => p.name === 'Identity' && p.in === 'query') ? '?Identity=alice' : '';
      records += (await expectListedAsFetched(t, path + query)).length;
      lists++;
    }
    expect(lists).toBeGreaterThan(20);
    expect(records).toBeGreaterThan(40);
  });

  it('writes strings that need escaping (quotes, backslashes, controls, unicode, lone surrogates) as JSON.stringify does', async () => {
    const c = (await post(t, '/v1/Conversations', { FriendlyName: TRICKY[0], Attributes: JSON.stringify({ tricky: TRICKY }) })).sid;
    await post(t, `/v1/Conversations/${c}/Participants`, { Identity: TRICKY[0], Attributes: JSON.stringify({ k: TRICKY[1] }) });
    for (const text of TRICKY) {
      await post(t, `/v1/Conversations/${c}/Messages`, { Body: text, Author: text, Attributes: JSON.stringify({ text }) });
    }
    // a JSON body keeps lone surrogates (a form body cannot carry them)
    const lone = await t.http('POST', `/v1/Conversations/${c}/Messages`, {
      contentType: 'application/json',
      body: JSON.stringify({ Body: 'lone \ud800 high, \udc00 low, pair \ud83d\ude00, end \ud83d', Author: 'x\udfff' }),
    });
    expect(lone.status, lone.text).toBe(201);

    const messages = await expectListedAsFetched(t, `/v1/Conversations/${c}/Messages`);
    expect(messages.map((m) => m.body).slice(0, TRICKY.length)).toEqual(TRICKY);
    expect(messages.map((m) => m.author).slice(0, TRICKY.length)).toEqual(TRICKY);
    expect(messages.map((m) => JSON.parse(m.attributes as string).text).slice(0, TRICKY.length)).toEqual(TRICKY);
    // (stored text cannot hold a lone surrogate: reads give U+FFFD, list and fetch alike)
    expect(messages[TRICKY.length].body).toMatch(/^lone \ufffd+ high, \ufffd+ low, pair 😀, end \ufffd+$/);
    const [conversation] = await expectListedAsFetched(t, `/v1/Conversations?PageSize=1`);
    expect(conversation.friendly_name).toBe(TRICKY[0]);
    await expectListedAsFetched(t, `/v1/Conversations/${c}/Participants`);
    await expectListedAsFetched(t, `/v1/Services/${t.emulator.defaultServiceSid}/Conversations/${c}/Messages?Order=desc&PageSize=2`);
  });

  it('pages through a conversation in both directions with every page as fetched', async () => {
    const c = (await post(t, '/v1/Conversations', { FriendlyName: 'pages' })).sid;
    for (let i = 0; i < 7; i++) await post(t, `/v1/Conversations/${c}/Messages`, { Body: `m${i}` });
    const seen: string[] = [];
    let path: string | null = `/v1/Conversations/${c}/Messages?PageSize=3`;
    let last = '';
    while (path) {
      last = path;
      seen.push(...(await expectListedAsFetched(t, path)).map((m) => m.body as string));
      const next: string | null = (await t.http('GET', path)).body.meta.next_page_url;
      path = next ? next.slice(t.emulator.url.length) : null;
    }
    expect(seen).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    const previous = (await t.http('GET', last)).body.meta.previous_page_url as string;
    const back = await expectListedAsFetched(t, previous.slice(t.emulator.url.length));
    expect(back.map((m) => m.body)).toEqual(['m3', 'm4', 'm5']);
  });

  it('with a custom public URL, list pages still validate and match the fetches', async () => {
    const publicUrl = 'https://conversations.example.com/tce';
    const e = await startEmulator({ publicUrl });
    try {
      const c = (await post(e, '/v1/Conversations', { FriendlyName: 'public' })).sid;
      await post(e, `/v1/Conversations/${c}/Messages`, { Body: 'hi "there"' });
      await post(e, `/v1/Conversations/${c}/Participants`, { Identity: 'bob' });
      const [message] = await expectListedAsFetched(e, `/v1/Conversations/${c}/Messages`, publicUrl);
      expect(message.url).toBe(`${publicUrl}/v1/Conversations/${c}/Messages/${String(message.sid)}`);
      expect(message.links).toEqual({ delivery_receipts: `${message.url}/Receipts`, channel_metadata: `${message.url}/ChannelMetadata` });
      await expectListedAsFetched(e, `/v1/Conversations/${c}/Participants`, publicUrl);
      await expectListedAsFetched(e, `/v1/Services/${e.emulator.defaultServiceSid}/Conversations`, publicUrl);
      expect(e.violations).toEqual([]);
    } finally {
      await e.emulator.close();
    }
  });

  it('escapes a public URL that JSON must escape, in url and links, as JSON.stringify does', async () => {
    const publicUrl = 'https://h.example/a"b\\c';
    const { emulator, violations } = await startEmulator({ db: ':memory:', publicUrl });
    try {
      const authorization = `Basic ${Buffer.from(`${emulator.accountSid}:${emulator.authToken}`).toString('base64')}`;
      const call = async (method: string, path: string, form?: Record<string, string>) => {
        const r = await fetch(emulator.url + path, {
          method,
          headers: { authorization, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
          body: form ? new URLSearchParams(form).toString() : undefined,
        });
        return r.text();
      };
      const c = JSON.parse(await call('POST', '/v1/Conversations', { FriendlyName: 'escaped' })).sid as string;
      const created = JSON.parse(await call('POST', `/v1/Conversations/${c}/Messages`, { Body: 'x' }));
      const text = await call('GET', `/v1/Conversations/${c}/Messages`);
      const page = JSON.parse(text);
      expect(JSON.stringify(page)).toBe(text);
      expect(page.messages[0].url).toBe(`${publicUrl}/v1/Conversations/${c}/Messages/${created.sid}`);
      expect(JSON.stringify(page.messages[0])).toBe(await call('GET', `/v1/Conversations/${c}/Messages/${created.sid}`));
      const conversations = await call('GET', '/v1/Conversations');
      expect(JSON.stringify(JSON.parse(conversations).conversations[0])).toBe(await call('GET', `/v1/Conversations/${c}`));
      // `"` and `\` make no valid URI: the answers break their `format: "uri"` fields, and nothing else
      const errors = violations.splice(0).flatMap((v) => v.errors);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.filter((e) => !/^\/\S*(url|links\/\w+) must match format "uri"$/.test(e))).toEqual([]);
    } finally {
      await emulator.close();
    }
  });
});

describe('JSON text of single values (wire/json.ts)', () => {
  it('writes any string exactly as JSON.stringify does, lone surrogates included', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.constantFrom(...TRICKY)), (s) => {
      expect(jsonString(s)).toBe(JSON.stringify(s));
      expect(jsonValue(s)).toBe(JSON.stringify(s));
    }), { numRuns: 2000 });
  });

  it('writes JSON data as JSON.stringify does, undefined as null, and refuses values whose JSON depends on context', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => jsonValue(v) === JSON.stringify(v)), { numRuns: 1000 });
    expect([undefined, null, NaN, Infinity, -0, 1.5, true].map(jsonValue)).toEqual(['null', 'null', 'null', 'null', '0', '1.5', 'true']);
    for (const unusual of [() => 1, Symbol('s'), 1n, new Date(0)]) expect(() => jsonValue(unusual)).toThrow(UnusualJsonValue);
  });
});

describe('Rows read as JSON (Database.allColumns)', () => {
  it('gives the values a plain read gives, plus the fixed columns; a BLOB falls back to a plain read', () => {
    const db = new Database(':memory:');
    try {
      db.raw.exec('CREATE TABLE t (seq INTEGER PRIMARY KEY, k TEXT NOT NULL, a TEXT, b INTEGER)');
      const texts = ['', ...TRICKY, '\u0000nul\u0000', 'lone \ud800 x \udc00 end \ud83d', 'x'.repeat(5000), null];
      const numbers = [0, -1, 2 ** 53 - 1, 2 ** 53 + 1, 9007199254740993n, -(2n ** 63n), 2n ** 63n - 1n, 1.5, 0.1 + 0.2, 1e308, Infinity, -Infinity, 5e-324, null];
      const insert = db.raw.prepare('INSERT INTO t (k, a, b) VALUES (?, ?, ?)');
      for (const a of texts) for (const b of numbers) insert.run('k', a, b);
      const plain = db.all('SELECT a, b FROM t WHERE k = ? ORDER BY seq', 'k');
      const packed = db.allColumns(['a', 'b'], 'FROM t WHERE k = ? ORDER BY seq', { names: ['k'], values: ['k'] }, 'k');
      expect(packed).toEqual(plain.map((row) => ({ ...row, k: 'k' })));
      expect(packed.length).toBe(texts.length * numbers.length);

      insert.run('blob', Buffer.from([1, 2]), 3);
      expect(db.allColumns(['a', 'b'], 'FROM t WHERE k = ?', { names: ['k'], values: ['blob'] }, 'blob')).toEqual([
        { a: Buffer.from([1, 2]), b: 3, k: 'blob' },
      ]);
    } finally {
      db.close();
    }
  });
});
