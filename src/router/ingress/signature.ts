/**
 * Twilio's request signature, checked against the exact URL Twilio signed. That URL is the public one: the
 * configured PUBLIC_WEBHOOK_BASE_URL (which may carry a path prefix a proxy strips), else what a trusted proxy says
 * in X-Forwarded-Proto / X-Forwarded-Host, else the Host header and the socket's own protocol; then the request
 * target exactly as received, raw query included (re-encoding it, e.g. `+` to `%20` or `'` to `%27`, changes the
 * string Twilio hashed). The HMAC itself is the SDK's (getExpectedTwilioSignature, validateRequest / validateRequestWithBody): it already tries
 * the URL with and without the default port (twilio-node#411), and the as-received URL before its re-encoded forms
 * (#1183). No http/https variant is added: a TLS-terminating tunnel is only believed through trustProxy or publicUrl.
 * Pure functions of (token, headers, raw body, url), as Svix checks its signatures.
 */
import { timingSafeEqual } from 'node:crypto';
import twilio from 'twilio';
import { formOf, type RawBody } from './body.js';

export type Headers = Record<string, string | string[] | undefined>;

/** What the public URL is derived from: the request as the router received it. */
export interface ReceivedRequest {
  /** the request target exactly as received (Node's `req.url`, fastify's `request.url`): path and raw query */
  url: string;
  headers: Headers;
  /** the connection to the router is TLS */
  encrypted: boolean;
}

export interface PublicUrlOptions {
  /** PUBLIC_WEBHOOK_BASE_URL, e.g. `https://hooks.example.com` or `https://example.com/router` */
  publicUrl?: string;
  /** believe X-Forwarded-Proto / X-Forwarded-Host (only behind a proxy you run) */
  trustProxy: boolean;
}

/** The URL Twilio signed for this request, or undefined when it cannot be known (no usable host). */
export function publicUrlOf(request: ReceivedRequest, options: PublicUrlOptions): string | undefined {
  const target = originForm(request.url);
  if (options.publicUrl !== undefined && options.publicUrl !== '') return options.publicUrl.replace(/\/+$/, '') + target;
  const forwardedProto = options.trustProxy ? firstValue(request.headers['x-forwarded-proto'])?.toLowerCase() : undefined;
  const forwardedHost = options.trustProxy ? firstValue(request.headers['x-forwarded-host']) : undefined;
  const proto = forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : request.encrypted ? 'https' : 'http';
  const host = forwardedHost || firstValue(request.headers.host) || firstValue(request.headers[':authority']);
  if (!host || !isAuthority(host)) return undefined;
  return `${proto}://${host}${target}`;
}

export type SignatureFailure =
  /** no X-Twilio-Signature header */
  | 'missing-signature'
  /** validation is on but no auth token is configured */
  | 'no-auth-token'
  /** the public URL could not be derived (no Host) */
  | 'no-url'
  /** a JSON body whose URL carries no bodySHA256 */
  | 'missing-body-hash'
  /** the HMAC (or, for JSON, the body hash) does not match */
  | 'mismatch';

export type SignatureVerdict = { ok: true } | { ok: false; reason: SignatureFailure };

export interface SignatureInput {
  authToken: string | undefined;
  headers: Headers;
  body: RawBody;
  /** publicUrlOf(...) */
  url: string | undefined;
}

/**
 * Form bodies: HMAC over the URL and the sorted form fields (every value of a repeated key). JSON bodies: HMAC over
 * the URL alone, whose `bodySHA256` must be the SHA-256 of the raw bytes (bottender#815: without it, anything goes).
 */
export function checkSignature({ authToken, headers, body, url }: SignatureInput): SignatureVerdict {
  if (!authToken) return { ok: false, reason: 'no-auth-token' };
  const signature = firstValue(headers['x-twilio-signature']);
  if (!signature) return { ok: false, reason: 'missing-signature' };
  if (!url) return { ok: false, reason: 'no-url' };
  try {
    if (body.kind === 'json') {
      if (!hasQueryParam(url, 'bodySHA256')) return { ok: false, reason: 'missing-body-hash' };
      // JSON is UTF-8 (RFC 8259); bytes that are not would not survive the SDK's string round trip and fail, as they should
      return twilio.validateRequestWithBody(authToken, signature, url, body.raw.toString('utf8')) ? { ok: true } : { ok: false, reason: 'mismatch' };
    }
    const params = formOf(body).signing;
    // the URL as received is what Twilio signed in the common case: one HMAC with the SDK's own string-to-sign; the
    // SDK's validateRequest (two to six HMACs, each URL variant parsed) decides only when that one does not match
    if (sameSignature(signature, twilio.getExpectedTwilioSignature(authToken, url, params))) return { ok: true };
    return twilio.validateRequest(authToken, signature, url, params) ? { ok: true } : { ok: false, reason: 'mismatch' };
  } catch {
    // the SDK parses the URL with `new URL()` for its fallbacks: a URL it cannot parse cannot match either
    return { ok: false, reason: 'mismatch' };
  }
}

/** constant-time comparison (the length of a signature is no secret: it is fixed by the algorithm) */
function sameSignature(received: string, expected: string): boolean {
  const a = Buffer.from(received);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Node keeps absolute-form targets (`POST http://host/path`, as sent to proxies) whole: keep the path and query. */
function originForm(target: string): string {
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  const rest = absolute ? target.slice(absolute[0].length) : target;
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** The first of a comma-separated list (the hop nearest the client, for X-Forwarded-*), trimmed. */
function firstValue(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const first = text.split(',')[0].trim();
  return first === '' ? undefined : first;
}

/** host[:port] with nothing that would change where the path starts */
function isAuthority(host: string): boolean {
  return !/[\s/?#@\\]/.test(host);
}

function hasQueryParam(url: string, name: string): boolean {
  const query = url.indexOf('?');
  if (query < 0) return false;
  return new URLSearchParams(url.slice(query + 1)).has(name);
}
