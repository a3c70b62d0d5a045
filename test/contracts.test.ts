/** The contract machinery itself: the committed manifest matches the spec, the validator really rejects, coverage gates. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResponseValidator } from '../src/contracts/response-validator.js';
import { loadConversationsSpec, manifestPath } from '../src/contracts/spec.js';

const BIN = new URL('../bin/tce.js', import.meta.url).pathname;

describe('contracts', () => {
  it('keeps the committed operation manifest identical to one rebuilt from the vendored spec', async () => {
    const spec = await loadConversationsSpec();
    expect(spec.operations).toHaveLength(103);
    const committed = JSON.parse(readFileSync(manifestPath, 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(spec.operations)));
  });

  it('rejects answers that break the spec: a missing field, a wrong type, an extra field, a bad SID', async () => {
    const validator = new ResponseValidator(await loadConversationsSpec());
    const good = {
      account_sid: 'AC' + 'a'.repeat(32), chat_service_sid: 'IS' + 'a'.repeat(32), messaging_service_sid: 'MG' + 'a'.repeat(32),
      sid: 'CH' + 'a'.repeat(32), friendly_name: null, unique_name: null, attributes: '{}', state: 'active',
      date_created: '2020-01-01T00:00:00Z', date_updated: '2020-01-01T00:00:00Z', timers: {}, url: 'https://conversations.twilio.com/v1/Conversations/CH' + 'a'.repeat(32),
      links: {}, bindings: null,
    };
    expect(validator.validate('FetchConversation', 200, good)).toBeUndefined();
    const { friendly_name: _dropped, ...missing } = good;
    expect(validator.validate('FetchConversation', 200, missing)?.errors.join()).toMatch(/friendly_name/);
    expect(validator.validate('FetchConversation', 200, { ...good, state: 'sleeping' })?.errors.join()).toMatch(/state/);
    expect(validator.validate('FetchConversation', 200, { ...good, extra: 1 })?.errors.join()).toMatch(/additional/);
    expect(validator.validate('FetchConversation', 200, { ...good, sid: 'XX123' })?.errors.join()).toMatch(/sid/);
    expect(validator.validate('FetchConversation', 201, good)?.errors.join()).toMatch(/declares no 201/);
  });

  it('tce contracts coverage exits 1 unless every operation is served and exercised', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tce-coverage-'));
    try {
      const none = spawnSync(process.execPath, [BIN, 'contracts', 'coverage', '--exercised', dir], { encoding: 'utf8' });
      expect(none.status).toBe(1);
      expect(none.stdout).toContain('103/103 served, 0/103 exercised');
      // what is missing is listed, one row each, above the summary
      expect(none.stdout.split('\n').filter((l) => l.includes('| NO')).length).toBe(103);
      const all = JSON.parse(readFileSync(manifestPath, 'utf8')).map((op: { operationId: string }) => op.operationId);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'all.json'), JSON.stringify(all));
      const every = spawnSync(process.execPath, [BIN, 'contracts', 'coverage', '--exercised', dir, '--json'], { encoding: 'utf8' });
      expect(every.status).toBe(0);
      expect(JSON.parse(every.stdout).every((row: { served: boolean; exercised: boolean }) => row.served && row.exercised)).toBe(true);
      // complete: one line by default, the whole table with --table
      const summary = spawnSync(process.execPath, [BIN, 'contracts', 'coverage', '--exercised', dir], { encoding: 'utf8' });
      expect(summary.stdout).toBe('103/103 served, 103/103 exercised by the test suite (every operation: --table)\n');
      const table = spawnSync(process.execPath, [BIN, 'contracts', 'coverage', '--exercised', dir, '--table'], { encoding: 'utf8' });
      expect(table.stdout.split('\n').filter((l) => /\| yes +\| yes +\|$/.test(l)).length).toBe(103);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
