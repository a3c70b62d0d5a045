#!/usr/bin/env node
// The `tce` binary: runs the compiled CLI (npm ci builds dist/ through the `prepare` script).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`tce: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
