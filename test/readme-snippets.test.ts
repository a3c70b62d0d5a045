/**
 * The README's "Pointing a client at the emulator" snippets run as written: each block marked with an HTML comment
 * (`<!-- readme-node -->`, `<!-- readme-python -->`, `<!-- readme-curl -->`) is extracted and run against an
 * in-process emulator, with the account in the environment as `npm start` prints it. The only change made to a
 * block is its emulator origin (`http://127.0.0.1:4510`), swapped for this emulator's free port.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { emulatorHttpClient } from '../src/client.js';
import { createEmulator, type EmulatorHandle } from '../src/index.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const README_ORIGIN = 'http://127.0.0.1:4510';

/** the fenced block right after `<!-- marker -->` */
function block(marker: string, language: string): string {
  const found = new RegExp(`<!-- ${marker} -->\\n\`\`\`${language}\\n([\\s\\S]*?)\\n\`\`\``).exec(readme)?.[1];
  if (found === undefined) throw new Error(`README.md has no \`\`\`${language} block right after <!-- ${marker} -->`);
  return found;
}

/** python3 with the twilio package, or why not */
function pythonTwilioMissing(): string | undefined {
  try {
    execFileSync('python3', ['-c', 'import twilio'], { stdio: 'pipe', timeout: 30_000 });
    return undefined;
  } catch {
    return 'python3 cannot `import twilio` on this machine (pip install twilio to run it)';
  }
}
const pythonSkip = pythonTwilioMissing();
if (pythonSkip) console.log(`readme-snippets: the twilio-python block is skipped: ${pythonSkip}`);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: string[], env: Record<string, string>, cwd = root): Promise<Run> {
  return promisify(execFile)(command, args, { cwd, timeout: 60_000, env: { ...process.env, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
  );
}

describe('README client snippets', () => {
  let emulator: EmulatorHandle;
  let env: Record<string, string>;
  const tmp = `${root}test/tmp/`;

  beforeAll(async () => {
    emulator = await createEmulator({ db: ':memory:' });
    env = { TWILIO_ACCOUNT_SID: emulator.accountSid, TWILIO_AUTH_TOKEN: emulator.authToken, TCE_URL: emulator.url };
    mkdirSync(tmp, { recursive: true });
  });
  beforeEach(() => emulator.reset());
  afterAll(() => emulator?.close());

  /** the conversations the emulator holds, read back through the SDK */
  async function conversations(): Promise<{ sid: string; friendlyName: string }[]> {
    const client = twilio(emulator.accountSid, emulator.authToken, { httpClient: emulatorHttpClient(emulator.url) });
    return (await client.conversations.v1.conversations.list()).map((c) => ({ sid: c.sid, friendlyName: c.friendlyName }));
  }

  it('twilio-node: the block runs under node as an ES module and creates the conversation', async () => {
    const source = block('readme-node', 'ts');
    expect(source).toContain(`'${README_ORIGIN}'`);
    // the package's own name resolves to its dist/ (a package may import itself through its exports)
    const file = `${tmp}readme-node-${process.pid}.mjs`;
    writeFileSync(file, source.replaceAll(`'${README_ORIGIN}'`, `'${emulator.url}'`));
    try {
      const result = await run(process.execPath, [file], env);
      expect(result, result.stderr).toMatchObject({ code: 0 });
    } finally {
      rmSync(file, { force: true });
    }
    expect(await conversations()).toEqual([{ sid: expect.stringMatching(/^CH[0-9a-f]{32}$/), friendlyName: 'Support' }]);
  });

  it('twilio-python: the block compiles and every name it reads is defined in it (runs without the twilio package)', async () => {
    // every Name read anywhere must be assigned, imported, defined or a parameter somewhere in the block, or a builtin
    const check = [
      'import ast, builtins, sys',
      'tree = ast.parse(sys.stdin.read())',
      'defined = set(dir(builtins))',
      'for n in ast.walk(tree):',
      '    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store): defined.add(n.id)',
      '    elif isinstance(n, (ast.Import, ast.ImportFrom)): defined.update((a.asname or a.name).split(".")[0] for a in n.names)',
      '    elif isinstance(n, (ast.FunctionDef, ast.ClassDef)): defined.add(n.name)',
      '    elif isinstance(n, ast.arg): defined.add(n.arg)',
      'missing = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - defined)',
      'print(" ".join(missing))',
    ].join('\n');
    const child = execFile('python3', ['-c', check], { timeout: 30_000 });
    child.stdin!.end(block('readme-python', 'python'));
    const [stdout, code] = await Promise.all([
      new Promise<string>((resolve) => { let out = ''; child.stdout!.on('data', (d) => (out += d)).on('end', () => resolve(out)); }),
      new Promise<number | null>((resolve) => child.on('close', resolve)),
    ]);
    expect({ code, undefinedNames: stdout.trim() }).toEqual({ code: 0, undefinedNames: '' });
  });

  it.skipIf(pythonSkip !== undefined)('twilio-python: the block runs under python3 and creates the conversation', async () => {
    // the block reads TCE_URL itself: it runs unchanged
    const result = await run('python3', ['-c', block('readme-python', 'python')], env);
    expect(result, result.stderr).toMatchObject({ code: 0 });
    const [created] = await conversations();
    expect(created).toEqual({ sid: expect.stringMatching(/^CH[0-9a-f]{32}$/), friendlyName: 'Support' });
    expect(result.stdout.trim()).toBe(created!.sid);
  });

  it('curl: the block runs under bash, creates the conversation and lists it', async () => {
    const source = block('readme-curl', 'sh');
    expect(source).toContain(README_ORIGIN);
    const result = await run('bash', ['-e', '-c', source.replaceAll(README_ORIGIN, emulator.url)], env);
    expect(result, result.stderr).toMatchObject({ code: 0 });
    const [created] = await conversations();
    expect(created).toEqual({ sid: expect.stringMatching(/^CH[0-9a-f]{32}$/), friendlyName: 'Support' });
    // the first curl prints the created conversation, the second the page holding it
    const [createAnswer, listAnswer] = result.stdout.split(/(?<=\})(?=\{)/);
    expect(JSON.parse(createAnswer!)).toMatchObject({ sid: created!.sid, friendly_name: 'Support', timers: { date_inactive: expect.any(String) } });
    expect(JSON.parse(listAnswer!)).toMatchObject({ conversations: [{ sid: created!.sid }], meta: { page_size: 20 } });
  });
});
