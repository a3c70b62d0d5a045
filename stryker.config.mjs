// StrykerJS mutation testing (`npm run mutation`; not in CI). The README's "Mutation testing" says how to run a part.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: [
    'src/emulator/wire/**/*.ts',
    'src/emulator/store/**/*.ts',
    'src/emulator/http/**/*.ts',
    'src/emulator/webhooks/signing.ts',
    'src/emulator/resources/participants/**/*.ts',
    'src/emulator/resources/conversations/timers.ts',
  ],
  // the machine is shared: one test runner, and room for slow runs (emulators, webhooks, spawned `tce serve`)
  concurrency: 1,
  timeoutMS: 30_000,
  timeoutFactor: 2,
  dryRunTimeoutMinutes: 30,
  // the sandbox rebuilds dist/ from the mutated sources (test/support/global-setup.ts)
  ignorePatterns: ['dist', 'reports', '.tce', 'coverage', '*.sqlite*', '*.tsbuildinfo', '.stryker-tmp*'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // a static mutant (module-level code) re-runs every test: ~2 min each here; `--ignoreStatic false` includes them
  ignoreStatic: true,
  thresholds: { high: 90, low: 80, break: null },
};
