/**
 * Form decoding as Twilio reads it: repeated keys become arrays (`Permission=a&Permission=b`), dotted keys stay
 * literal names (`Timers.Inactive`, `MessagingBinding.Address`) exactly as the spec names the parameters.
 */
import type { FastifyInstance } from 'fastify';

export type RawParams = Record<string, string | string[]>;

/** Parse form bodies (the only body Twilio's APIs take) into RawParams, in this plugin's context. */
export function acceptFormBodies(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, decodeForm(body as string));
  });
}

export function decodeForm(body: string): RawParams {
  const out: RawParams = {};
  if (body === '') return out;
  for (const [key, value] of new URLSearchParams(body)) {
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[key] = [existing, value];
  }
  return out;
}
