/**
 * Reads a replay file: JSON Lines, one captured webhook a line,
 *   { "params": { "EventType": "onMessageAdded", … }, "receivedAt"?: "2026-…Z", "headers"?: { "I-Twilio-Idempotency-Token": "…" } }
 * (what `GET /_emulator/webhooks/deliveries?format=jsonl` exports). The whole file is checked before anything is
 * sent: the first bad line fails with `FILE:LINE: what is wrong`. Blank lines are skipped. X-Twilio-Signature,
 * Content-Type, Content-Length and Host are dropped from `headers`: the replay sets them for its own request.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseDateTime } from '../emulator/wire/dates.js';
import type { FormParams } from '../emulator/webhooks/signing.js';

export interface ReplayLine {
  /** 1-based line number in the file */
  line: number;
  params: FormParams;
  /** epoch milliseconds, when the line has `receivedAt` */
  receivedAt?: number;
  headers: Record<string, string>;
}

/** Bounds: the file is held in memory to be checked before the first send. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
export const MAX_LINES = 1_000_000;

const FIELDS = ['params', 'receivedAt', 'headers'];
const DROPPED_HEADERS = new Set(['x-twilio-signature', 'content-type', 'content-length', 'host']);

export class ReplayFileError extends Error {}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One line's object, or a description of what is wrong with it. */
export function parseLine(text: string, line: number): ReplayLine | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  if (!isObject(value)) return 'must be a JSON object { "params": {…}, "receivedAt"?: …, "headers"?: {…} }';
  for (const key of Object.keys(value)) if (!FIELDS.includes(key)) return `unknown field "${key}" (expected params, receivedAt, headers)`;
  if (value.params === undefined) return '"params" is missing';
  if (!isObject(value.params)) return '"params" must be an object of form fields';
  const params: FormParams = {};
  for (const [key, v] of Object.entries(value.params)) {
    if (typeof v === 'string') params[key] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) params[key] = v as string[];
    else return `params.${key} must be a string or an array of strings`;
  }
  let receivedAt: number | undefined;
  if (value.receivedAt !== undefined) {
    receivedAt = typeof value.receivedAt === 'string' ? parseDateTime(value.receivedAt) : undefined;
    if (receivedAt === undefined) return `"receivedAt" must be an ISO-8601 date-time, got ${JSON.stringify(value.receivedAt)}`;
  }
  const headers: Record<string, string> = {};
  if (value.headers !== undefined) {
    if (!isObject(value.headers)) return '"headers" must be an object of strings';
    for (const [name, v] of Object.entries(value.headers)) {
      if (typeof v !== 'string') return `headers.${name} must be a string`;
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return `headers: "${name}" is not a header name`;
      if (/[\r\n\0]/.test(v)) return `headers.${name} holds a line break`;
      if (!DROPPED_HEADERS.has(name.toLowerCase())) headers[name] = v;
    }
  }
  return { line, params, receivedAt, headers };
}

/** Every line of `file`, checked; throws ReplayFileError naming FILE:LINE for the first bad one. */
export async function readReplayFile(file: string): Promise<ReplayLine[]> {
  let size: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new ReplayFileError(`${file}: not a file`);
    size = s.size;
  } catch (error) {
    if (error instanceof ReplayFileError) throw error;
    throw new ReplayFileError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (size > MAX_FILE_BYTES) throw new ReplayFileError(`${file}: ${size} bytes, more than the ${MAX_FILE_BYTES} a replay reads`);
  const lines: ReplayLine[] = [];
  const stream = createReadStream(file, { encoding: 'utf8' });
  const input = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of input) {
      n++;
      if (text.trim() === '') continue;
      if (lines.length >= MAX_LINES) throw new ReplayFileError(`${file}:${n}: more than ${MAX_LINES} lines`);
      const parsed = parseLine(text, n);
      if (typeof parsed === 'string') throw new ReplayFileError(`${file}:${n}: ${parsed}`);
      lines.push(parsed);
    }
  } finally {
    // a bad line stops the read there: the file is closed, not read to its end
    input.close();
    stream.destroy();
  }
  if (lines.length === 0) throw new ReplayFileError(`${file}: no webhooks to replay (the file is empty)`);
  return lines;
}
