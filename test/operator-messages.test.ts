/**
 * What an operator sees when the store fails at runtime (stderr names the file and the cause, once), and the
 * control plane's way back to wall time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type TestEmulator } from './support/emulator.js';

const dir = mkdtempSync(join(tmpdir(), 'tce-operator-'));
const started: TestEmulator[] = [];
afterAll(async () => {
  for (const t of started) await t.emulator.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** Run `fn` and return what it wrote to this process's stderr (the in-process emulator writes there). */
async function stderrOf(fn: () => Promise<void>): Promise<string> {
  const write = process.stderr.write;
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stderr.write = write;
  }
  return text;
}

describe('a full disk', () => {
  it('answers a Twilio 500, stores nothing half-way, and says once on stderr which file is full', async () => {
    const db = join(dir, 'full.sqlite');
    const t = await startEmulator({ db });
    started.push(t);
    const raw = t.emulator.core.db.raw;
    // SQLITE_FULL without filling the machine's disk: the file may not grow past a few more pages
    raw.pragma(`max_page_count = ${(raw.pragma('page_count', { simple: true }) as number) + 4}`);
    const statuses: number[] = [];
    const stderr = await stderrOf(async () => {
      for (let i = 0; i < 40; i++) {
        const r = await t.http('POST', '/v1/Conversations', { form: { FriendlyName: 'x'.repeat(250), Attributes: JSON.stringify({ pad: 'y'.repeat(2000) }), UniqueName: `full-${i}` } });
        statuses.push(r.status);
        if (r.status === 500) expect(r.body).toEqual({ code: 20500, message: expect.any(String), more_info: 'https://www.twilio.com/docs/errors/20500', status: 500 });
      }
    });
    expect(statuses).toContain(500);
    expect(statuses.every((s) => s === 201 || s === 500)).toBe(true);
    const acknowledged = statuses.filter((s) => s === 201).length;
    expect(Number(t.emulator.core.db.get('SELECT count(*) AS n FROM conversations')?.n)).toBe(acknowledged);
    expect(stderr.match(/tce: database .* the disk is full/g)).toHaveLength(1);
    expect(stderr).toContain(`database ${db}: the disk is full`);
    expect(stderr).toContain('SQLITE_FULL');
    // space again: writes work again
    raw.pragma('max_page_count = 1073741823');
    expect((await t.http('POST', '/v1/Conversations', { form: { UniqueName: 'after-space' } })).status).toBe(201);
  });
});

describe('POST /_emulator/clock', () => {
  it('{"reset": true} goes back to wall time after set, advance and mode changes', async () => {
    const t = await startEmulator({ db: ':memory:' });
    started.push(t);
    const clock = (body: unknown) => t.http('POST', '/_emulator/clock', { body: JSON.stringify(body), contentType: 'application/json', auth: null });
    await clock({ set: '2030-01-01T00:00:00Z' });
    await clock({ mode: 'manual' });
    await clock({ advanceSeconds: 3600 });
    const real = await clock({ mode: 'real' });
    // {"mode":"real"} runs on from the emulator's time, as documented
    expect(real.body).toMatchObject({ mode: 'real', now: expect.stringMatching(/^2030-01-01T01:00/) });
    const reset = await clock({ reset: true });
    expect(reset.status).toBe(200);
    expect(reset.body.mode).toBe('real');
    expect(Math.abs(Date.parse(reset.body.now) - Date.now())).toBeLessThan(5_000);
    expect((await clock({ reset: 'yes' })).status).toBe(400);
  });
});
