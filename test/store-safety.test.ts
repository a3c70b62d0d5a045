/**
 * A refused write stores nothing: the operation, building its answer and checking it (the `onAnswer` hook) are
 * one transaction, so whatever throws before the answer is final rolls the write back, 4xx or 500 alike.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../src/contracts/spec.js';
import { useEmulator } from './support/emulator.js';
import { mutation, tablesDigest } from './support/random-requests.js';
import { buildWorld, pathOf, validParams, type World } from './support/world.js';

/** When set, the answer check vetoes the next answers, as a response validator that throws would. */
let veto = false;
const t = useEmulator({
  onAnswer: () => {
    if (veto) throw new Error('vetoed by the answer check');
  },
});
const digest = () => tablesDigest(t.emulator.core.db);

describe('a refused write stores nothing', () => {
  it('an answer that cannot be built (a timer past year 9999) stores no row, and lists keep working', async () => {
    const before = digest();
    const r = await t.http('POST', '/v1/Conversations', { form: { 'Timers.Inactive': 'P100000000D', UniqueName: 'poison' } });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(t.emulator.core.db.get("SELECT sid FROM conversations WHERE unique_name = 'poison'")).toBeUndefined();
    expect(digest()).toBe(before);
    expect((await t.http('GET', '/v1/Conversations')).status).toBe(200);
  });

  it('an answer the check vetoes is a 500 envelope, and the create, update or delete behind it is rolled back', async () => {
    const kept = await t.client.conversations.v1.conversations.create({ friendlyName: 'kept' });
    const before = digest();
    veto = true;
    try {
      const created = await t.http('POST', '/v1/Conversations', { form: { FriendlyName: 'vetoed', UniqueName: 'vetoed' } });
      expect(created.status).toBe(500);
      expect(created.body).toMatchObject({ code: 20500, status: 500 });
      expect((await t.http('POST', `/v1/Conversations/${kept.sid}`, { form: { FriendlyName: 'renamed' } })).status).toBe(500);
      expect((await t.http('DELETE', `/v1/Conversations/${kept.sid}`)).status).toBe(500);
    } finally {
      veto = false;
    }
    expect(digest()).toBe(before);
    expect((await t.client.conversations.v1.conversations(kept.sid).fetch()).friendlyName).toBe('kept');
  });
});

describe('property: every create and update operation', () => {
  const writes = loadManifest().filter((op) => op.method === 'POST');
  it(`${writes.length} operations, random requests, random vetoes: an answer >= 400 leaves every table byte-identical`, async () => {
    let world: World = await buildWorld(t);
    let run = 0;
    const arb = fc.constantFrom(...writes).chain((op) => fc.tuple(fc.constant(op), mutation(op), fc.boolean()));
    await fc.assert(
      fc.asyncProperty(arb, async ([op, m, vetoed]) => {
        if (++run % 150 === 0) {
          t.emulator.reset();
          world = await buildWorld(t);
        }
        const params: Record<string, string | string[]> = m.startValid ? validParams(op) : {};
        for (const [key, value] of m.changes) params[key] = value;
        const headers: Record<string, string> = m.webhookHeader ? { 'X-Twilio-Webhook-Enabled': m.webhookHeader } : {};
        const path = pathOf(world, op);
        const before = digest();
        veto = vetoed;
        const r = await t.http('POST', path, { form: params, headers }).finally(() => (veto = false));
        const where = `${op.operationId} ${path} ${JSON.stringify(params)} veto=${vetoed} → ${r.status} ${r.text.slice(0, 200)}`;
        if (vetoed) expect(r.status, where).toBeGreaterThanOrEqual(400);
        if (r.status >= 400) expect(digest(), `a refused write changed the database: ${where}`).toBe(before);
      }),
      { numRuns: 600, seed: 20261201, endOnFailure: true },
    );
  }, 120_000);
});
