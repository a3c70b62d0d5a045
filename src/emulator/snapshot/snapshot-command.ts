/**
 * `tce snapshot save FILE --url URL [--control-token T]` and `tce snapshot load FILE --url URL [--control-token T]`:
 * a running emulator's state to a file and back, through `GET` / `PUT /_emulator/snapshot`.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from '../../shared/usage-error.js';
import { createEmulator, type EmulatorHandle, type EmulatorOptions } from '../create-emulator.js';
import { SnapshotLoadError, type Snapshot } from './snapshot.js';

/** how long the emulator may take to answer a save or a load */
const REQUEST_DEADLINE_MS = 120_000;

const USAGE = 'tce snapshot save|load FILE --url URL [--control-token T] [--account-sid AC…]';

/** A snapshot file's document, parsed; a missing or unreadable file, or one that is not JSON, names itself. */
export function readSnapshotFile(file: string, flag = 'FILE'): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag} ${file}: not JSON (${(error as Error).message})`);
  }
}

/** Write a document to `file` whole or not at all (a temporary file renamed over it). */
export function writeSnapshotFile(file: string, document: unknown, flag = 'FILE'): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(document)}\n`);
    renameSync(temporary, file);
  } catch (error) {
    throw new UsageError(`${flag} ${file}: cannot write it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** createEmulator, with the snapshot in `file` (`--import FILE`) loaded before it listens; a refused file names itself. */
export async function startWithImport(options: EmulatorOptions, file: string | undefined): Promise<EmulatorHandle> {
  if (file === undefined) return createEmulator(options);
  const snapshot = readSnapshotFile(file, '--import');
  try {
    // as the file holds it: the load checks the document and refuses what is not a snapshot
    return await createEmulator({ ...options, snapshot: snapshot as Snapshot });
  } catch (error) {
    if (error instanceof SnapshotLoadError) throw new UsageError(`--import ${file}: ${error.message}`);
    throw error;
  }
}

/** A control-plane call; an unreachable emulator names --url, a refusal carries the emulator's message. */
async function call(url: string, method: 'GET' | 'PUT', path: string, token: string | undefined, body?: string): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let target: URL;
  try {
    target = new URL(path, url);
  } catch {
    throw new UsageError(`--url must be the emulator's URL, like http://127.0.0.1:4510, got ${url}`);
  }
  try {
    const response = await fetch(target, { method, headers, body, signal: AbortSignal.timeout(REQUEST_DEADLINE_MS) });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new UsageError(`--url ${url}: no answer from the emulator (${cause})`);
  }
}

function refusal(text: string): string {
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    return text;
  }
}

export async function snapshotCommand(argv: string[]): Promise<void> {
  const [what, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: false,
    options: { url: { type: 'string' }, 'control-token': { type: 'string' }, 'account-sid': { type: 'string' } },
  });
  if (what !== 'save' && what !== 'load') throw new UsageError(`unknown snapshot command: ${what ?? '(none)'}; usage: ${USAGE}`);
  const unknown = Object.keys(values).filter((k) => !['url', 'control-token', 'account-sid'].includes(k));
  if (unknown.length) throw new UsageError(`unknown flag --${unknown[0]}; usage: ${USAGE}`);
  if (positionals.length !== 1) throw new UsageError(`tce snapshot ${what} needs one FILE; usage: ${USAGE}`);
  const url = values.url;
  if (typeof url !== 'string' || url === '') throw new UsageError(`tce snapshot ${what} needs --url (the emulator's URL); usage: ${USAGE}`);
  const token = typeof values['control-token'] === 'string' ? values['control-token'] : undefined;
  const [file] = positionals;

  if (what === 'save') {
    const account = values['account-sid'];
    const query = typeof account === 'string' ? `?accountSid=${encodeURIComponent(account)}` : '';
    const answer = await call(url, 'GET', `/_emulator/snapshot${query}`, token);
    if (answer.status !== 200) throw new Error(`the emulator refused the snapshot (${answer.status}): ${refusal(answer.text)}`);
    writeSnapshotFile(file, JSON.parse(answer.text));
    process.stdout.write(`saved ${url} to ${file}\n`);
    return;
  }
  if (values['account-sid'] !== undefined) throw new UsageError('--account-sid is for save: a file says which account it holds');
  const document = readSnapshotFile(file);
  const answer = await call(url, 'PUT', '/_emulator/snapshot', token, JSON.stringify(document));
  if (answer.status === 400) throw new UsageError(`${file}: the emulator refused it: ${refusal(answer.text)}`);
  if (answer.status !== 204) throw new Error(`the emulator could not load ${file} (${answer.status}): ${refusal(answer.text)}`);
  process.stdout.write(`loaded ${file} into ${url}\n`);
}
