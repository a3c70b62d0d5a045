/**
 * The README's "In-process" section against the code:
 * - every option `createEmulator` accepts, and every member of its handle, `handle.control`, `handle.channel` and
 *   `handle.clock`, has its line there, and no line names one that does not exist. The members are read from
 *   `createEmulator`'s own signature with the TypeScript compiler API, so a new option or method fails this test
 *   until it is documented;
 * - the section's script runs as written (node, ES module, the package's own exports) and prints what the README
 *   says it prints;
 * - the `snapshot` option loads a document or a file before listening, and refuses a bad one, saying why.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import twilio from 'twilio';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { emulatorHttpClient } from '../src/client.js';
import { createEmulator, SnapshotLoadError, type EmulatorHandle } from '../src/index.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');

/** The README section under `## title`, up to the next `## `. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${title}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The fenced block right after `<!-- marker -->`. */
function block(text: string, marker: string, language: string): string {
  const found = new RegExp(`<!-- ${marker} -->\\n\`\`\`${language}\\n([\\s\\S]*?)\\n\`\`\``).exec(text)?.[1];
  if (found === undefined) throw new Error(`README.md has no \`\`\`${language} block right after <!-- ${marker} -->`);
  return found;
}

interface Api {
  options: string[];
  handle: string[];
  control: string[];
  channel: string[];
  clock: string[];
}

/** What `createEmulator` (as src/index.ts exports it) accepts and returns, read by the TypeScript checker. */
function emulatorApi(): Api {
  const entry = join(root, 'src', 'index.ts');
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`TypeScript could not read ${entry}`);
  const exported = checker.getExportsOfModule(moduleSymbol).find((s) => s.name === 'createEmulator');
  if (!exported) throw new Error('src/index.ts does not export createEmulator');
  const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const [signature] = checker.getTypeOfSymbol(target).getCallSignatures();
  const [optionsParameter] = signature!.getParameters();
  const options = checker.getNonNullableType(checker.getTypeOfSymbol(optionsParameter!));
  const handle = checker.getAwaitedType(signature!.getReturnType());
  if (!handle) throw new Error('createEmulator returns no awaitable handle');
  const names = (type: ts.Type) => checker.getPropertiesOfType(type).map((p) => p.name).sort();
  const member = (name: string) => {
    const property = handle.getProperty(name);
    if (!property) throw new Error(`the handle has no ${name}`);
    return names(checker.getTypeOfSymbol(property));
  };
  return { options: names(options), handle: names(handle), control: member('control'), channel: member('channel'), clock: member('clock') };
}

