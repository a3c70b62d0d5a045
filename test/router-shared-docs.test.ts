/**
 * Docs that events of many partitions write (contact, suppression): two partitions that read one such doc before
 * either commits must both count. Driven through PartitionRun and the real stores, interleaved so that both read
 * before either completes; the stored docs must then equal the fold of the whole log (what `tce router replay`
 * computes). SQLite always; PostgreSQL when TCE_TEST_DATABASE_URL is set.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IncomingEvent } from '../src/router/events.js';
import { replayLog } from '../src/router/replay.js';
import { foldLog } from '../src/router/state/fold.js';
import type { EventStore } from '../src/router/store/types.js';
import { PartitionRun } from '../src/router/worker/partition-run.js';
import { Worker } from '../src/router/worker/worker.js';
import { eventStoreBackends, type OpenedStore } from './support/router-stores.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const CONTACT = '+15550000001';
const PROXY = '+15559990000';
const MG = 'MG00000000000000000000000000000001';

let n = 0;
function incoming(source: IncomingEvent['source'], eventType: string, partitionKey: string, params: Record<string, string>, at: number): IncomingEvent {
  n++;
  return { source, eventType, dedupeKey: `${eventType}|${n}|${at}`, partitionKey, params, receivedAt: at, signature: 'valid', correlationId: `c${n}` };
}

/** a Messaging status callback failing with `code` for a send to CONTACT (its partition: the message) */
const failedSend = (sid: string, code: number, at: number) =>
  incoming('messaging-status', 'status', `message:${sid}`, { MessageSid: sid, MessageStatus: 'failed', From: PROXY, To: CONTACT, ErrorCode: String(code) }, at);
/** a Messaging inbound from CONTACT (its partition: the address) */
const inboundFrom = (to: string, at: number) =>
  incoming('messaging-inbound', 'inbound', `address:${CONTACT}`, { MessageSid: `SMin${at}`, From: CONTACT, To: to, Body: 'hi' }, at);
/** a suppression audit fact recorded by a conversation's partition */
const suppressionFact = (type: 'suppressionAdded' | 'suppressionLifted', conversationSid: string, at: number) =>
  incoming('router', type, conversationSid, { Address: CONTACT, Sender: MG, At: new Date(at).toISOString(), ...(type === 'suppressionAdded' ? { Reason: 'keyword', Keyword: 'STOP' } : { Keyword: 'START' }) }, at);

describe.each(eventStoreBackends())('shared docs under concurrent partitions: $name', (backend) => {
  let opened: OpenedStore<EventStore>;
  let store: EventStore;
  /** a second instance on the same data where the backend has one (another process's connection), else the same */
  let other: EventStore;

  beforeEach(async () => {
    opened = await backend.open(Date.now);
    store = opened.store;
    other = backend.name === 'sqlite :memory:' ? store : await opened.another();
  });
  afterEach(async () => {
    await opened?.cleanup();
  });

  /**
   * Each list is one partition's events. Every run applies its events (reading the docs they touch) before any run
   * flushes; then they flush one after another, alternating store instances.
   */
  async function interleaved(partitions: IncomingEvent[][]): Promise<void> {
    const before = (await store.stats()).applied;
    for (const events of partitions) for (const e of events) expect((await store.accept(e, 60)).status).toBe('accepted');
    const claimed = await store.claim('w1', partitions.length, 60_000, 100);
    expect(claimed).toHaveLength(partitions.length);
    const runs = claimed.map((p, i) => ({ run: new PartitionRun(i % 2 === 0 ? store : other, 'w1', p.partitionKey), events: p.events }));
    for (const { run, events } of runs) {
      await run.prefetch(events);
      for (const e of events) await run.apply(e);
    }
    for (const { run } of runs) expect(await run.flush()).toBe(true);
    expect(await store.stats()).toMatchObject({ depth: 0, applied: before + partitions.flat().length });
  }

  async function expectFoldOfLog(): Promise<void> {
    const folded = [...foldLog(await store.readLog(0, 1000)).values()];
    expect(await store.allEntities()).toEqual(folded);
  }

  it('two conversations\' failed sends and an inbound to one contact: the contact keeps every update', async () => {
    await interleaved([
      [failedSend('SM1', 30003, T0 + 100)],
      [failedSend('SM2', 30005, T0 + 200)],
      [inboundFrom(PROXY, T0 + 300)],
    ]);
    await expectFoldOfLog();
    const [contact] = await store.entities([{ kind: 'contact', id: CONTACT }]);
    expect(contact!.doc).toMatchObject({ reachable: false, lastErrorCode: 30005, lastInboundAt: T0 + 300 });
  });

  it('a suppression add racing a later lift in another conversation: the lift wins, as in the fold', async () => {
    await interleaved([[suppressionFact('suppressionLifted', 'CH2', T0 + 200)], [suppressionFact('suppressionAdded', 'CH1', T0 + 100)]]);
    await expectFoldOfLog();
    // and the other way round: the later add wins whichever commits last
    await interleaved([[suppressionFact('suppressionAdded', 'CH3', T0 + 300)], [suppressionFact('suppressionLifted', 'CH4', T0 + 250)]]);
    await expectFoldOfLog();
    const [doc] = await store.entities([{ kind: 'suppression', id: `${MG}|${CONTACT}` }]);
    expect(doc!.doc).toMatchObject({ suppressed: true, since: T0 + 300 });
  });

  it('two workers, 8 partitions at a time each, on many conversations writing one contact and one suppression: replay finds no difference', async () => {
    const events: IncomingEvent[] = [];
    for (let i = 0; i < 60; i++) {
      events.push(failedSend(`SM${i}`, i % 2 ? 30003 : 30005, T0 + 1_000 + i * 7));
      events.push(suppressionFact(i % 2 ? 'suppressionLifted' : 'suppressionAdded', `CH${i % 20}`, T0 + 1_000 + ((i * 37) % 60)));
      events.push({ ...inboundFrom(`+1555888${String(i).padStart(4, '0')}`, T0 + 1_000 + i), partitionKey: `address:${CONTACT}:${i % 10}` });
    }
    await Promise.all(events.map((e) => store.accept(e, 60)));
    const log = pino({ level: 'silent' });
    const workers = [store, other].map(
      (events, i) => new Worker({ workerId: `w${i}`, events, handle: () => undefined, concurrency: 8, leaseMs: 30_000, maxAttempts: 3, maxProcessingMs: 5_000, log, eventsPerClaim: 5, idlePollMs: 2 }),
    );
    for (const w of workers) w.start();
    const deadline = Date.now() + 20_000;
    while ((await store.stats()).depth > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await Promise.all(workers.map((w) => w.stop()));
    expect(await store.stats()).toMatchObject({ depth: 0, applied: events.length });
    expect((await replayLog(store, { write: false })).differences).toEqual([]);
  });

  it('a doc one run creates while another creates it too: neither insert is lost', async () => {
    // no contact doc yet: both runs read nothing and both write a new one
    await interleaved([[inboundFrom('+15559990001', T0 + 10)], [inboundFrom('+15559990002', T0 + 20)].map((e) => ({ ...e, partitionKey: 'address:other' }))]);
    await expectFoldOfLog();
    const [contact] = await store.entities([{ kind: 'contact', id: CONTACT }]);
    expect(contact!.doc).toMatchObject({ lastInboundBySender: { '+15559990001': T0 + 10, '+15559990002': T0 + 20 } });
  });
});
