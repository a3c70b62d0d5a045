/**
 * Runs a README example as the user would: the ```ts block right after `<!-- marker -->`, with the package's own
 * import ('twilio-conversations-emulator/testing') resolved to the sources here, type-checked strictly (a TypeScript
 * reader copies it; vitest only strips the types), then run as its own vitest file in a child process.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGE_IMPORT = "'twilio-conversations-emulator/testing'";
const LOCAL_IMPORT = "'../../src/testing/index.js'";

export interface ReadmeExampleRun {
  /** the block as run, its package import replaced */
  source: string;
  /** 'clean', or tsc's report */
  typeCheck: string;
  /** 'passed', or the exit code with vitest's output */
  outcome: string;
  /** vitest's output (its summary: `Tests  N passed (N)`) */
  stdout: string;
}

/** The ```ts block right after `<!-- marker -->` in README.md; throws naming the marker when there is none. */
export function readmeBlock(marker: string): string {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const block = new RegExp(`<!-- ${marker} -->\\n\`\`\`ts\\n([\\s\\S]*?)\\n\`\`\``).exec(readme)?.[1];
  if (block === undefined) throw new Error(`README.md has no \`\`\`ts block right after <!-- ${marker} -->`);
  return block;
}

export async function runReadmeExample(marker: string, timeoutMs = 120_000): Promise<ReadmeExampleRun> {
  const source = readmeBlock(marker).replaceAll(PACKAGE_IMPORT, LOCAL_IMPORT);
  if (!source.includes(LOCAL_IMPORT)) throw new Error(`the <!-- ${marker} --> example does not import ${PACKAGE_IMPORT}`);
  mkdirSync(`${ROOT}test/tmp`, { recursive: true });
  const file = `test/tmp/readme-${marker}-${process.pid}.test.ts`;
  writeFileSync(ROOT + file, source);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const typeCheckArgs = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--esModuleInterop', '--skipLibCheck', '--types', 'node', file];
  try {
    const typeCheck = await promisify(execFile)(process.execPath, [tsc, ...typeCheckArgs], { cwd: ROOT, timeout: timeoutMs }).then(
      () => 'clean',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    if (typeCheck !== 'clean') return { source, typeCheck, outcome: 'not run', stdout: '' };
    const run = await promisify(execFile)('npx', ['vitest', 'run', file], { cwd: ROOT, timeout: timeoutMs, env: { ...process.env, NO_COLOR: '1' } }).catch(
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ failed: error.code, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
    );
    const outcome = 'failed' in run ? `exit ${String(run.failed)}\n${run.stdout}\n${run.stderr}` : 'passed';
    return { source, typeCheck, outcome, stdout: run.stdout };
  } finally {
    rmSync(ROOT + file, { force: true });
  }
}
