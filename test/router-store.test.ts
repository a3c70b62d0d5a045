/**
 * The store contract: the same tests against every EventStore (SQLite file, SQLite :memory:, PostgreSQL) and every
 * KeyValueStore (SQLite, PostgreSQL, Redis). PostgreSQL and Redis run when TCE_TEST_DATABASE_URL /
 * TCE_TEST_REDIS_URL are set (test/support/router-stores.ts).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IncomingEvent } from '../src/router/events.js';
import { pino } from 'pino';
import { openStores } from '../src/router/store/open-stores.js';
import { Worker } from '../src/router/worker/worker.js';
import { SqliteEventStore } from '../src/router/store/sqlite-event-store.js';
import { AUTOVACUUM_OFF, COMPLETE, COMPLETE_MANY, PostgresEventStore } from '../src/router/store/postgres-event-store.js';
import { MIGRATIONS } from '../src/router/store/postgres-migrations.js';
import pg from 'pg';
import { CONVERSATION_KIND, type EntityDoc, type EventStore, type KeyValueStore } from '../src/router/store/types.js';
import {
  eventStoreBackends,
  kvBackends,
  autovacuumOff,
  testDatabaseUrl,
  testRedisUrl,
  testSchema,
  testSqliteFile,
  type OpenedStore,
} from './support/router-stores.js';

const run = randomBytes(3).toString('hex');
let counter = 0;
function event(partitionKey: string, overrides: Partial<IncomingEvent> = {}): IncomingEvent {
  counter++;
  return {
    source: 'conversations',
    eventType: 'onMessageAdded',
    dedupeKey: `key-${run}-${counter}`,
    partitionKey,
    params: { ConversationSid: partitionKey, Body: `body ${counter}`, Attributes: '{"a":"é"}' },
    receivedAt: 1_764_000_000_000 + counter,
    signature: 'valid',
    correlationId: `corr-${counter}`,
    ...overrides,
  };
}

function accepted(result: Awaited<ReturnType<EventStore['accept']>>): number {
  if (result.status !== 'accepted') throw new Error(`expected accepted, got ${result.status}`);
  return result.id;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** a clock the test moves: leases, notBefore and dedupe windows expire without waiting */
