/** The error catalogue is the one source of Twilio errors; the README documents it both ways (fastify's rule). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalogue, TwilioError } from '../src/emulator/wire/errors.js';
import { twilioError, type ErrorName } from '../src/emulator/wire/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const errorTable = readme.split('### Errors')[1].split('###')[0];
const documented = [...errorTable.matchAll(/\|\s*(\d{3})\s*\|\s*(\d{5})\s*\|/g)].map((m) => ({ status: Number(m[1]), code: Number(m[2]) }));

describe('error catalogue', () => {
  it('documents every catalogued code with its status in the README, and nothing more', () => {
    const catalogued = new Set(Object.values(errorCatalogue).map((e) => `${e.status}/${e.code}`));
    const inReadme = new Set(documented.map((e) => `${e.status}/${e.code}`));
    expect([...catalogued].sort()).toEqual([...inReadme].sort());
  });

  it('fills every placeholder of every template', () => {
    for (const [name, entry] of Object.entries(errorCatalogue)) {
      const placeholders = [...entry.message.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const params = Object.fromEntries(placeholders.map((p) => [p, `<${p}>`]));
      const error = twilioError(name as ErrorName, params);
      expect(error).toBeInstanceOf(TwilioError);
      expect(error.message).not.toMatch(/\{\w+\}/);
      expect(error.toJSON()).toEqual({ code: entry.code, message: error.message, more_info: `https://www.twilio.com/docs/errors/${entry.code}`, status: entry.status });
    }
  });
});
