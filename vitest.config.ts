import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // builds dist/ from src/ (the webhook worker and `tce` run it), then clears the contracts coverage record
    globalSetup: ['test/support/global-setup.ts'],
    // under StrykerJS: the active mutant reaches worker threads and child processes (see the file)
    setupFiles: process.env.STRYKER_MUTATOR_WORKER === undefined ? [] : ['test/support/stryker-env.ts'],
    // better-sqlite3 is a native addon: separate processes keep each file's databases apart
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
