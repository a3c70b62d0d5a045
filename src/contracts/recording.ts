/**
 * The recording format (docs/recording-format.md): one `recording.json` in a directory, an ordered list of
 * sanitized REST exchanges and webhook entries. Written by the Recorder (src/contracts/recorder.ts), replayed by
 * `tce contracts diff` (src/contracts/replay.ts). Reading validates every entry, so a bad file gets one precise
 * error naming it, never a stack.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RECORDING_FILE = 'recording.json';
export const RECORDING_FORMAT = 'tce-recording';
export const RECORDING_VERSION = 1;
/** request headers that change what the server does: the only ones recorded and replayed */
export const REPLAYED_HEADERS: ReadonlySet<string> = new Set(['x-twilio-webhook-enabled']);

/** form or query parameters in order, repeated keys repeated */
export type Pairs = [string, string][];

export interface RestEntry {
  kind: 'rest';
  /** 1-based position in the recording */
  n: number;
  method: string;
  /** the host the client called, e.g. conversations.twilio.com (informative: replay ignores it) */
  host: string;
  /** path without query, SIDs as placeholders: /v1/Conversations/{CH1} */
  path: string;
  query: Pairs;
  form: Pairs;
  /** request headers worth replaying (only X-Twilio-Webhook-Enabled is) */
  headers: Record<string, string>;
  /** this request fetched a page link of an earlier answer: replay takes the URL from the emulator's answer */
  follow?: { n: number; link: string };
  status: number;
  /** parsed JSON answer (null for an empty body, e.g. 204), sanitized */
  body: unknown;
}

export interface WebhookEntry {
  kind: 'webhook';
  n: number;
  /** EventType (Conversations), else `message-status` or `incoming-message` (Messaging) */
  eventType: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  params: Pairs;
}

export type Entry = RestEntry | WebhookEntry;

export interface Recording {
  format: typeof RECORDING_FORMAT;
  version: typeof RECORDING_VERSION;
  /** the placeholder of the account the client authenticated as, bound to the replay's account */
  account?: string;
  entries: Entry[];
}

export class RecordingError extends Error {}

/** Write `DIR/recording.json` whole (temp file + rename: a reader never sees half a file). */
export function writeRecording(dir: string, recording: Recording): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, RECORDING_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(recording, null, 1)}\n`);
  renameSync(tmp, file);
  return file;
}

export function readRecording(dir: string): Recording {
  if (!existsSync(dir)) throw new RecordingError(`${dir}: no such directory`);
  if (!statSync(dir).isDirectory()) throw new RecordingError(`${dir}: not a directory (pass the directory holding ${RECORDING_FILE})`);
  const file = join(dir, RECORDING_FILE);
  if (!existsSync(file)) throw new RecordingError(`${file}: missing (a recording is a directory holding ${RECORDING_FILE})`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new RecordingError(`${file}: not JSON (${(error as Error).message})`);
  }
  return validateRecording(data, file);
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPairs = (v: unknown): v is Pairs =>
  Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string');
const isStringMap = (v: unknown): v is Record<string, string> => isObject(v) && Object.values(v).every((x) => typeof x === 'string');

export function validateRecording(data: unknown, file: string): Recording {
  const fail = (what: string): never => {
    throw new RecordingError(`${file}: ${what}`);
  };
  if (!isObject(data)) return fail('must hold a JSON object');
  if (data.format !== RECORDING_FORMAT) fail(`"format" must be "${RECORDING_FORMAT}", got ${JSON.stringify(data.format)}`);
  if (data.version !== RECORDING_VERSION) fail(`"version" must be ${RECORDING_VERSION}, got ${JSON.stringify(data.version)}`);
  if (data.account !== undefined && typeof data.account !== 'string') fail('"account" must be a string');
  if (!Array.isArray(data.entries)) return fail('"entries" must be an array');
  data.entries.forEach((e: unknown, i: number) => {
    const at = `entry ${i + 1}`;
    const need = (ok: boolean, what: string) => ok || fail(`${at}: ${what}`);
    if (!isObject(e)) return fail(`${at}: must be an object`);
    need(e.n === i + 1, `"n" must be ${i + 1}, got ${JSON.stringify(e.n)}`);
    need(typeof e.method === 'string' && /^[A-Z]+$/.test(e.method), '"method" must be an upper-case HTTP method');
    need(typeof e.path === 'string' && e.path.startsWith('/'), '"path" must be a string starting with /');
    need(isStringMap(e.headers), '"headers" must be an object of strings');
    if (e.kind === 'rest') {
      need(typeof e.host === 'string', '"host" must be a string');
      need(isPairs(e.query), '"query" must be a list of [name, value] string pairs');
      need(isPairs(e.form), '"form" must be a list of [name, value] string pairs');
      need(Number.isInteger(e.status) && (e.status as number) >= 100 && (e.status as number) <= 599, '"status" must be an HTTP status code');
      need('body' in e, '"body" is missing (null for none)');
      if (e.follow !== undefined) {
        const f = e.follow as Json;
        need(isObject(f) && Number.isInteger(f.n) && (f.n as number) >= 1 && (f.n as number) <= i && typeof f.link === 'string', '"follow" must be { n: an earlier entry, link: a field path }');
      }
    } else if (e.kind === 'webhook') {
      need(typeof e.eventType === 'string', '"eventType" must be a string');
      need(isPairs(e.params), '"params" must be a list of [name, value] string pairs');
    } else {
      fail(`${at}: "kind" must be "rest" or "webhook", got ${JSON.stringify(e.kind)}`);
    }
  });
  return data as unknown as Recording;
}
