/**
 * Sends made with an account's test credentials (twilio.com/docs/iam/test-credentials, "Test inputs for SMS"):
 * Twilio validates them like any send, then answers from the magic numbers below and stores, sends and calls back
 * nothing. The emulator does the same: the 201 describes a message that exists nowhere.
 */
import { TwilioError, twilioError } from '../wire/errors.js';

/** The one From a test send may use. */
export const MAGIC_VALID_FROM = '+15005550006';

/** From magic numbers and the error each gives; any other From is not "owned" by the test account (21606). */
const FROM_ERRORS: Record<string, (from: string) => TwilioError> = {
  '+15005550001': (from) => twilioError('MessagingInvalidFrom', { from }),
  '+15005550007': (from) => twilioError('MessagingFromNotOwned', { from }),
  '+15005550008': () => twilioError('MessagingFromQueueFull'),
};

/** To magic numbers and the error each gives; any other To is validated normally. */
const TO_ERRORS: Record<string, (to: string, from: string) => TwilioError> = {
  '+15005550001': (to) => twilioError('MessagingInvalidTo', { to }),
  '+15005550002': (to, from) => twilioError('MessagingToUnreachable', { to, from }),
  '+15005550003': (to) => twilioError('MessagingRegionNotEnabled', { to }),
  '+15005550004': () => twilioError('MessagingUnsubscribed'),
  '+15005550009': (to) => twilioError('MessagingToNotMobile', { to }),
};

/**
 * The error a test-credential send answers, or undefined when it succeeds. A Messaging Service is a resource the
 * test account cannot reach (the docs: not supported), so it answers 403 / 20008 (the emulator's choice). From is
 * checked before To (unverified: Twilio's docs test each with the other one valid).
 */
export function testSendError(input: { to: string; from: string | undefined; messagingServiceSid: string | undefined }): TwilioError | undefined {
  if (input.messagingServiceSid !== undefined || input.from === undefined) return twilioError('TestCredentialsNotAccepted');
  const from = input.from;
  if (from !== MAGIC_VALID_FROM) return (FROM_ERRORS[from] ?? ((f: string) => twilioError('MessagingFromNotOwned', { from: f })))(from);
  return TO_ERRORS[input.to]?.(input.to, from);
}
