/**
 * Property: 10,000 random bodies and query strings across all 103 operations never get a 5xx, every 4xx is a
 * Twilio envelope, and a rejected write changes no stored row (checked by a digest of every table).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../src/contracts/spec.js';
import { formBody, useEmulator } from './support/emulator.js';
import { buildWorld, pathOf, validParams, type World } from './support/world.js';
import { mutation, tablesDigest } from './support/random-requests.js';

const t = useEmulator();
const operations = loadManifest();
const RUNS = 10_000;

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
        const before = write ? tablesDigest(t.emulator.core.db) : '';
        const path = pathOf(world, op);
        const query = formBody(params);
        const r = op.method === 'POST'
          ? await t.http('POST', path, { form: params, headers })
          : await t.http(op.method, query ? `${path}?${query}` : path, { headers });
        const where = `${op.method} ${path} ${JSON.stringify(params)} → ${r.status} ${r.text.slice(0, 300)}`;
        expect(r.status, where).toBeLessThan(500);
        if (r.status >= 400) {
          expect(r.body, where).toEqual({ code: expect.any(Number), message: expect.any(String), more_info: `https://www.twilio.com/docs/errors/${r.body?.code}`, status: r.status });
          if (write) expect(tablesDigest(t.emulator.core.db), `a rejected write changed stored rows: ${where}`).toBe(before);
        }
      }),
      { numRuns: RUNS, seed: 4510, endOnFailure: true },
    );
  }, 300_000);
});