function testClock() {
  let t = Date.now();
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe.each(eventStoreBackends())('EventStore contract: $name', (backend) => {
  let opened: OpenedStore<EventStore>;
  let store: EventStore;
  let clock: ReturnType<typeof testClock>;

  beforeEach(async () => {
    clock = testClock();
    opened = await backend.open(clock.now);
    store = opened.store;
  });
  afterEach(async () => {
    await opened?.cleanup();
  });

  it('warns of a setup that lets its tables grow for good: PostgreSQL without autovacuum; nothing on SQLite', async () => {
    // this project's machines run PostgreSQL with autovacuum off; a server with it on must get no warning
    const expected = backend.name === 'postgres' && (await autovacuumOff()) ? [AUTOVACUUM_OFF] : [];
    expect(await store.setupWarnings()).toEqual(expected);
  });

  it('accepts an event once within its dedupe window, and again after it', async () => {
    const e = event('CH1');
    const first = accepted(await store.accept(e, 60));
    expect(await store.accept({ ...e, correlationId: 'retry' }, 60)).toEqual({ status: 'duplicate' });
    expect((await store.readLog(0, 100)).map((l) => l.id)).toEqual([first]);
    expect(await store.stats()).toEqual({ depth: 1, dead: 0, applied: 0 });

    clock.advance(59_000);
    expect((await store.accept(e, 60)).status).toBe('duplicate');
    clock.advance(1_000);
    const again = accepted(await store.accept(e, 60));
    expect(again).toBeGreaterThan(first);
    expect((await store.readLog(0, 100)).map((l) => l.id)).toEqual([first, again]);
  });

  it('purges dedupe keys whose window ran out, and only those', async () => {
    const short = event('CH1');
    const long = event('CH1');
    await store.accept(short, 1);
    await store.accept(long, 100);
    expect(await store.purgeExpired(clock.now())).toBe(0);
    clock.advance(1_000);
    expect(await store.purgeExpired(clock.now())).toBe(1);
    expect(await store.purgeExpired(clock.now())).toBe(0);
    expect((await store.accept(long, 100)).status).toBe('duplicate');
    expect((await store.accept(short, 100)).status).toBe('accepted');
  });

  it('refuses a dedupe window that is not a positive number, writing nothing', async () => {
    await expect(store.accept(event('CH1'), 0)).rejects.toThrow(/positive number of seconds/);
    await expect(store.accept(event('CH1'), Number.NaN)).rejects.toThrow(/positive number of seconds/);
    expect(await store.readLog(0, 10)).toEqual([]);
  });

  it('keeps the log in acceptance order with every field as accepted', async () => {
    const events = [
      event('CH1'),
      event('address:+15550001', { source: 'messaging-inbound', eventType: 'inbound', signature: 'unchecked' }),
      event('CH2', { params: { Body: 'multi\nline "quoted" \u0000 ☃', Empty: '' } }),
      event('CH1', { source: 'router', eventType: 'suppressionAdded' }),
    ];
    const ids: number[] = [];
    for (const e of events) ids.push(accepted(await store.accept(e, 60)));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const log = await store.readLog(0, 100);
    expect(log).toEqual(events.map((e, i) => ({ ...e, id: ids[i] })));
    expect(await store.readLog(ids[1]!, 2)).toEqual([log[2], log[3]]);
    expect(await store.readLog(ids[3]!, 10)).toEqual([]);
  });

  it('leases a partition to one worker at a time, with its events oldest first', async () => {
    const a = [event('CHa'), event('CHa'), event('CHa')];
    const ids: number[] = [];
    for (const e of a) ids.push(accepted(await store.accept(e, 60)));
    await store.accept(event('CHb'), 60);

    const w1 = await store.claim('w1', 1, 30_000, 2);
    expect(w1).toHaveLength(1);
    const first = w1[0]!;
    expect(first.events.map((e) => e.id)).toEqual(first.partitionKey === 'CHa' ? ids.slice(0, 2) : [expect.any(Number)]);

    const w2 = await store.claim('w2', 10, 30_000, 10);
    expect(w2.map((p) => p.partitionKey)).toEqual([first.partitionKey === 'CHa' ? 'CHb' : 'CHa']);
    expect(await store.claim('w3', 10, 30_000, 10)).toEqual([]);

    const held = [...w1, ...w2].find((p) => p.partitionKey === 'CHa')!;
    expect(held.events[0]).toEqual({ ...a[0], id: ids[0] });
  });

  it('gives a partition back on release, and not before its notBefore', async () => {
    await store.accept(event('CH1'), 60);
    const [claimed] = await store.claim('w1', 10, 30_000, 10);
    await store.release('w2', claimed!.partitionKey); // not the holder: nothing happens
    expect(await store.claim('w2', 10, 30_000, 10)).toEqual([]);

    await store.release('w1', 'CH1', clock.now() + 5_000);
    expect(await store.claim('w2', 10, 30_000, 10)).toEqual([]);
    clock.advance(4_999);
    expect(await store.claim('w2', 10, 30_000, 10)).toEqual([]);
    clock.advance(1);
    expect((await store.claim('w2', 10, 30_000, 10)).map((p) => p.partitionKey)).toEqual(['CH1']);
  });

  it('lets another worker take over an expired lease; the old holder can then neither complete nor renew', async () => {
    const id = accepted(await store.accept(event('CH1'), 60));
    await store.claim('w1', 10, 1_000, 10);
    clock.advance(500);
    expect(await store.renew('w1', 'CH1', 1_000)).toBe(true);
    clock.advance(999);
    expect(await store.claim('w2', 10, 1_000, 10)).toEqual([]);
    clock.advance(1);
    const taken = await store.claim('w2', 10, 30_000, 10);
    expect(taken.map((p) => p.events.map((e) => e.id))).toEqual([[id]]);

    const doc: EntityDoc = { kind: 'message', id: 'IM1', conversationSid: 'CH1', doc: { body: 'old holder' } };
    expect(await store.complete('w1', 'CH1', [id], [doc])).toBe(false);
    expect(await store.renew('w1', 'CH1', 1_000)).toBe(false);
    await store.recordFailure('w1', 'CH1', id, 'late failure', true);
    expect(await store.allEntities()).toEqual([]);
    expect(await store.stats()).toEqual({ depth: 1, dead: 0, applied: 0 });

    expect(await store.complete('w2', 'CH1', [id], [{ ...doc, doc: { body: 'new holder' } }])).toBe(true);
    expect(await store.applied()).toEqual([{ id, partitionKey: 'CH1', applyCount: 1, appliedSeq: expect.any(Number) }]);
    expect((await store.allEntities()).map((d) => d.doc)).toEqual([{ body: 'new holder' }]);
  });

  it('applies an event exactly once, with increasing appliedSeq in partition order', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(accepted(await store.accept(event('CH1'), 60)));
    const [claimed] = await store.claim('w1', 1, 30_000, 10);
    for (const e of claimed!.events) expect(await store.complete('w1', 'CH1', [e.id], [])).toBe(true);
    expect(await store.complete('w1', 'CH1', [ids[0]!], [{ kind: 'x', id: '1', conversationSid: null, doc: {} }])).toBe(false);
    expect(await store.complete('w1', 'CH2', [ids[1]!], [])).toBe(false); // not this partition's event
    expect(await store.allEntities()).toEqual([]);

    const applied = await store.applied();
    expect(applied.map((r) => [r.id, r.applyCount])).toEqual(ids.map((id) => [id, 1]));
    const seqs = applied.map((r) => r.appliedSeq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(3);
    expect(await store.stats()).toEqual({ depth: 0, dead: 0, applied: 3 });
    // drained: nothing to claim, until a new event arrives
    await store.release('w1', 'CH1');
    expect(await store.claim('w1', 10, 30_000, 10)).toEqual([]);
    const next = accepted(await store.accept(event('CH1'), 60));
    expect((await store.claim('w2', 10, 30_000, 10)).map((p) => p.events.map((e) => e.id))).toEqual([[next]]);
  });

  it('applies a run of events in one complete: in id order, the last doc of each key, all or nothing', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(accepted(await store.accept(event('CH1'), 60)));
    await store.claim('w1', 1, 30_000, 10);
    const doc = (n: number) => ({ kind: 'message', id: 'IM1', conversationSid: 'CH1', doc: { n } });
    expect(await store.complete('w1', 'CH1', [ids[0]!], [])).toBe(true);
    // one of them is applied already: nothing of the run is written
    expect(await store.complete('w1', 'CH1', [ids[0]!, ids[1]!, ids[2]!], [doc(1)])).toBe(false);
    expect(await store.allEntities()).toEqual([]);
    expect(await store.stats()).toEqual({ depth: 4, dead: 0, applied: 1 });
    // given out of order, applied in id order; two docs of one key: the last is kept
    expect(await store.complete('w1', 'CH1', [ids[3]!, ids[1]!, ids[2]!, ids[4]!], [doc(1), doc(2)])).toBe(true);
    expect((await store.allEntities()).map((d) => d.doc)).toEqual([{ n: 2 }]);
    const applied = await store.applied();
    expect(applied.map((r) => [r.id, r.applyCount])).toEqual(ids.map((id) => [id, 1]));
    const seqs = applied.map((r) => r.appliedSeq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(await store.stats()).toEqual({ depth: 0, dead: 0, applied: 5 });
  });

  it('completes of many partitions at once (PostgreSQL: one statement): each all or nothing on its own', async () => {
    const keys = Array.from({ length: 10 }, (_, p) => `CHmany${p}`);
    const ids = new Map<string, number[]>();
    for (let i = 0; i < 3; i++) {
      for (const key of keys) ids.set(key, [...(ids.get(key) ?? []), accepted(await store.accept(event(key), 60))]);
    }
    expect(await store.claim('w1', 10, 30_000, 3)).toHaveLength(10);
    // CHmany3 changes hands: w1 no longer holds it
    await store.release('w1', 'CHmany3');
    expect((await store.claim('w2', 10, 30_000, 3)).map((p) => p.partitionKey)).toEqual(['CHmany3']);
    const doc = (key: string) => ({ kind: 'conversation', id: key, conversationSid: key, doc: { key } });
    const calls = keys.map((key) => {
      let named = ids.get(key)!;
      if (key === 'CHmany5') named = [...named, ids.get('CHmany6')![0]!]; // another partition's event
      if (key === 'CHmany7') named = [...named, named[0]!]; // an event named twice
      return store.complete('w1', key, named, [doc(key)]);
    });
    const refused = new Set(['CHmany3', 'CHmany5', 'CHmany7']);
    expect(await Promise.all(calls)).toEqual(keys.map((key) => !refused.has(key)));
    const done = keys.filter((key) => !refused.has(key));
    expect((await store.allEntities()).map((d) => d.id)).toEqual(done);
    const applied = await store.applied();
    expect(applied.map((r) => r.id)).toEqual(done.flatMap((key) => ids.get(key)!).sort((a, b) => a - b));
    for (const key of done) {
      const seqs = applied.filter((r) => r.partitionKey === key).map((r) => r.appliedSeq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    }
    expect(await store.stats()).toEqual({ depth: 9, dead: 0, applied: 21 });
    // what was refused is still pending, and still completes
    expect(await store.complete('w1', 'CHmany5', ids.get('CHmany5')!, [])).toBe(true);
    expect(await store.complete('w2', 'CHmany3', ids.get('CHmany3')!, [])).toBe(true);
    expect(await store.stats()).toEqual({ depth: 3, dead: 0, applied: 27 });
  });

  it('releases of many partitions at once: each only by its holder, each with its own notBefore', async () => {
    const keys = ['CHrel0', 'CHrel1', 'CHrel2', 'CHrel3'];
    for (const key of keys) await store.accept(event(key), 60);
    expect(await store.claim('w1', 4, 30_000, 1)).toHaveLength(4);
    await Promise.all([
      store.release('w1', 'CHrel0'),
      store.release('w1', 'CHrel1', clock.now() + 5_000),
      store.release('w2', 'CHrel2'), // not w2's: stays leased to w1
      store.release('w1', 'CHrel3'),
    ]);
    expect((await store.claim('w3', 10, 30_000, 1)).map((p) => p.partitionKey).sort()).toEqual(['CHrel0', 'CHrel3']);
    clock.advance(5_000);
    expect((await store.claim('w3', 10, 30_000, 1)).map((p) => p.partitionKey)).toEqual(['CHrel1']);
  });

  it('counts failures, and dead-letters an event so the partition moves on', async () => {
    const first = accepted(await store.accept(event('CH1'), 60));
    const second = accepted(await store.accept(event('CH1'), 60));
    await store.claim('w1', 10, 30_000, 10);
    await store.recordFailure('w1', 'CH1', first, 'boom 1', false);
    expect(await store.stats()).toEqual({ depth: 2, dead: 0, applied: 0 });
    await store.release('w1', 'CH1');
    const retried = await store.claim('w1', 10, 30_000, 10);
    expect(retried[0]!.events.map((e) => e.id)).toEqual([first, second]);

    await store.recordFailure('w1', 'CH1', first, 'boom 2', true);
    expect(await store.stats()).toEqual({ depth: 1, dead: 1, applied: 0 });
    expect(await store.complete('w1', 'CH1', [first], [])).toBe(false);
    await store.release('w1', 'CH1');
    const after = await store.claim('w1', 10, 30_000, 10);
    expect(after[0]!.events.map((e) => e.id)).toEqual([second]);
    // the log keeps dead events
    expect((await store.readLog(0, 10)).map((e) => e.id)).toEqual([first, second]);
  });

  it('a side effect given up after the event was applied: the event counts dead, stays applied, and leaves no depth', async () => {
    const id = accepted(await store.accept(event('CH1'), 60));
    await store.claim('w1', 10, 30_000, 10);
    expect(await store.complete('w1', 'CH1', [id], [])).toBe(true);
    expect(await store.stats()).toEqual({ depth: 0, dead: 0, applied: 1 });
    // a failure that is not the last cannot concern an applied event: nothing changes
    await store.recordFailure('w1', 'CH1', id, 'boom', false);
    expect(await store.stats()).toEqual({ depth: 0, dead: 0, applied: 1 });
    await store.recordFailure('w1', 'CH1', id, 'gave up', true);
    expect(await store.stats()).toEqual({ depth: 0, dead: 1, applied: 1 });
    expect((await store.applied()).map((r) => [r.id, r.applyCount])).toEqual([[id, 1]]);
    // once only
    await store.recordFailure('w1', 'CH1', id, 'gave up again', true);
    expect(await store.stats()).toEqual({ depth: 0, dead: 1, applied: 1 });
  });

  it('stores, finds and replaces entity docs', async () => {
    const id = accepted(await store.accept(event('CH1'), 60));
    await store.claim('w1', 10, 30_000, 10);
    const docs: EntityDoc[] = [
      { kind: CONVERSATION_KIND, id: 'CH1', conversationSid: 'CH1', doc: { sid: 'CH1', uniqueName: 'sms:+15550001', n: 1 } },
      { kind: 'participant', id: 'MB1', conversationSid: 'CH1', doc: { identity: 'alice', nested: { a: [1, 2] }, odd: 'nul \u0000 ☃' } },
      { kind: 'contact', id: '+15550001', conversationSid: null, doc: { suppressed: true } },
      { kind: CONVERSATION_KIND, id: 'CH2', conversationSid: 'CH2', doc: { sid: 'CH2', uniqueName: null } },
    ];
    expect(await store.complete('w1', 'CH1', [id], docs)).toBe(true);

    expect(await store.entities([{ kind: 'participant', id: 'MB1' }, { kind: 'participant', id: 'nope' }])).toEqual([docs[1]]);
    expect(await store.entities([])).toEqual([]);
    expect(await store.conversationEntities('CH1')).toEqual([docs[0], docs[1]]);
    expect(await store.entitiesOfKind(CONVERSATION_KIND)).toEqual([docs[0], docs[3]]);
    expect(await store.allEntities()).toHaveLength(4);
    expect(await store.findConversation('CH1')).toBe('CH1');
    expect(await store.findConversation('sms:+15550001')).toBe('CH1');
    expect(await store.findConversation('CH2')).toBe('CH2');
    expect(await store.findConversation('sms:+15550002')).toBeUndefined();
    expect(await store.findConversation('+15550001')).toBeUndefined(); // a contact doc is not a conversation

    const replacement: EntityDoc[] = [
      { kind: CONVERSATION_KIND, id: 'CH9', conversationSid: 'CH9', doc: { sid: 'CH9', uniqueName: 'sms:+15550001' } },
    ];
    await store.replaceEntities(replacement);
    expect(await store.allEntities()).toEqual(replacement);
    expect(await store.findConversation('sms:+15550001')).toBe('CH9');
    expect(await store.findConversation('CH1')).toBeUndefined();
  });

  it('upserts a doc that a later event changes', async () => {
    const ids = [accepted(await store.accept(event('CH1'), 60)), accepted(await store.accept(event('CH1'), 60))];
    await store.claim('w1', 10, 30_000, 10);
    const doc = (n: number): EntityDoc => ({ kind: CONVERSATION_KIND, id: 'CH1', conversationSid: 'CH1', doc: { uniqueName: `u${n}` } });
    expect(await store.complete('w1', 'CH1', [ids[0]!], [doc(1)])).toBe(true);
    expect(await store.complete('w1', 'CH1', [ids[1]!], [doc(2), doc(3)])).toBe(true);
    expect(await store.allEntities()).toEqual([doc(3)]);
    expect(await store.findConversation('u1')).toBeUndefined();
    expect(await store.findConversation('u3')).toBe('CH1');
  });

  it('merges shared docs with the row as stored at commit: concurrent completes of many partitions lose nothing', async () => {
    // a stand-in join (the router's is state/fold.ts joinDocs): the union of `seen`
    const seen = (d: EntityDoc) => (d.doc.seen as string[] | undefined) ?? [];
    const merge = (stored: EntityDoc, written: EntityDoc): EntityDoc => ({ ...written, doc: { seen: [...new Set([...seen(stored), ...seen(written)])].sort() } });
    const shared = (who: string): EntityDoc => ({ kind: 'contact', id: '+15550001', conversationSid: null, doc: { seen: [who] } });
    const other = backend.name === 'sqlite :memory:' ? store : await opened.another();
    const partitions = Array.from({ length: 12 }, (_, i) => `CH${i}`);
    const ids = new Map<string, number>();
    for (const p of partitions) ids.set(p, accepted(await store.accept(event(p), 60)));
    expect(await store.claim('w1', partitions.length, 30_000, 10)).toHaveLength(partitions.length);
    const results = await Promise.all(
      partitions.map((p, i) =>
        (i % 2 ? other : store).complete('w1', p, [ids.get(p)!], [{ kind: 'message', id: `IM${i}`, conversationSid: p, doc: { n: i } }], {
          docs: [shared(p), { kind: 'suppression', id: `s|${i % 3}`, conversationSid: null, doc: { seen: [p] } }],
          merge,
        }),
      ),
    );
    expect(results.every(Boolean)).toBe(true);
    const [contact] = await store.entities([{ kind: 'contact', id: '+15550001' }]);
    expect(contact!.doc).toEqual({ seen: [...partitions].sort() });
    const suppressions = await store.entitiesOfKind('suppression');
    expect(suppressions.map((d) => [d.id, seen(d)])).toEqual([0, 1, 2].map((k) => [`s|${k}`, partitions.filter((_, i) => i % 3 === k).sort()]));
    expect(await store.entitiesOfKind('message')).toHaveLength(partitions.length);
    expect(await store.stats()).toEqual({ depth: 0, dead: 0, applied: partitions.length });
  });

  it('writes no shared doc when complete() does not hold the lease', async () => {
    const id = accepted(await store.accept(event('CH1'), 60));
    await store.claim('w1', 10, 1_000, 10);
    clock.advance(1_000);
    await store.claim('w2', 10, 30_000, 10);
    let merged = 0;
    const shared = { docs: [{ kind: 'contact', id: '+15550001', conversationSid: null, doc: { seen: ['w1'] } }], merge: (_: EntityDoc, b: EntityDoc) => (merged++, b) };
    expect(await store.complete('w1', 'CH1', [id], [], shared)).toBe(false);
    expect(await store.allEntities()).toEqual([]);
    expect(await store.complete('w2', 'CH1', [id], [], shared)).toBe(true);
    expect(await store.allEntities()).toEqual(shared.docs);
    expect(merged).toBe(0); // nothing stored before: written as it is
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('accepts 600 concurrent events (batched together) once per key, each partition in id order', async () => {
    const events = Array.from({ length: 300 }, (_, i) => event(`CH${i % 7}`));
    // every event twice in one burst: one copy of each is accepted, whichever batch it lands in (concurrent calls
    // have no order of their own; the order of calls that follow one another is the test above)
    const results = await Promise.all([...events, ...events].map((e) => store.accept(e, 60)));
    const ids = results.flatMap((r) => (r.status === 'accepted' ? [r.id] : []));
    expect(ids).toHaveLength(300);
    for (let i = 0; i < 300; i++) expect([results[i]!.status, results[i + 300]!.status].sort()).toEqual(['accepted', 'duplicate']);
    const log = await store.readLog(0, 1000);
    expect(log.map((e) => e.id)).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(log.map((e) => e.dedupeKey))).toEqual(new Set(events.map((e) => e.dedupeKey)));
    expect(await store.stats()).toEqual({ depth: 300, dead: 0, applied: 0 });
    const claimed = await store.claim('w', 10, 10_000, 1000);
    expect(claimed.map((p) => p.events.length).sort()).toEqual([42, 43, 43, 43, 43, 43, 43]);
    for (const p of claimed) {
      const got = p.events.map((e) => e.id);
      expect(got).toEqual([...got].sort((a, b) => a - b));
    }
  });

  if (backend.name === 'sqlite file') {
    it('keeps what a crashed worker had leased: a new store on the file claims it once the lease runs out', async () => {
      const ids = [accepted(await store.accept(event('CH1'), 60)), accepted(await store.accept(event('CH1'), 60))];
      await store.claim('w-crashed', 10, 10_000, 10);
      await store.close(); // the process dies without completing

      const restarted = await opened.another();
      expect(await restarted.stats()).toEqual({ depth: 2, dead: 0, applied: 0 });
      expect(await restarted.claim('w-new', 10, 10_000, 10)).toEqual([]);
      clock.advance(10_000);
      const claimed = await restarted.claim('w-new', 10, 10_000, 10);
      expect(claimed.map((p) => p.events.map((e) => e.id))).toEqual([ids]);
      expect((await restarted.accept(event('CH1', { dedupeKey: (await restarted.readLog(0, 1))[0]!.dedupeKey }), 60)).status).toBe(
        'duplicate',
      );
    });
  }

  if (backend.name === 'postgres') {
    it('never leases one partition to two store instances claiming at the same time', async () => {
      const other = await opened.another();
      const partitions = 40;
      const perPartition = 5;
      for (let i = 0; i < perPartition; i++) {
        await Promise.all(Array.from({ length: partitions }, (_, p) => store.accept(event(`CH${p}`), 60)));
      }
      const held = new Map<string, string>();
      const overlaps: string[] = [];
      const worker = async (instance: EventStore, name: string) => {
        for (let idle = 0; idle < 5; ) {
          const claimed = await instance.claim(name, 3, 60_000, 2);
          if (claimed.length === 0) {
            idle++;
            await sleep(5);
            continue;
          }
          idle = 0;
          for (const p of claimed) {
            const holder = held.get(p.partitionKey);
            if (holder) overlaps.push(`${p.partitionKey}: ${holder} and ${name}`);
            held.set(p.partitionKey, name);
          }
          await sleep(1);
          for (const p of claimed) {
            for (const e of p.events) expect(await instance.complete(name, p.partitionKey, [e.id], [])).toBe(true);
            held.delete(p.partitionKey);
            await instance.release(name, p.partitionKey);
          }
        }
      };
      await Promise.all([
        worker(store, 'a1'),
        worker(store, 'a2'),
        worker(other, 'b1'),
        worker(other, 'b2'),
      ]);
      expect(overlaps).toEqual([]);
      const applied = await store.applied();
      expect(applied).toHaveLength(partitions * perPartition);
      expect(applied.every((r) => r.applyCount === 1)).toBe(true);
      const byPartition = new Map<string, number[]>();
      for (const r of applied) byPartition.set(r.partitionKey, [...(byPartition.get(r.partitionKey) ?? []), r.appliedSeq]);
      for (const seqs of byPartition.values()) expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(await other.stats()).toEqual({ depth: 0, dead: 0, applied: partitions * perPartition });
    });

    it('an event PostgreSQL cannot store fails alone: the rest of its batch is accepted', async () => {
      // a NUL character is valid in JSON but not in a PostgreSQL text column
      const good = Array.from({ length: 40 }, () => event('CH1'));
      const bad = event('CH1', { dedupeKey: 'bad\u0000key' });
      const results = await Promise.allSettled([...good.slice(0, 20), bad, ...good.slice(20)].map((e) => store.accept(e, 60)));
      expect(results[20]!.status).toBe('rejected');
      expect(results.filter((r) => r.status === 'fulfilled' && r.value.status === 'accepted')).toHaveLength(40);
      expect(new Set((await store.readLog(0, 100)).map((e) => e.dedupeKey))).toEqual(new Set(good.map((e) => e.dedupeKey)));
      expect(await store.stats()).toEqual({ depth: 40, dead: 0, applied: 0 });
    });

    it('dedupes across store instances: of 20 concurrent copies one is accepted', async () => {
      const other = await opened.another();
      const e = event('CH1');
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? store : other).accept(e, 60)));
      expect(results.filter((r) => r.status === 'accepted')).toHaveLength(1);
      expect(await store.readLog(0, 100)).toHaveLength(1);
    });
  }
});

