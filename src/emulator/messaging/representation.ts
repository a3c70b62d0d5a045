/**
 * The 2010 Message resource (`api.v2010.account.message`) as api.twilio.com writes it: RFC 2822 dates,
 * counts as strings, URIs relative to https://api.twilio.com, `price` null (the emulator bills nothing).
 * Built from a `channel_messages` row, the simulated channel's outbox and inbox.
 */
import type { Row } from '../store/database.js';

export const API_VERSION = '2010-04-01';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** `Fri, 24 May 2019 17:44:46 +0000` (GMT, to the second), as the 2010 API writes every date. */
export function rfc2822(epochMs: number): string {
  const d = new Date(epochMs);
  return (
    `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}

// The GSM 03.38 basic set and its extension table (extension characters take two septets).
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '^{}\\[~]|€\f';

/**
 * SMS segments: GSM-7 bodies fit 160 septets in one segment, 153 per segment when split; anything else is
 * UCS-2, 70 characters in one, 67 per segment (counted in UTF-16 units, as handsets count them).
 */
export function segmentsOf(body: string | null): number {
  if (!body) return 1;
  let septets = 0;
  let gsm = true;
  for (const ch of body) {
    if (GSM_BASIC.includes(ch)) septets += 1;
    else if (GSM_EXTENDED.includes(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  return body.length <= 70 ? 1 : Math.ceil(body.length / 67);
}

/** Titles from Twilio's error dictionary for the codes the channel can produce; unknown codes have none. */
const ERROR_MESSAGES: Record<number, string> = {
  21610: 'Attempt to send to unsubscribed recipient',
  30001: 'Queue overflow',
  30002: 'Account suspended',
  30003: 'Unreachable destination handset',
  30004: 'Message blocked',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
  30007: 'Message filtered',
  30008: 'Unknown error',
  63016: 'Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.',
};

export function errorMessageOf(code: number | null): string | null {
  return code === null ? null : (ERROR_MESSAGES[code] ?? null);
}

export function mediaCount(media: unknown): number {
  if (typeof media !== 'string' || media === '') return 0;
  try {
    const parsed = JSON.parse(media) as unknown;
    return Array.isArray(parsed) ? parsed.length : 0;
  } catch {
    return 0;
  }
}

export function messageUri(accountSid: string, sid: string): string {
  return `/${API_VERSION}/Accounts/${accountSid}/Messages/${sid}.json`;
}

/** The wire form, in the order of the spec's examples. */
export function representMessage(row: Row): Record<string, unknown> {
  const accountSid = row.account_sid as string;
  const sid = row.sid as string;
  const errorCode = (row.error_code as number | null) ?? null;
  const base = `/${API_VERSION}/Accounts/${accountSid}/Messages/${sid}`;
  return {
    account_sid: accountSid,
    api_version: API_VERSION,
    body: (row.body as string | null) ?? null,
    date_created: rfc2822(row.date_created as number),
    date_sent: row.date_sent === null || row.date_sent === undefined ? null : rfc2822(row.date_sent as number),
    date_updated: rfc2822(row.date_updated as number),
    direction: row.direction as string,
    error_code: errorCode,
    error_message: errorMessageOf(errorCode),
    // a Messaging Service's sender shows once it is picked (`accepted` → `queued`)
    from: row.status === 'accepted' ? null : (row.from_address as string) || null,
    messaging_service_sid: (row.messaging_service_sid as string | null) ?? null,
    num_media: String(mediaCount(row.media)),
    num_segments: String(segmentsOf((row.body as string | null) ?? null)),
    price: null,
    price_unit: 'USD',
    sid,
    status: row.status as string,
    subresource_uris: { media: `${base}/Media.json`, feedback: `${base}/Feedback.json` },
    to: row.to_address as string,
    uri: `${base}.json`,
  };
}
