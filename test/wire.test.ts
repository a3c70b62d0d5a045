/**
 * The wire helpers (src/emulator/wire/: SIDs, dates, page meta, projections; http/form.ts) on their own: the REST
 * suites reach them with the values a test happens to produce, these pin the corners (cached dates alternating
 * between seconds, every duration and date-time form Twilio takes, first/previous/next page URLs, repeated form
 * keys) that a one-line bug could change unseen.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoMillis, isoSeconds, parseDateTime, parseDuration } from '../src/emulator/wire/dates.js';
import { isPlainJsonText } from '../src/emulator/wire/json.js';
import { pageMeta, type PageLinks } from '../src/emulator/wire/page.js';
import { projection } from '../src/emulator/wire/projection.js';
import { isSid, newSid, SID_PATTERN } from '../src/emulator/wire/sid.js';
import { createRandom } from '../src/emulator/random.js';
import { ISO_SECONDS } from './support/spec.js';
import { startEmulator } from './support/emulator.js';

const HEX32 = '0123456789abcdef'.repeat(2);

describe('SIDs (wire/sid.ts)', () => {
  it('newSid is the prefix and 32 lowercase hex characters, repeatable with a seed', () => {
    const a = createRandom('sid');
    const b = createRandom('sid');
    const sids = Array.from({ length: 50 }, () => newSid('CH', a));
    expect(sids.every((s) => /^CH[0-9a-f]{32}$/.test(s))).toBe(true);
    expect(new Set(sids).size).toBe(50);
    expect(Array.from({ length: 50 }, () => newSid('CH', b))).toEqual(sids);
  });

  it('isSid takes two capitals and 32 hex digits, checking the prefix when one is given', () => {
    expect(isSid(`CH${HEX32}`)).toBe(true);
    expect(isSid(`CH${HEX32.toUpperCase()}`)).toBe(true);
    expect(isSid(`CH${HEX32}`, 'CH')).toBe(true);
    expect(isSid(`CH${HEX32}`, 'IM')).toBe(false);
    expect(isSid(`ch${HEX32}`)).toBe(false);
    expect(isSid(`CH${HEX32.slice(1)}`)).toBe(false);
    expect(isSid(`CH${HEX32}0`)).toBe(false);
    expect(isSid(`CH${HEX32.slice(1)}g`)).toBe(false);
    expect(isSid(`C1${HEX32}`)).toBe(false);
    expect(isSid('')).toBe(false);
    expect(SID_PATTERN.test(`x CH${HEX32}`)).toBe(false);
    expect(SID_PATTERN.test(`CH${HEX32}\n`)).toBe(false);
  });
});

describe('dates (wire/dates.ts)', () => {
  const expectedSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19) + 'Z';

  it('isoSeconds writes UTC to the second, whatever order the seconds come in (its two-entry cache)', () => {
    const base = Date.UTC(2026, 0, 2, 3, 4, 5);
    // alternating between two seconds, then a third, then back: every cache slot is hit and replaced
    const sequence = [0, 999, 1000, 0, 1500, 2000, 0, 1000, 2999, 0, 0].map((d) => base + d);
    expect(sequence.map(isoSeconds)).toEqual(sequence.map(expectedSeconds));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4_102_444_800_000 }), { maxLength: 20 }), fc.array(fc.nat(3), { maxLength: 40 }), (pool, picks) => {
        const values = pool.length ? picks.map((i) => pool[i % pool.length]) : [];
        for (const ms of values) expect(isoSeconds(ms)).toBe(expectedSeconds(ms));
      }),
    );
    expect(isoSeconds(base + 999)).toMatch(ISO_SECONDS);
  });

  it('isoMillis writes UTC to the millisecond, repeated or not', () => {
    for (const ms of [0, 1, 1, 1_700_000_000_123, 1_700_000_000_123, 1_700_000_000_124, 0]) expect(isoMillis(ms)).toBe(new Date(ms).toISOString());
  });

  it('parseDateTime takes a date, a date and time, seconds, fractions and zones', () => {
    expect(parseDateTime('2026-01-02')).toBe(Date.UTC(2026, 0, 2));
    expect(parseDateTime('2026-01-02T03:04:05Z')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(parseDateTime('2026-01-02T03:04:05.250Z')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 250));
    expect(parseDateTime('2026-01-02T03:04:05+01:00')).toBe(Date.UTC(2026, 0, 2, 2, 4, 5));
    expect(parseDateTime('2026-01-02T03:04:05-0130')).toBe(Date.UTC(2026, 0, 2, 4, 34, 5));
    expect(parseDateTime('2026-01-02T03:04Z')).toBe(Date.UTC(2026, 0, 2, 3, 4));
    expect(parseDateTime('2026-01-02 03:04:05Z')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(parseDateTime('2026-01-02T03:04:05')).toBeTypeOf('number');
  });

  it('parseDateTime refuses what is not one, and the forms only Date.parse would take', () => {
    for (const bad of ['12026-01-02', '2026-01-02 ', '2026-01-02 03:04 GMT', 'Sat 2026-01-02', '', 'yesterday', '2026-1-02', '2026-01-02T', '2026-01-02T03', '2026-01-02T03:04:05Zjunk', 'x2026-01-02', '2026-13-01', '2026-01-02T25:00:00Z', '20260102', '2026-01-02T03:04:05.Z']) {
      expect(parseDateTime(bad), bad).toBeUndefined();
    }
  });

  it('parseDuration reads weeks, days, hours, minutes and (fractional) seconds', () => {
    const cases: [string, number][] = [
      ['PT1M', 60_000],
      ['PT90S', 90_000],
      ['PT1.5S', 1_500],
      ['PT0.0004S', 0],
      ['P1DT2H', 93_600_000],
      ['P2W', 1_209_600_000],
      ['P1W1DT1H1M1S', 694_861_000],
      ['PT0S', 0],
      ['P1D', 86_400_000],
      ['P10W', 6_048_000_000],
      ['P12D', 1_036_800_000],
      ['PT36H', 129_600_000],
      ['PT10M', 600_000],
      ['PT15S', 15_000],
    ];
    for (const [text, ms] of cases) expect(parseDuration(text), text).toBe(ms);
  });

  it('parseDuration refuses years, months, an empty P or T, and what is not a duration', () => {
    for (const bad of ['', 'P', 'PT', 'P1DT', 'P1Y', 'P1M', 'PT1Y', '1M', 'pt1m', 'PT1M ', ' PT1M', 'PT-1S', 'PT1.S', 'P1H', 'PT1D']) {
      expect(parseDuration(bad), bad).toBeUndefined();
    }
  });
});

describe('page meta (wire/page.ts)', () => {
  const links = (o: Partial<PageLinks> = {}): PageLinks => ({
    listUrl: 'https://conversations.twilio.com/v1/Conversations',
    filters: [['State', 'active'], ['Author', 'a b']],
    pageSize: 2,
    page: 3,
    key: 'conversations',
    ...o,
  });

  it('echoes the filters first, then PageSize, Page and the page token; first page has no token', () => {
    expect(pageMeta(links({ token: 'PTcur', nextToken: 'PTnext', previousToken: 'PTprev' }))).toEqual({
      page: 3,
      page_size: 2,
      first_page_url: 'https://conversations.twilio.com/v1/Conversations?State=active&Author=a+b&PageSize=2&Page=0',
      previous_page_url: 'https://conversations.twilio.com/v1/Conversations?State=active&Author=a+b&PageSize=2&Page=2&PageToken=PTprev',
      url: 'https://conversations.twilio.com/v1/Conversations?State=active&Author=a+b&PageSize=2&Page=3&PageToken=PTcur',
      next_page_url: 'https://conversations.twilio.com/v1/Conversations?State=active&Author=a+b&PageSize=2&Page=4&PageToken=PTnext',
      key: 'conversations',
    });
  });

  it('has null previous and next URLs without their tokens, and never a negative page', () => {
    const meta = pageMeta(links({ page: 0, filters: [] }));
    expect(meta.previous_page_url).toBeNull();
    expect(meta.next_page_url).toBeNull();
    expect(meta.url).toBe('https://conversations.twilio.com/v1/Conversations?PageSize=2&Page=0');
    expect(meta.first_page_url).toBe(meta.url);
    expect(pageMeta(links({ page: 0, previousToken: 'PTp' })).previous_page_url).toMatch(/&Page=0&PageToken=PTp$/);
  });
});

describe('projection (wire/projection.ts)', () => {
  it('lists the properties in the order given, missing or undefined ones as null, and nothing else', () => {
    const project = projection(['sid', 'friendly_name', 'attributes', 'index']);
    const out = project({ index: 0, sid: 'CH1', extra: 'dropped', friendly_name: undefined, attributes: '' });
    expect(Object.keys(out)).toEqual(['sid', 'friendly_name', 'attributes', 'index']);
    expect(out).toEqual({ sid: 'CH1', friendly_name: null, attributes: '', index: 0 });
    expect(JSON.stringify(project({ sid: false }))).toBe('{"sid":false,"friendly_name":null,"attributes":null,"index":null}');
  });

  it('is compiled once per property list', () => {
    expect(projection(['a', 'b'])).toBe(projection(['a', 'b']));
    expect(projection(['a', 'b'])).not.toBe(projection(['b', 'a']));
    // lists that join to the same text are still different lists
    expect(Object.keys(projection(['ab', 'c'])({}))).toEqual(['ab', 'c']);
    expect(Object.keys(projection(['a', 'bc'])({}))).toEqual(['a', 'bc']);
  });

  it('takes property names no object literal can hold by name', () => {
    const names = ['__proto__', 'constructor', 'a"b', 'x\\y'];
    const out = projection(names)({ constructor: 1, 'a"b': 2, 'x\\y': undefined });
    expect(out.constructor).toBe(1);
    expect(out['a"b']).toBe(2);
    expect(out['x\\y']).toBeNull();
    const quoted = projection(['a"b', 'x\\y'])({ 'a"b': 2 });
    expect(quoted).toEqual({ 'a"b': 2, 'x\\y': null });
  });
});

describe('JSON text (wire/json.ts)', () => {
  it('isPlainJsonText: text JSON writes between quotes unchanged (any surrogate goes the JSON.stringify way)', () => {
    for (const plain of ['', 'CH0123', 'https://h/v1?a=b&c=d', 'héllo', '\u007f']) expect(isPlainJsonText(plain), plain).toBe(true);
    for (const escaped of ['a"b', 'a\\b', 'line\nbreak', '\u0000', '\ud800', '\udfff', '😀']) expect(isPlainJsonText(escaped), escaped).toBe(false);
  });
});

describe('form bodies (@fastify/formbody), over HTTP', () => {
  it('repeated keys arrive as arrays in order, dotted names literal, + and %XX decoded, __proto__ a plain field', async () => {
    const t = await startEmulator();
    try {
      const form = (body: string) => ({ body, contentType: 'application/x-www-form-urlencoded' });
      const role = await t.http('POST', '/v1/Roles', form('FriendlyName=r1&Type=conversation&Permission=sendMessage&Permission=leaveConversation&Permission=editOwnMessage'));
      expect(role.status).toBe(201);
      expect(role.body.permissions).toEqual(['sendMessage', 'leaveConversation', 'editOwnMessage']);
      const conversation = await t.http('POST', '/v1/Conversations', form('FriendlyName=a+b%26c%E2%9C%93&Timers.Inactive=PT1M&__proto__=x'));
      expect(conversation.status).toBe(201);
      expect(conversation.body.friendly_name).toBe('a b&c✓');
      expect(conversation.body.timers.date_inactive).toEqual(expect.any(String));
    } finally {
      await t.emulator.close();
    }
  });
});