/** every (relation or index) name a plan node of `plan` reads router_events through, with its node type */
function routerEventsScans(plan: unknown): string[] {
  const scans: string[] = [];
  const walk = (node: Record<string, unknown>) => {
    const index = node['Index Name'] as string | undefined;
    if (index?.startsWith('router_events')) scans.push(`${String(node['Node Type'])} ${index}`);
    else if (node['Relation Name'] === 'router_events' && node['Node Type'] === 'Seq Scan') scans.push('Seq Scan');
    for (const child of (node['Plans'] as Array<Record<string, unknown>> | undefined) ?? []) walk(child);
  };
  for (const entry of plan as Array<{ Plan: Record<string, unknown> }>) walk(entry.Plan);
  return scans;
}

describe.skipIf(testDatabaseUrl === undefined)('PostgresEventStore: complete() on a hot partition', () => {
  it('finds its events by primary key, so its cost does not grow with the partition\'s backlog', async () => {
    const { schema, drop } = testSchema();
    const store = await PostgresEventStore.open({ url: testDatabaseUrl!, schema });
    const client = new pg.Client({ connectionString: testDatabaseUrl, options: `-c search_path=${schema}` });
    try {
      // a backlog of 10,000 in one conversation, in a log not yet analysed (a burst into a new or fast-growing log): the
      // planner goes by the partition key's default selectivity, one row
      for (let i = 0; i < 40; i++) await Promise.all(Array.from({ length: 250 }, () => store.accept(event('CHhot'), 60)));
      await client.connect();
      const [claimed] = await store.claim('w1', 1, 60_000, 5);
      const ids = claimed!.events.map((e) => e.id);
      const values = [claimed!.partitionKey, 'w1', ids, [], [], [], [], []];
      const explained = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${COMPLETE}`, values);
      const scans = routerEventsScans(explained.rows[0]!['QUERY PLAN']);
      expect(scans.length).toBeGreaterThan(0);
      // before: `Index Only Scan router_events_pending`, through every pending event of the partition on every complete
      expect(scans.filter((scan) => !scan.endsWith(' router_events_pkey'))).toEqual([]);
      // the same of the statement that completes many partitions at once
      const manyValues = [[claimed!.partitionKey], ['w1'], ids, ids.map(() => 1), [], [], [], [], [], []];
      const many = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${COMPLETE_MANY}`, manyValues);
      const manyScans = routerEventsScans(many.rows[0]!['QUERY PLAN']);
      expect(manyScans.length).toBeGreaterThan(0);
      expect(manyScans.filter((scan) => !scan.endsWith(' router_events_pkey'))).toEqual([]);
      // and the statement still does its job
      expect(await store.complete('w1', claimed!.partitionKey, ids, [])).toBe(true);
      expect(await store.stats()).toEqual({ depth: 9_995, dead: 0, applied: 5 });
    } finally {
      await client.end();
      await store.close();
      await drop();
    }
  });
});

