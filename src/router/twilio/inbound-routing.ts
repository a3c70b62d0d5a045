/**
 * Inbound SMS / WhatsApp → its conversation (the seed's "Inbound SMS → map to Conversation → agent reply"):
 * one conversation per sender, UniqueName `sms:+E164` or `whatsapp:+E164` (`<tenant>:` before it when a tenant is
 * configured); the sender as its messaging participant; the message posted with author = the sender's address, so
 * that Conversations does not send it back out to the handset it came from. Every step is idempotent (see
 * gateway.ts), so concurrent first messages from one number meet in one conversation with one participant.
 */
import type { RouterConfig } from '../config-types.js';
import type { TwilioGateway } from './gateway.js';

export interface InboundMessage {
  /** `+E164` or `whatsapp:+E164` */
  from: string;
  /** the Twilio number (or `whatsapp:` sender) it was sent to; else the configured default proxy */
  to?: string;
  body: string;
  mediaUrls?: string[];
  /**
   * The inbound's own SID (SM…/MM…): kept in the message's attributes, and looked for among the conversation's
   * newest messages first, so that routing the same inbound again (a worker retry) posts it once.
   */
  messageSid?: string;
}

export interface InboundRouted {
  conversationSid: string;
  participantSid: string;
  messageSid: string;
  createdConversation: boolean;
}

export class InboundRoutingError extends Error {
  override readonly name = 'InboundRoutingError';
}

type RoutingConfig = Pick<RouterConfig, 'tenant' | 'defaultProxyAddress' | 'defaultWhatsappProxy'>;

/** how far back a retried inbound is looked for: a retry comes soon after the first try */
const RETRY_LOOKBACK = 50;

const E164 = /^\+[1-9]\d{1,14}$/;

/** The conversation an address maps to: `[<tenant>:]sms:+E164` or `[<tenant>:]whatsapp:+E164`. */
export function inboundUniqueName(from: string, tenant?: string): string {
  const whatsapp = from.startsWith('whatsapp:');
  const number = whatsapp ? from.slice('whatsapp:'.length) : from;
  if (!E164.test(number)) throw new InboundRoutingError(`inbound From must be +E164 or whatsapp:+E164, got ${JSON.stringify(from)}`);
  const name = `${whatsapp ? 'whatsapp' : 'sms'}:${number}`;
  return tenant ? `${tenant}:${name}` : name;
}

function proxyFor(from: string, to: string | undefined, config: RoutingConfig): string {
  if (to) return to;
  const whatsapp = from.startsWith('whatsapp:');
  const proxy = whatsapp ? config.defaultWhatsappProxy : config.defaultProxyAddress;
  if (!proxy) {
    throw new InboundRoutingError(
      `inbound message without To and no ${whatsapp ? 'DEFAULT_WHATSAPP_PROXY' : 'DEFAULT_PROXY_ADDRESS'} configured: no proxy address for the participant`,
    );
  }
  return proxy;
}

export async function routeInbound(gateway: TwilioGateway, config: RoutingConfig, message: InboundMessage): Promise<InboundRouted> {
  const uniqueName = inboundUniqueName(message.from, config.tenant);
  const proxy = proxyFor(message.from, message.to, config);
  const conversation = await gateway.ensureConversation(uniqueName, {
    friendlyName: uniqueName,
    attributes: config.tenant ? { tenantId: config.tenant, channel: message.from.startsWith('whatsapp:') ? 'whatsapp' : 'sms' } : undefined,
  });
  const participant = await gateway.ensureParticipant(conversation.sid, message.from, proxy);
  // Media URLs travel in the attributes: a MediaSid needs an upload to Twilio's Media Content Service first
  const mediaUrls = message.mediaUrls?.filter((url) => url);
  if (message.messageSid) {
    const already = (await gateway.recentMessages(conversation.sid, RETRY_LOOKBACK)).find((m) => m.attributes.inboundMessageSid === message.messageSid);
    if (already) return { conversationSid: conversation.sid, participantSid: participant.sid, messageSid: already.sid, createdConversation: conversation.created };
  }
  const attributes = { ...(mediaUrls?.length ? { mediaUrls } : {}), ...(message.messageSid ? { inboundMessageSid: message.messageSid } : {}) };
  const posted = await gateway.postMessage(
    conversation.sid,
    {
      author: message.from,
      // Conversations needs a Body or a MediaSid: a picture-only MMS gets a placeholder body, its URLs in attributes
      body: message.body || (mediaUrls?.length ? '[media]' : message.body),
      attributes: Object.keys(attributes).length ? attributes : undefined,
    },
    { webhooks: true },
  );
  return { conversationSid: conversation.sid, participantSid: participant.sid, messageSid: posted.sid, createdConversation: conversation.created };
}