/** What the In-process section documents, one `- \`name\`` line each. */
function documented(): Api {
  const lines = section('In-process').split('\n');
  const docs: Api = { options: [], handle: [], control: [], channel: [], clock: [] };
  for (const line of lines) {
    const member = /^- `emulator\.(\w+)(?:\.(\w+))?/.exec(line);
    if (member) {
      const [, name, inner] = member as unknown as [string, string, string | undefined];
      if (!docs.handle.includes(name)) docs.handle.push(name);
      if (inner !== undefined) {
        if (name !== 'control' && name !== 'channel' && name !== 'clock') throw new Error(`README In-process: emulator.${name}.${inner} is not under control, channel or clock`);
        docs[name].push(inner);
      }
      continue;
    }
    const option = /^- `(\w+)`:/.exec(line)?.[1];
    if (option) docs.options.push(option);
  }
  for (const key of Object.keys(docs) as (keyof Api)[]) docs[key].sort();
  return docs;
}

describe('README "In-process" against createEmulator', () => {
  it('documents every option, handle member, control, channel and clock method, and nothing that is not there', () => {
    const api = emulatorApi();
    // the compiler really read the types (a broken read would give empty lists and pass a lax test)
    expect(api.options).toEqual(expect.arrayContaining(['port', 'db', 'seed', 'clock', 'snapshot', 'rateLimit', 'webhookTransport']));
    expect(api.control).toEqual(expect.arrayContaining(['createApiKey', 'waitForDelivery']));
    expect(documented()).toEqual(api);
  });

  it('its script runs as written and prints what the README shows', async () => {
    const text = section('In-process');
    const script = block(text, 'readme-in-process', 'ts');
    const expected = block(text, 'readme-in-process-output', 'text');
    // under the repository, where the package's own name resolves to its dist/ (self-reference through exports)
    const dir = join(root, 'test', 'tmp');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `readme-in-process-${process.pid}.mjs`);
    writeFileSync(file, script);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: root, timeout: 60_000 });
      expect(stdout.trimEnd()).toBe(expected);
    } finally {
      rmSync(file, { force: true });
    }
  });
});

describe('createEmulator({ snapshot })', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tce-in-process-'));
  const open: EmulatorHandle[] = [];
  afterAll(async () => {
    await Promise.all(open.map((e) => e.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async (options: Parameters<typeof createEmulator>[0]) => {
    const e = await createEmulator({ publicUrl: 'https://conversations.twilio.com', ...options });
    open.push(e);
    return e;
  };
  /** the answer to a GET, as bytes the client would read */
  const get = async (e: EmulatorHandle, accountSid: string, authToken: string, path: string) => {
    const answer = await fetch(`${e.url}${path}`, { headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` } });
    return `${answer.status} ${await answer.text()}`;
  };

  it('starts from a snapshot document or a snapshot file: the same credentials, the same answers', async () => {
    const source = await start({ seed: 'in-process-snapshot', clock: 'manual' });
    const client = twilio(source.accountSid, source.authToken, { httpClient: emulatorHttpClient(source.url) });
    const conversation = await client.conversations.v1.conversations.create({ friendlyName: 'saved' });
    await client.conversations.v1.conversations(conversation.sid).messages.create({ author: 'alice', body: 'kept' });
    const document = await (await fetch(`${source.url}/_emulator/snapshot`)).json();
    const file = join(dir, 'saved.json');
    writeFileSync(file, JSON.stringify(document));

    const paths = [`/v1/Conversations/${conversation.sid}`, `/v1/Conversations/${conversation.sid}/Messages`, '/v1/Conversations'];
    const answers = await Promise.all(paths.map((p) => get(source, source.accountSid, source.authToken, p)));
    expect(answers[0]).toMatch(/^200 .*"friendly_name":"saved"/);
    for (const snapshot of [document, file]) {
      const copy = await start({ snapshot });
      expect({ accountSid: copy.accountSid, authToken: copy.authToken }).toEqual({ accountSid: source.accountSid, authToken: source.authToken });
      expect(copy.clock.now()).toEqual(source.clock.now());
      expect(await Promise.all(paths.map((p) => get(copy, source.accountSid, source.authToken, p)))).toEqual(answers);
    }
  });

  it('refuses a missing file, a file that is not JSON and a document it cannot take, saying which and why', async () => {
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{ nope');
    const cases: [unknown, RegExp][] = [
      [join(dir, 'missing.json'), /^the snapshot cannot be loaded: cannot read .*missing\.json \(ENOENT\)$/],
      [notJson, /^the snapshot cannot be loaded: .*not\.json is not JSON \(/],
      [{ format: 'tce-snapshot', version: 999, tables: {} }, /^the snapshot cannot be loaded: snapshot version 999 is not one/],
      [{ format: 'other' }, /^the snapshot cannot be loaded: not a tce snapshot/],
    ];
    for (const [snapshot, message] of cases) {
      const failed = await createEmulator({ snapshot: snapshot as string }).then(
        (e) => {
          open.push(e);
          return undefined;
        },
        (error: unknown) => error,
      );
      expect(failed, String(message)).toBeInstanceOf(SnapshotLoadError);
      expect((failed as Error).message).toMatch(message);
    }
  });
});
