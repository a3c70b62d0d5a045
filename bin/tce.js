#!/usr/bin/env node
// The `tce` binary: runs the compiled CLI (npm ci builds dist/ through the `prepare` script).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`tce: ${error instanceof Error ? error.message : String(error)}\n`);
  // a usage mistake (src/shared/usage-error.ts) exits 2, a failed run 1
  process.exit(typeof error?.exitCode === 'number' ? error.exitCode : 1);
});
