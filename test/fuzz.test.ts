/**
 * Property: 10,000 random bodies and query strings across all 103 operations never get a 5xx, every 4xx is a
 * Twilio envelope, and a rejected write changes no stored row (checked by a digest of every table).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OperationSpec } from '../src/contracts/manifest.js';
import { loadManifest } from '../src/contracts/spec.js';
import { formBody, useEmulator } from './support/emulator.js';
import { buildWorld, pathOf, validParams, type World } from './support/world.js';

const t = useEmulator();
const operations = loadManifest();
const RUNS = 10_000;

function digest(): string {
  const db = t.emulator.core.db;
  const hash = createHash('sha1');
  for (const { name } of db.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
    for (const row of db.all(`SELECT * FROM ${String(name)} ORDER BY rowid`)) hash.update(JSON.stringify(row));
  }
  return hash.digest('hex');
}

const junkValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', ' ', 'null', 'true', 'false', '-1', '0', '1', '101', '1e309', '{}', '[]', '{"a":', 'PT0S', 'P1Y', 'closed', 'GET',
    '+15558675310', 'whatsapp:+15017122661', 'CH' + '0'.repeat(32), 'IS' + 'f'.repeat(32), 'PAIM' + '0'.repeat(32), '%00', '\u0000', '😀'.repeat(5),
    '2020-02-30T25:61:00Z', 'https://example.com/x', 'javascript:alert(1)', 'x'.repeat(300)),
  fc.integer({ min: -1e6, max: 1e6 }).map(String),
);

function mutation(op: OperationSpec) {
  const names = op.params.filter((p) => p.in !== 'path' && p.in !== 'header').map((p) => p.name);
  const key = names.length ? fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 12 })) : fc.string({ maxLength: 12 });
  return fc.record({
    startValid: fc.boolean(),
    changes: fc.array(fc.tuple(key, fc.oneof(junkValue, fc.array(junkValue, { maxLength: 3 }))), { maxLength: 5 }),
    webhookHeader: fc.option(fc.constantFrom('true', 'false', 'maybe'), { nil: undefined }),
  });
}

describe('random requests to every operation', () => {
  it(`${RUNS} runs: no 5xx, Twilio envelopes, rejected writes leave every row as it was`, async () => {
    let world: World = await buildWorld(t);
    let run = 0;
    const opArb = fc.constantFrom(...operations).chain((op) => fc.tuple(fc.constant(op), mutation(op)));
    await fc.assert(
      fc.asyncProperty(opArb, async ([op, m]) => {
        // Deletes and closes wear the world down: rebuild it now and then.
        if (++run % 200 === 0) {
          t.emulator.reset();
          world = await buildWorld(t);
        }
        const params: Record<string, string | string[]> = m.startValid ? validParams(op) : {};
        for (const [key, value] of m.changes) params[key] = value;
        const headers: Record<string, string> = m.webhookHeader ? { 'X-Twilio-Webhook-Enabled': m.webhookHeader } : {};
        const write = op.method !== 'GET';
        const before = write ? digest() : '';
        const path = pathOf(world, op);
        const query = formBody(params);
        const r = op.method === 'POST'
          ? await t.http('POST', path, { form: params, headers })
          : await t.http(op.method, query ? `${path}?${query}` : path, { headers });
        const where = `${op.method} ${path} ${JSON.stringify(params)} → ${r.status} ${r.text.slice(0, 300)}`;
        expect(r.status, where).toBeLessThan(500);
        if (r.status >= 400) {
          expect(r.body, where).toEqual({ code: expect.any(Number), message: expect.any(String), more_info: `https://www.twilio.com/docs/errors/${r.body?.code}`, status: r.status });
          if (write) expect(digest(), `a rejected write changed stored rows: ${where}`).toBe(before);
        }
      }),
      { numRuns: RUNS, seed: 4510, endOnFailure: true },
    );
  }, 300_000);
});
