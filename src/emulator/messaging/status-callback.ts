/**
 * The form a Messaging API `StatusCallback` request carries, as Twilio documents it
 * (twilio.com/docs/messaging/guides/track-outbound-message-status): the message's SIDs, status, addresses and
 * account; `MessagingServiceSid` when one sent it; `ErrorCode` once it failed; `RawDlrDoneDate` on SMS/MMS
 * `delivered` and `undelivered` (the carrier receipt's done date); WhatsApp's `ChannelPrefix`, `ChannelInstallSid`
 * and, on failure, `ChannelStatusMessage`. No `RetryCount`: Twilio documents it for Conversations webhooks only.
 */
import { createHash } from 'node:crypto';
import type { Row } from '../store/database.js';
import { API_VERSION, errorMessageOf } from './representation.js';

const two = (n: number) => String(n).padStart(2, '0');

/** `YYMMDDhhmm`, minute precision, as carriers write a DLR's done date (the emulator's clock, GMT). */
export function rawDlrDoneDate(epochMs: number): string {
  const d = new Date(epochMs);
  return `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}`;
}

/** The account's WhatsApp sender installation (an `XE…` SID): one per account, derived so it never changes. */
export function whatsappInstallSid(accountSid: string): string {
  return `XE${createHash('sha256').update(`whatsapp-install|${accountSid}`).digest('hex').slice(0, 32)}`;
}

export function statusCallbackParams(cm: Row, status: string, now: number): Record<string, string> {
  const sid = cm.sid as string;
  const errorCode = (cm.error_code as number | null | undefined) ?? null;
  const params: Record<string, string> = {
    AccountSid: cm.account_sid as string,
    MessageSid: sid,
    SmsSid: sid,
    MessageStatus: status,
    SmsStatus: status,
    From: cm.from_address as string,
    To: cm.to_address as string,
    ApiVersion: API_VERSION,
  };
  if (cm.messaging_service_sid) params.MessagingServiceSid = cm.messaging_service_sid as string;
  if (errorCode !== null) params.ErrorCode = String(errorCode);
  if (cm.channel === 'whatsapp') {
    params.ChannelPrefix = 'whatsapp';
    params.ChannelInstallSid = whatsappInstallSid(cm.account_sid as string);
    if (errorCode !== null) params.ChannelStatusMessage = errorMessageOf(errorCode) ?? `Error ${errorCode}`;
  } else if (status === 'delivered' || status === 'undelivered') {
    params.RawDlrDoneDate = rawDlrDoneDate(now);
  }
  return params;
}
