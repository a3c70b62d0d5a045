/**
 * The one check for every URL a user gives the emulator to call (PostWebhookUrl, PreWebhookUrl, Configuration.Url,
 * AutoCreation.WebhookUrl, the Messaging API's StatusCallback and MediaUrl, IncomingPhoneNumbers' SmsUrl and the
 * like): absolute, http or https, and without control characters or spaces. WHATWG URL parsing silently drops tabs
 * and newlines (and escapes spaces), so such a URL would be stored as given, called as parsed, and signed over the
 * stored text: a signature no receiver checks.
 */
import { invalidParameter } from './errors.js';

const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f]/;

/** Why `value` is not a URL the emulator calls, or undefined when it is one. */
export function urlProblem(value: string): string | undefined {
  if (CONTROL_OR_SPACE.test(value)) return 'contains control characters or spaces';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'is not an http or https URL';
  return undefined;
}

export function isHttpUrl(value: string): boolean {
  return urlProblem(value) === undefined;
}

/** Throw 400 / 20001 naming `param` unless `value` is absent, empty or a URL the emulator calls. */
export function checkUrl(value: unknown, param: string): void {
  if (value === null || value === undefined || value === '') return;
  const problem = urlProblem(String(value));
  if (problem) throw invalidParameter(`Invalid ${param}: ${JSON.stringify(String(value))} ${problem}`);
}
