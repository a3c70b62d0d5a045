/**
 * The request Twilio sends a number's `SmsUrl` when a message arrives (twilio.com/docs/messaging/guides/webhook-request):
 * the message's SIDs (`MessageSid`, and the older `SmsSid` / `SmsMessageSid`, all the same), `AccountSid`,
 * `MessagingServiceSid` when the number is in a service's sender pool, `From`, `To`, `Body`, `NumMedia`,
 * `NumSegments`, `MediaUrl{N}` / `MediaContentType{N}` per attachment, `ApiVersion`, `SmsStatus: received`; WhatsApp
 * adds `WaId` (the sender's number without `+`). Not sent: the From/To geography fields (FromCity, ToZip, …), which
 * the emulator has no data for, and the media URLs stay the handset's own (Twilio rehosts them under api.twilio.com).
 */
import type { FormParams } from '../webhooks/signing.js';
import { contentTypeOf } from '../resources/messages/media.js';
import { API_VERSION, segmentsOf } from './representation.js';

export interface ReceivedMessage {
  sid: string;
  accountSid: string;
  messagingServiceSid: string | null;
  from: string;
  to: string;
  body: string;
  mediaUrls: string[];
  contentTypes: (string | undefined)[];
}

/** what the journal and webhook faults know an incoming-message webhook by */
export const INBOUND_EVENT_TYPE = 'messaging.inbound';

export function inboundWebhookParams(m: ReceivedMessage): FormParams {
  const params: FormParams = { MessageSid: m.sid, SmsSid: m.sid, SmsMessageSid: m.sid, AccountSid: m.accountSid };
  if (m.messagingServiceSid) params.MessagingServiceSid = m.messagingServiceSid;
  params.From = m.from;
  params.To = m.to;
  params.Body = m.body;
  params.NumMedia = String(m.mediaUrls.length);
  params.NumSegments = String(segmentsOf(m.body));
  m.mediaUrls.forEach((url, i) => {
    params[`MediaUrl${i}`] = url;
    params[`MediaContentType${i}`] = contentTypeOf(url, m.contentTypes[i]);
  });
  params.SmsStatus = 'received';
  params.ApiVersion = API_VERSION;
  if (m.from.startsWith('whatsapp:')) params.WaId = m.from.slice('whatsapp:+'.length);
  return params;
}
