/**
 * A replayed webhook as Twilio would send it to `url`: a form body and an X-Twilio-Signature computed by the
 * official SDK (`twilio.getExpectedTwilioSignature`) over the full URL, query included, and the form fields.
 */
import twilio from 'twilio';
import { formEncode, type FormParams } from '../emulator/webhooks/signing.js';

export interface SignedWebhook {
  headers: Record<string, string>;
  body: string;
}

export function signWebhook(url: string, authToken: string, params: FormParams, captured: Record<string, string> = {}): SignedWebhook {
  return {
    headers: {
      'user-agent': 'TwilioProxy/1.1',
      // header names are case-insensitive: lower-cased so a captured User-Agent replaces ours, not joins it
      ...Object.fromEntries(Object.entries(captured).map(([name, value]) => [name.toLowerCase(), value])),
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params),
    },
    body: formEncode(params),
  };
}
