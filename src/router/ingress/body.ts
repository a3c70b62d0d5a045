/**
 * Webhook bodies, kept raw: a signature is computed over the bytes (JSON, via bodySHA256) or over the decoded form
 * fields, so the parsers only collect the bytes, bounded, and decoding happens after the signature check (a forged
 * body is never parsed past what checking it needs). Form: `application/x-www-form-urlencoded` as Twilio posts;
 * JSON: `application/json`, whose top-level fields become params (objects and arrays as JSON text).
 */
import { jsonTooDeep } from '../../shared/json-depth.js';
import type { FastifyInstance } from 'fastify';
import type { EventParams } from '../events.js';

export type BodyKind = 'form' | 'json';

/** Where formOf keeps a body's decoded fields: a symbol, so that nothing serialising the body (a log line) shows them. */
const DECODED = Symbol('decoded form');

/** A request body as received. */
export interface RawBody {
  kind: BodyKind;
  raw: Buffer;
  /** its form fields, once formOf has decoded them */
  [DECODED]?: DecodedForm;
}

export interface DecodedForm {
  params: EventParams;
  signing: SigningParams;
}

/** Form fields as Twilio signs them: a repeated key signs every value. */
export type SigningParams = Record<string, string | string[]>;

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_JSON_DEPTH = 32;

/** A body that cannot be decoded: answered 400 with this (fixed, body-free) message. */
export class BodyError extends Error {
  readonly statusCode = 400;
}

/**
 * Replace the scope's parsers with raw-keeping ones for form and JSON (fastify's own JSON parser would drop the
 * bytes bodySHA256 is computed over). Any other content type is answered 415 by fastify; a body over `bodyLimit`
 * bytes 413, before it is read whole.
 */
export function registerRawBodyParsers(app: FastifyInstance, bodyLimit = MAX_BODY_BYTES): void {
  app.removeAllContentTypeParsers();
  const keep = (kind: BodyKind) => (_req: unknown, raw: Buffer, done: (err: Error | null, body?: RawBody) => void) => done(null, { kind, raw });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit }, keep('form'));
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, keep('json'));
}

/** A POST without a body (nor content type) is an empty form, as Twilio would sign it. */
export function rawBodyOf(body: unknown): RawBody {
  if (body && typeof body === 'object' && 'raw' in body && Buffer.isBuffer((body as RawBody).raw)) return body as RawBody;
  return { kind: 'form', raw: Buffer.alloc(0) };
}

/**
 * Form fields, both ways: `signing` with every value of a repeated key (what Twilio signed), `params` with the last
 * one (what the router keeps). Null-prototype objects: a `__proto__` field is a field like any other.
 */
export function decodeForm(raw: Buffer): DecodedForm {
  const params: EventParams = Object.create(null);
  const signing: SigningParams = Object.create(null);
  for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) {
    params[key] = value;
    const seen = signing[key];
    if (seen === undefined) signing[key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else signing[key] = [seen, value];
  }
  return { params, signing };
}

/**
 * decodeForm once per request body: the signature check and the event both need the fields. Kept on the body itself,
 * not in a WeakMap: a WeakMap that outlives requests holds every body until a full GC, so each one was promoted to
 * the old generation (1.3 MB per scavenge at 5,000 webhooks/s, and the pauses were the router's p99).
 */
export function formOf(body: RawBody): DecodedForm {
  return (body[DECODED] ??= decodeForm(body.raw));
}

/**
 * A JSON object body as params: strings as they are, numbers and booleans as text, objects and arrays as JSON
 * text, nulls left out (a form cannot carry them either). The nesting is bounded before parsing, by one linear scan.
 */
export function decodeJson(raw: Buffer, maxDepth = MAX_JSON_DEPTH): EventParams {
  const text = raw.toString('utf8');
  if (jsonTooDeep(text, maxDepth)) throw new BodyError(`JSON body nested deeper than ${maxDepth} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the body: never pass it on
    throw new BodyError('malformed JSON body');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BodyError('JSON body must be an object');
  const params: EventParams = Object.create(null);
  for (const [key, field] of Object.entries(value)) {
    if (field === null || field === undefined) continue;
    params[key] = typeof field === 'object' ? JSON.stringify(field) : String(field);
  }
  return params;
}

