/**
 * Twilio's request signature: base64(HMAC-SHA1(authToken, url + every POST parameter as key+value, keys sorted)).
 * Array values emit key+value once per distinct value, sorted (as twilio-node's validator expects). For GET
 * webhooks the parameters travel in the URL and the parameter set is empty. The URL signed is the configured one
 * without its `#…` fragment (connection overrides), as decisions.md fixes. Pure functions: the webhook thread
 * (transport-worker.ts) frames and signs what it sends, the journal frames the same request to show it.
 */
import { createHmac } from 'node:crypto';

export type FormParams = Record<string, string | string[]>;

export function signatureBase(url: string, params: FormParams): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    if (Array.isArray(value)) for (const v of [...new Set(value)].sort()) data += key + v;
    else data += key + value;
  }
  return data;
}

export function twilioSignature(authToken: string, url: string, params: FormParams): string {
  return createHmac('sha1', authToken).update(signatureBase(url, params), 'utf8').digest('base64');
}

/** The form body Twilio sends: repeated keys for arrays. */
export function formEncode(params: FormParams): string {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) for (const v of Array.isArray(value) ? value : [value]) out.append(key, v);
  return out.toString();
}

/** A webhook to send, before framing: the URL to call and sign (no `#…` fragment) and its parameters. */
export interface WebhookRequest {
  url: string;
  method: 'GET' | 'POST';
  params: FormParams;
  idempotencyToken: string;
  /** the account's auth token, which signs it */
  authToken: string;
}

export interface SignedRequest {
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** The HTTP request Twilio sends for a webhook: GET carries the parameters in the URL, POST as a form body. */
export function signedRequest(r: WebhookRequest): SignedRequest {
  const headers: Record<string, string> = {
    'i-twilio-idempotency-token': r.idempotencyToken,
    'user-agent': 'TwilioProxy/1.1',
  };
  if (r.method === 'GET') {
    const url = `${r.url}${r.url.includes('?') ? '&' : '?'}${formEncode(r.params)}`;
    headers['x-twilio-signature'] = twilioSignature(r.authToken, url, {});
    return { url, headers };
  }
  headers['content-type'] = 'application/x-www-form-urlencoded';
  headers['x-twilio-signature'] = twilioSignature(r.authToken, r.url, r.params);
  return { url: r.url, headers, body: formEncode(r.params) };
}
