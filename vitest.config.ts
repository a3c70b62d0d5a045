import { defineConfig } from 'vitest/config';
import FastFirstSequencer from './test/support/stryker-sequencer.js';

const underStryker = process.env.STRYKER_MUTATOR_WORKER !== undefined;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // builds dist/ from src/ (the webhook worker and `tce` run it), then clears the contracts coverage record
    globalSetup: ['test/support/global-setup.ts'],
    // under StrykerJS: the active mutant reaches worker threads and child processes (see the file)
    setupFiles: underStryker ? ['test/support/stryker-env.ts'] : [],
    // under StrykerJS: the files that kill a mutant soonest first (see the file)
    ...(underStryker ? { sequence: { sequencer: FastFirstSequencer } } : {}),
    // better-sqlite3 is a native addon: separate processes keep each file's databases apart
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