describe.skipIf(testDatabaseUrl === undefined)('PostgresEventStore: schema versions 2 and 3', () => {
  it('brings a version 1 database up to date: the applied and dead counters start from what the log holds', async () => {
    const { schema, drop } = testSchema();
    const client = new pg.Client({ connectionString: testDatabaseUrl, options: `-c search_path=${schema}` });
    try {
      await client.connect();
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(MIGRATIONS[0]!.sql);
      await client.query(
        `CREATE TABLE router_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      await client.query(`INSERT INTO router_schema_migrations (version, name) VALUES (1, $1)`, [MIGRATIONS[0]!.name]);
      // as version 1 left them: one event applied, one applied and then dead-lettered, one pending
      await client.query(
        `INSERT INTO router_events (source, event_type, dedupe_key, partition_key, params, received_at, signature, correlation_id, status, apply_count, applied_seq)
         VALUES ('conversations', 'onMessageAdded', 'k1', 'CH1', '{}', 1, 'valid', 'c1', 'applied', 1, 1),
                ('conversations', 'onMessageAdded', 'k2', 'CH1', '{}', 2, 'valid', 'c2', 'dead', 1, 2),
                ('conversations', 'onMessageAdded', 'k3', 'CH1', '{}', 3, 'valid', 'c3', 'pending', 0, NULL)`,
      );
      await client.query(`INSERT INTO router_partitions (partition_key, pending) VALUES ('CH1', 1)`);
      const store = await PostgresEventStore.open({ url: testDatabaseUrl!, schema });
      try {
        expect(await store.stats()).toEqual({ depth: 1, dead: 1, applied: 2 });
        const [claimed] = await store.claim('w1', 1, 60_000, 10);
        expect(await store.complete('w1', 'CH1', claimed!.events.map((e) => e.id), [])).toBe(true);
        expect(await store.stats()).toEqual({ depth: 0, dead: 1, applied: 3 });
        // the counter goes on from there: the event just applied, its side effect given up
        await store.recordFailure('w1', 'CH1', claimed!.events[0]!.id, 'gave up', true);
        expect(await store.stats()).toEqual({ depth: 0, dead: 2, applied: 3 });
        const versions = await client.query<{ version: number }>('SELECT version FROM router_schema_migrations ORDER BY version');
        expect(versions.rows.map((r) => r.version)).toEqual([1, 2, 3]);
      } finally {
        await store.close();
      }
    } finally {
      await client.end();
      await drop();
    }
  });
});

describe.each(eventStoreBackends())('the worker giving up on a side effect: $name', (backend) => {
  it('applies the event all the same, and the store counts it dead (it was lost before: the failure found it applied)', async () => {
    const opened = await backend.open(Date.now);
    try {
      const { store } = opened;
      const first = accepted(await store.accept(event('CH9', { params: { ConversationSid: 'CH9', Body: 'fails' } }), 60));
      const second = accepted(await store.accept(event('CH9'), 60));
      let calls = 0;
      const worker = new Worker({
        workerId: 'w-dead',
        events: store,
        // a side effect for the first event only, failing every time
        handle: (e) => (e.id === first ? async () => { calls++; throw new Error('Twilio is down'); } : undefined),
        concurrency: 2, leaseMs: 30_000, maxAttempts: 2, maxProcessingMs: 5_000, log: pino({ level: 'silent' }), idlePollMs: 5,
      });
      worker.start();
      const deadline = Date.now() + 10_000;
      while ((await store.stats()).depth > 0 && Date.now() < deadline) await sleep(10);
      await worker.stop();
      expect(calls).toBe(2);
      expect(await store.stats()).toEqual({ depth: 0, dead: 1, applied: 2 });
      expect((await store.applied()).map((r) => [r.id, r.applyCount])).toEqual([[first, 1], [second, 1]]);
    } finally {
      await opened.cleanup();
    }
  });
});

describe.each(kvBackends())('KeyValueStore contract: $name', (backend) => {
  let opened: OpenedStore<KeyValueStore>;
  let kv: KeyValueStore;

  beforeEach(async () => {
    opened = await backend.open();
    kv = opened.store;
  });
  afterEach(async () => {
    await opened?.cleanup();
  });

  it('gets, sets, replaces and deletes', async () => {
    expect(await kv.get('a')).toBeUndefined();
    await kv.set('a', '1');
    expect(await kv.get('a')).toBe('1');
    await kv.set('a', 'two ☃');
    expect(await kv.get('a')).toBe('two ☃');
    await kv.del('a');
    expect(await kv.get('a')).toBeUndefined();
    await kv.del('a');
  });

  it('expires a key after its ttl', async () => {
    await kv.set('short', 'x', 0.05);
    await kv.set('long', 'y', 60);
    await kv.set('forever', 'z');
    expect(await kv.get('short')).toBe('x');
    await sleep(120);
    expect(await kv.get('short')).toBeUndefined();
    expect(await kv.get('long')).toBe('y');
    expect(await kv.get('forever')).toBe('z');
    await kv.set('long', 'y2'); // a plain set drops the expiry
    expect(await kv.get('long')).toBe('y2');
  });

  it('sets only when absent, and again once the holder expired', async () => {
    expect(await kv.setIfAbsent('once', 'first', 0.05)).toBe(true);
    expect(await kv.setIfAbsent('once', 'second', 0.05)).toBe(false);
    expect(await kv.get('once')).toBe('first');
    await sleep(120);
    expect(await kv.setIfAbsent('once', 'third')).toBe(true);
    expect(await kv.setIfAbsent('once', 'fourth')).toBe(false);
    expect(await kv.get('once')).toBe('third');
  });

  it('lets exactly one of 20 concurrent setIfAbsent calls win, across instances', async () => {
    const other = await opened.another();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? kv : other).setIfAbsent('guard', `v${i}`, 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await other.get('guard')).toBe(`v${results.indexOf(true)}`);
  });

  it('lists live keys by prefix, in key order, at most limit', async () => {
    await kv.set('sup:b', '2');
    await kv.set('sup:a', '1');
    await kv.set('sup:c', '3');
    await kv.set('sup:gone', 'x', 0.05);
    await kv.set('SUP:upper', 'u');
    await kv.set('other', 'o');
    await kv.set('su%', 'percent');
    await kv.set('su_x', 'underscore');
    await kv.set('su*', 'star');
    await sleep(120);
    expect(await kv.list('sup:', 10)).toEqual([
      { key: 'sup:a', value: '1' },
      { key: 'sup:b', value: '2' },
      { key: 'sup:c', value: '3' },
    ]);
    expect(await kv.list('sup:', 2)).toEqual([
      { key: 'sup:a', value: '1' },
      { key: 'sup:b', value: '2' },
    ]);
    expect(await kv.list('sup:', 0)).toEqual([]);
    // pattern characters in a prefix are literal
    expect(await kv.list('su%', 10)).toEqual([{ key: 'su%', value: 'percent' }]);
    expect(await kv.list('su_', 10)).toEqual([{ key: 'su_x', value: 'underscore' }]);
    expect(await kv.list('su*', 10)).toEqual([{ key: 'su*', value: 'star' }]);
    expect((await kv.list('', 100)).map((e) => e.key)).toEqual(['SUP:upper', 'other', 'su%', 'su*', 'su_x', 'sup:a', 'sup:b', 'sup:c']);
  });

  if (backend.name !== 'redis') {
    it('purges expired rows, and only those', async () => {
      const purgeable = kv as KeyValueStore & { purgeExpired(now?: number): Promise<number> };
      await kv.set('short', 'x', 0.05);
      await kv.set('long', 'y', 60);
      await kv.set('forever', 'z');
      await sleep(120);
      expect(await purgeable.purgeExpired()).toBe(1);
      expect(await purgeable.purgeExpired()).toBe(0);
      expect((await kv.list('', 10)).map((e) => e.key)).toEqual(['forever', 'long']);
    });
  }

  it('refuses a ttl that is not a positive number', async () => {
    await expect(kv.set('a', '1', 0)).rejects.toThrow(/positive number of seconds/);
    await expect(kv.setIfAbsent('a', '1', -1)).rejects.toThrow(/positive number of seconds/);
    expect(await kv.get('a')).toBeUndefined();
  });

  it('answers ping', async () => {
    await expect(kv.ping()).resolves.toBeUndefined();
  });
});

describe('openStores', () => {
  it('runs on SQLite alone, in one file whose folder it creates', async () => {
    const sqlite = testSqliteFile();
    const file = sqlite.file.replace(/router\.sqlite$/, '.tce/nested/router.sqlite');
    try {
      const stores = await openStores({ db: file });
      expect([stores.events.kind, stores.kv.kind]).toEqual(['sqlite', 'sqlite']);
      await stores.events.accept(event('CH1'), 60);
      await stores.kv.set('k', 'v');
      await stores.close();
      const reopened = await openStores({ db: file });
      expect(await reopened.events.stats()).toEqual({ depth: 1, dead: 0, applied: 0 });
      expect(await reopened.kv.get('k')).toBe('v');
      await reopened.close();
    } finally {
      sqlite.remove();
    }
  });

  it('names an unreachable PostgreSQL by its URL, without the password', async () => {
    const failure = openStores({ db: ':memory:', databaseUrl: 'postgres://router:s3cret@127.0.0.1:1/app' });
    await expect(failure).rejects.toThrow(/^cannot use PostgreSQL at postgres:\/\/router@127\.0\.0\.1:1\/app: .*ECONNREFUSED/);
    await expect(failure).rejects.not.toThrow(/s3cret/);
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(openStores({ db: ':memory:', databaseUrl: 'postgres://127.0.0.1:1/x', databaseSchema: 'a"; drop' })).rejects.toThrow(
      /lower-case SQL identifier/,
    );
  });

  describe.skipIf(testDatabaseUrl === undefined)('on PostgreSQL', () => {
    it('names an unreachable Redis by its URL, and leaves no pool open', async () => {
      const { testSchema } = await import('./support/router-stores.js');
      const schema = testSchema();
      try {
        await expect(
          openStores({ db: ':memory:', databaseUrl: testDatabaseUrl!, databaseSchema: schema.schema, redisUrl: 'redis://:pw@127.0.0.1:1' }),
        ).rejects.toThrow(/^cannot use Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
      } finally {
        await schema.drop();
      }
    });

    it('migrates once when two routers start at once', async () => {
      const { testSchema } = await import('./support/router-stores.js');
      const schema = testSchema();
      const options = { db: ':memory:', databaseUrl: testDatabaseUrl!, databaseSchema: schema.schema };
      try {
        const both = await Promise.all([openStores(options), openStores(options), openStores(options)]);
        expect(both.map((s) => [s.events.kind, s.kv.kind])).toEqual([
          ['postgres', 'postgres'],
          ['postgres', 'postgres'],
          ['postgres', 'postgres'],
        ]);
        await both[0]!.kv.set('k', 'v');
        expect(await both[2]!.kv.get('k')).toBe('v');
        await Promise.all(both.map((s) => s.close()));
      } finally {
        await schema.drop();
      }
    });

    it.skipIf(testRedisUrl === undefined)('puts the key-value store on Redis when a Redis URL is given', async () => {
      const { testSchema, testRedisPrefix } = await import('./support/router-stores.js');
      const schema = testSchema();
      const prefix = testRedisPrefix();
      try {
        const stores = await openStores({
          db: ':memory:',
          databaseUrl: testDatabaseUrl!,
          databaseSchema: schema.schema,
          redisUrl: testRedisUrl!,
          redisKeyPrefix: prefix.prefix,
        });
        expect([stores.events.kind, stores.kv.kind]).toEqual(['postgres', 'redis']);
        await stores.close();
      } finally {
        await schema.drop();
        await prefix.cleanup();
      }
    });
  });
});

describe('SqliteEventStore on a shared file', () => {
  it('two stores on one file never lease the same partition', async () => {
    const sqlite = testSqliteFile();
    const a = SqliteEventStore.open(sqlite.file);
    const b = SqliteEventStore.open(sqlite.file);
    try {
      for (let p = 0; p < 5; p++) await a.accept(event(`CH${p}`), 60);
      const first = await a.claim('a', 3, 30_000, 10);
      const second = await b.claim('b', 10, 30_000, 10);
      expect(first).toHaveLength(3);
      expect(second).toHaveLength(2);
      const keys = [...first, ...second].map((p) => p.partitionKey);
      expect(new Set(keys).size).toBe(5);
    } finally {
      await a.close();
      await b.close();
      sqlite.remove();
    }
  });
});
