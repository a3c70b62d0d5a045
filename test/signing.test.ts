/**
 * Webhook framing and signing (src/emulator/webhooks/signing.ts), checked against the official SDK: every request
 * it frames validates with `twilio.validateRequest` on the URL the consumer sees, and its body decodes back to the
 * parameters. The delivery suites check the same end to end for the payloads the emulator sends; these reach the
 * corners those payloads do not (repeated values, GET URLs that already carry a query, odd characters).
 */
import fc from 'fast-check';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { formEncode, signatureBase, signedRequest, twilioSignature, type FormParams } from '../src/emulator/webhooks/signing.js';
import { parseForm } from './support/webhook-receiver.js';

const TOKEN = 'signing-test-token';
const URL_ = 'https://consumer.example.com/hook';

const key = fc.stringMatching(/^[A-Za-z][A-Za-z0-9.]{0,12}$/);
const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const params: fc.Arbitrary<FormParams> = fc.dictionary(key, fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 4 })), { maxKeys: 6 });

/** what the consumer's form parser gives back: a one-element array arrives as a single value */
const asReceived = (p: FormParams): FormParams =>
  Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Array.isArray(v) && v.length === 1 ? v[0] : v]));

describe('signedRequest (POST)', () => {
  it('signs any parameters, repeated ones included, as twilio.validateRequest checks them', () => {
    fc.assert(
      fc.property(params, (p) => {
        const r = signedRequest({ url: URL_, method: 'POST', params: p, idempotencyToken: 'tok', authToken: TOKEN });
        expect(r.url).toBe(URL_);
        expect(parseForm(r.body ?? '')).toEqual(asReceived(p));
        expect(twilio.validateRequest(TOKEN, r.headers['x-twilio-signature'], URL_, parseForm(r.body ?? ''))).toBe(true);
        expect(twilio.validateRequest('another-token', r.headers['x-twilio-signature'], URL_, parseForm(r.body ?? ''))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('a repeated value is signed once, values in sorted order, keys in sorted order', () => {
    const p = { To: ['b', 'a', 'b'], Body: 'hi' };
    expect(signatureBase(URL_, p)).toBe(`${URL_}BodyhiToaTob`);
    expect(formEncode(p)).toBe('To=b&To=a&To=b&Body=hi');
    expect(twilioSignature(TOKEN, URL_, p)).toBe(twilio.getExpectedTwilioSignature(TOKEN, URL_, p));
  });

  it('sends Twilio headers: the idempotency token, TwilioProxy user agent, a form content type', () => {
    const r = signedRequest({ url: URL_, method: 'POST', params: { A: '1' }, idempotencyToken: 'idem-1', authToken: TOKEN });
    expect(r.headers).toEqual({
      'i-twilio-idempotency-token': 'idem-1',
      'user-agent': 'TwilioProxy/1.1',
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(TOKEN, URL_, { A: '1' }),
    });
    expect(r.body).toBe('A=1');
  });
});

describe('signedRequest (GET)', () => {
  it('puts the parameters in the URL and signs that URL with no parameters', () => {
    fc.assert(
      fc.property(params, fc.constantFrom(URL_, `${URL_}?tenant=a%20b`, `${URL_}?x=1&y=2`), (p, url) => {
        const r = signedRequest({ url, method: 'GET', params: p, idempotencyToken: 'tok', authToken: TOKEN });
        expect(r.body).toBeUndefined();
        expect(r.headers['content-type']).toBeUndefined();
        // the configured URL stays as it is, the parameters follow after one separator and decode back
        const prefix = url + (url.includes('?') ? '&' : '?');
        expect(r.url.startsWith(prefix)).toBe(true);
        expect(parseForm(r.url.slice(prefix.length))).toEqual(asReceived(p));
        expect(twilio.validateRequest(TOKEN, r.headers['x-twilio-signature'], r.url, {})).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('adds the parameters with ? to a bare URL and with & to one that has a query', () => {
    const plain = signedRequest({ url: URL_, method: 'GET', params: { A: '1' }, idempotencyToken: 't', authToken: TOKEN });
    expect(plain.url).toBe(`${URL_}?A=1`);
    const query = signedRequest({ url: `${URL_}?k=v`, method: 'GET', params: { A: '1' }, idempotencyToken: 't', authToken: TOKEN });
    expect(query.url).toBe(`${URL_}?k=v&A=1`);
    expect(query.headers).toEqual({
      'i-twilio-idempotency-token': 't',
      'user-agent': 'TwilioProxy/1.1',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(TOKEN, `${URL_}?k=v&A=1`, {}),
    });
  });
});
