/**
 * Under StrykerJS only (vitest.config.ts adds this file when STRYKER_MUTATOR_WORKER is set): the active mutant is
 * a global of the test thread, which the webhook worker thread and a spawned `tce serve` do not share. Copied to
 * the environment variable Stryker's instrumented code also reads, it reaches them: they inherit process.env.
 */
import { beforeAll } from 'vitest';

const ENV = '__STRYKER_ACTIVE_MUTANT__';

beforeAll(() => {
  const active = (globalThis as { __stryker__?: { activeMutant?: string } }).__stryker__?.activeMutant;
  if (active === undefined) delete process.env[ENV];
  else process.env[ENV] = String(active);
});
