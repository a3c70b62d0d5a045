/**
 * Sanitizing what a recording keeps. Pure: the SID map goes in and a new one comes out, nothing is mutated.
 * - SIDs become stable placeholders: the first CH… seen is {CH1}, the next {CH2}, one numbering per prefix, the
 *   same SID the same placeholder everywhere (paths, params, answers, webhooks), so replay can re-link them.
 * - Secrets go: parameters and headers named like a credential, and every known secret (the auth token, the API
 *   secret) wherever it appears in a string, become {redacted}; signatures and Authorization are dropped.
 * - Dates in answers and webhooks become their format class ({date:iso8601}, {date:iso8601-ms}, {date:rfc2822}):
 *   replay compares the format, never the instant.
 */
import type { Pairs } from './recording.js';

/** real SID → placeholder */
export type SidMap = Readonly<Record<string, string>>;

export interface SanitizeOptions {
  /** strings to redact wherever they appear (auth tokens, API secrets); shorter than 8 characters ignored */
  secrets?: readonly string[];
  /** replace dates by their format class (answers and webhooks; never request params, which replay sends) */
  shapeDates?: boolean;
}

export const REDACTED = '{redacted}';
export const PAGE_TOKEN = '{PageToken}';
const SID = /(?<![A-Za-z0-9])([A-Z]{2})[0-9a-fA-F]{32}(?![A-Za-z0-9])/g;
export const SID_PLACEHOLDER = /\{([A-Z]{2})(\d+)\}/g;
export const WHOLE_SID_PLACEHOLDER = /^\{([A-Z]{2})\d+\}$/;
/** names of parameters whose value is a credential (Credentials resource: Certificate, PrivateKey, Secret, ApiKey) */
const SECRET_NAME = /token|secret|password|passwd|signature|private.?key|certificate|api.?key|^authorization$|credential.?value/i;
/** headers never kept */
const DROPPED_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-twilio-signature', 'host', 'content-length', 'connection']);

const DATE_CLASSES: [string, RegExp][] = [
  ['{date:iso8601-ms}', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+(Z|[+-]\d{2}:?\d{2})$/],
  ['{date:iso8601}', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:?\d{2})$/],
  ['{date:rfc2822}', /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/],
];

/** the date placeholder of a string, or undefined when it is not a date */
export function dateClass(value: string): string | undefined {
  return DATE_CLASSES.find(([, re]) => re.test(value))?.[0];
}

export function isDatePlaceholder(value: unknown): boolean {
  return typeof value === 'string' && DATE_CLASSES.some(([name]) => name === value);
}

/** Sanitize any JSON value: SIDs to placeholders, secrets redacted, dates shaped when asked. */
export function sanitize<T>(value: T, sids: SidMap, options: SanitizeOptions = {}): { value: T; sids: SidMap } {
  const map: Record<string, string> = { ...sids };
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 8);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return sanitizeString(v, map, secrets, options.shapeDates === true);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return { value: walk(value) as T, sids: map };
}

/** Sanitize parameters: credential-named ones redacted, PageToken made a placeholder, the rest as values. */
export function sanitizePairs(pairs: Pairs, sids: SidMap, options: SanitizeOptions = {}): { value: Pairs; sids: SidMap } {
  let map = sids;
  const value = pairs.map(([name, raw]): [string, string] => {
    if (name === 'PageToken') return [name, PAGE_TOKEN];
    if (SECRET_NAME.test(name)) return [name, REDACTED];
    const out = sanitize(raw, map, options);
    map = out.sids;
    return [name, out.value];
  });
  return { value, sids: map };
}

/** Headers, lower-cased: credentials and signatures dropped, an idempotency token replaced, the rest sanitized. */
export function sanitizeHeaders(headers: Record<string, string | string[] | undefined>, sids: SidMap, options: SanitizeOptions = {}): { value: Record<string, string>; sids: SidMap } {
  let map = sids;
  const value: Record<string, string> = {};
  for (const [rawName, raw] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (raw === undefined || DROPPED_HEADERS.has(name)) continue;
    const text = Array.isArray(raw) ? raw.join(', ') : String(raw);
    if (name === 'i-twilio-idempotency-token') {
      value[name] = '{idempotency-token}';
      continue;
    }
    if (SECRET_NAME.test(name)) continue;
    const out = sanitize(text, map, options);
    map = out.sids;
    value[name] = out.value;
  }
  return { value, sids: map };
}

function sanitizeString(text: string, map: Record<string, string>, secrets: string[], shapeDates: boolean): string {
  if (shapeDates) {
    const shape = dateClass(text);
    if (shape) return shape;
  }
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  // a page token embeds a SID (PA + CH…): whatever it holds, it means nothing outside the server that issued it
  out = out.replace(/([?&]PageToken=)[^&#]*/g, `$1${PAGE_TOKEN}`);
  return out.replace(SID, (sid: string, prefix: string) => {
    let placeholder = map[sid];
    if (!placeholder) {
      const taken = Object.values(map).filter((p) => p.startsWith(`{${prefix}`)).length;
      placeholder = map[sid] = `{${prefix}${taken + 1}}`;
    }
    return placeholder;
  });
}
