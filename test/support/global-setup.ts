/**
 * Runs once before the suite:
 * - builds dist/ from the sources, so the code the tests reach through dist (the webhook worker thread,
 *   `node bin/tce.js` in the CLI tests) is the code in src/, never a stale build. `tsc -b` compares sources and
 *   outputs (a deleted or outdated output is rebuilt) and is a no-op when nothing changed;
 * - builds the inspector page into dist/ui (scripts/build-ui.mjs, esbuild: well under a second);
 * - clears the operations the tests exercise (tce contracts coverage);
 * - says in one line which router store suites are left out (TCE_TEST_DATABASE_URL / TCE_TEST_REDIS_URL unset).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { clearExercised } from '../../src/contracts/coverage.js';
import { skipNotice } from './router-stores.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export function buildDist(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`building dist/ from src/ failed (tsc -b tsconfig.build.json):\n${e.stdout || e.stderr || e.message}`);
  }
  try {
    execFileSync(process.execPath, ['scripts/build-ui.mjs'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`building the inspector page failed (node scripts/build-ui.mjs):\n${e.stderr || e.stdout || e.message}`);
  }
}

export default function setup(): void {
  buildDist();
  clearExercised();
  const notice = skipNotice();
  if (notice) console.log(notice);
}
