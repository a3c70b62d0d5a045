/**
 * The Twilio operations the router's worker needs, as plain data in and out, every failure a TwilioCallError.
 * Creates are made idempotent here, because TwilioHttpClient never retries a POST on 5xx: a conversation by its
 * UniqueName (409 / 50353: fetch it), a participant by its (address, proxy) binding (409 / 50416 / 50433: look it up).
 * With `conversationsServiceSid` every Conversations call goes to that service, else to the account's default one.
 */
import type { RouterConfig } from '../config-types.js';
import type { TwilioClient } from './client.js';
import { TwilioCallError, hasCode, toCallError } from './errors.js';

export interface ConversationInfo {
  sid: string;
  uniqueName: string | null;
  friendlyName: string | null;
  state: string;
  attributes: Record<string, unknown>;
  chatServiceSid: string;
  messagingServiceSid: string | null;
}

export interface ParticipantInfo {
  sid: string;
  identity: string | null;
  /** the messaging binding's address (`+E164`, `whatsapp:+E164`), null for a chat participant */
  address: string | null;
  proxyAddress: string | null;
  type: string | null;
  /** the participant's attributes as Twilio keeps them (a JSON string) */
  attributes: string | null;
}

/** one conversation an SMS/WhatsApp address takes part in (ParticipantConversations) */
export interface AddressMembership {
  conversationSid: string;
  participantSid: string;
  proxyAddress: string | null;
}

export interface EnsureConversationOptions {
  friendlyName?: string;
  attributes?: Record<string, unknown>;
  messagingServiceSid?: string;
}

export interface PostMessageInput {
  author: string;
  body: string;
  attributes?: Record<string, unknown>;
  mediaSid?: string;
  /** a template (WhatsApp outside the 24-hour window) instead of a free-form body */
  contentSid?: string;
}

export interface MessageInfo {
  sid: string;
  index: number;
  author: string | null;
  body: string | null;
  attributes: Record<string, unknown>;
}

export interface SendMessageInput {
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body?: string;
  contentSid?: string;
  statusCallback?: string;
}

export interface TwilioGateway {
  ensureConversation(uniqueName: string, options?: EnsureConversationOptions): Promise<{ sid: string; created: boolean }>;
  ensureParticipant(conversationSid: string, address: string, proxyAddress: string): Promise<{ sid: string; created: boolean }>;
  postMessage(conversationSid: string, message: PostMessageInput, options: { webhooks: boolean }): Promise<{ sid: string; index: number }>;
  /** undefined when there is no such message */
  fetchMessage(conversationSid: string, messageSid: string): Promise<MessageInfo | undefined>;
  /** every conversation the address is a participant of */
  conversationsOfAddress(address: string): Promise<AddressMembership[]>;
  /** the newest `limit` messages, newest first */
  recentMessages(conversationSid: string, limit: number): Promise<MessageInfo[]>;
  /** true when removed now, false when it was gone already (a 404 is success) */
  removeParticipant(conversationSid: string, participantSid: string): Promise<boolean>;
  listParticipants(conversationSid: string): Promise<ParticipantInfo[]>;
  /** undefined when there is no such conversation */
  fetchConversation(sidOrUniqueName: string): Promise<ConversationInfo | undefined>;
  /** replaces the attributes as a whole (Twilio does not merge them) */
  updateConversationAttributes(sid: string, attributes: Record<string, unknown>): Promise<void>;
  /** Programmable Messaging */
  sendMessage(input: SendMessageInput): Promise<{ sid: string; status: string }>;
}

// The few SDK shapes used, written out: the default-service and the service-scoped resources are different SDK
// classes with the same calls.
interface SdkConversation {
  sid: string;
  uniqueName: string | null;
  friendlyName: string | null;
  state: string;
  attributes: string;
  chatServiceSid: string;
  messagingServiceSid: string | null;
}
interface SdkParticipant {
  sid: string;
  identity: string | null;
  messagingBinding: unknown;
  attributes?: string | null;
}
interface SdkMessage {
  sid: string;
  index: number;
  author: string | null;
  body: string | null;
  attributes: string;
}
interface SdkConversations {
  create(params: { uniqueName?: string; friendlyName?: string; attributes?: string; messagingServiceSid?: string; xTwilioWebhookEnabled?: 'true' }): Promise<SdkConversation>;
  (sid: string): {
    fetch(): Promise<SdkConversation>;
    update(params: { attributes?: string }): Promise<SdkConversation>;
    participants: {
      create(params: { 'messagingBinding.address'?: string; 'messagingBinding.proxyAddress'?: string; xTwilioWebhookEnabled?: 'true' }): Promise<SdkParticipant>;
      list(params?: { pageSize?: number }): Promise<SdkParticipant[]>;
      (sid: string): { remove(): Promise<boolean> };
    };
    messages: {
      create(params: { author?: string; body?: string; attributes?: string; mediaSid?: string; contentSid?: string; xTwilioWebhookEnabled?: 'true' | 'false' }): Promise<{ sid: string; index: number }>;
      list(params: { order?: 'asc' | 'desc'; limit?: number; pageSize?: number }): Promise<SdkMessage[]>;
      (sid: string): { fetch(): Promise<SdkMessage> };
    };
  };
}

interface SdkParticipantConversations {
  list(params: { address?: string; pageSize?: number }): Promise<Array<{ conversationSid: string; participantSid: string; participantMessagingBinding: unknown }>>;
}

function parseAttributes(text: string | null | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function conversationInfo(c: SdkConversation): ConversationInfo {
  return {
    sid: c.sid,
    uniqueName: c.uniqueName ?? null,
    friendlyName: c.friendlyName ?? null,
    state: c.state,
    attributes: parseAttributes(c.attributes),
    chatServiceSid: c.chatServiceSid,
    messagingServiceSid: c.messagingServiceSid ?? null,
  };
}

function participantInfo(p: SdkParticipant): ParticipantInfo {
  // the SDK hands the binding over as the wire's JSON (snake_case keys)
  const binding = (p.messagingBinding ?? null) as { address?: string; proxy_address?: string; type?: string } | null;
  return {
    sid: p.sid,
    identity: p.identity ?? null,
    address: binding?.address ?? null,
    proxyAddress: binding?.proxy_address ?? null,
    type: binding?.type ?? null,
    attributes: p.attributes ?? null,
  };
}

const messageInfo = (m: SdkMessage): MessageInfo => ({ sid: m.sid, index: m.index, author: m.author ?? null, body: m.body ?? null, attributes: parseAttributes(m.attributes) });

/** Run an SDK call; whatever it rejects with becomes a TwilioCallError. */
async function call<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toCallError(error);
  }
}

const CONVERSATION_EXISTS = 50353;
const BINDING_TAKEN = [50416, 50433];

export function createTwilioGateway(client: TwilioClient, config: Pick<RouterConfig, 'conversationsServiceSid'>): TwilioGateway {
  const v1 = client.conversations.v1;
  const conversations: SdkConversations = config.conversationsServiceSid ? v1.services(config.conversationsServiceSid).conversations : v1.conversations;
  const participantConversations: SdkParticipantConversations = config.conversationsServiceSid
    ? v1.services(config.conversationsServiceSid).participantConversations
    : v1.participantConversations;

  const fetchConversation = async (sidOrUniqueName: string) => {
    try {
      return conversationInfo(await call(() => conversations(sidOrUniqueName).fetch()));
    } catch (error) {
      if (error instanceof TwilioCallError && error.status === 404) return undefined;
      throw error;
    }
  };

  const listParticipants = async (conversationSid: string) =>
    (await call(() => conversations(conversationSid).participants.list({ pageSize: 100 }))).map(participantInfo);

  return {
    async ensureConversation(uniqueName, options = {}) {
      // create, or find the one a concurrent create (another worker, another replica) made; twice, for a
      // conversation deleted between our 409 and our fetch
      for (let round = 0; round < 2; round++) {
        try {
          const created = await call(() =>
            conversations.create({
              uniqueName,
              friendlyName: options.friendlyName,
              attributes: options.attributes ? JSON.stringify(options.attributes) : undefined,
              messagingServiceSid: options.messagingServiceSid,
              // the router's own writes come back as webhooks too, so its derived state knows what it created
              xTwilioWebhookEnabled: 'true',
            }),
          );
          return { sid: created.sid, created: true };
        } catch (error) {
          if (!(error instanceof TwilioCallError && (error.code === CONVERSATION_EXISTS || (error.status === 409 && error.code === null)))) throw error;
          const existing = await fetchConversation(uniqueName);
          if (existing) return { sid: existing.sid, created: false };
        }
      }
      throw new TwilioCallError(409, CONVERSATION_EXISTS, `conversation ${uniqueName} exists (409) but cannot be fetched`);
    },

    async ensureParticipant(conversationSid, address, proxyAddress) {
      try {
        const created = await call(() =>
          conversations(conversationSid).participants.create({
            'messagingBinding.address': address,
            'messagingBinding.proxyAddress': proxyAddress,
            xTwilioWebhookEnabled: 'true',
          }),
        );
        return { sid: created.sid, created: true };
      } catch (error) {
        if (!hasCode(error, ...BINDING_TAKEN)) throw error;
        // taken: success only when it is this conversation that holds this exact binding (the pair may be held by
        // another conversation: that stays an error for the caller to decide on)
        const match = (await listParticipants(conversationSid)).find((p) => p.address === address && p.proxyAddress === proxyAddress);
        if (match) return { sid: match.sid, created: false };
        throw error;
      }
    },

    async postMessage(conversationSid, message, options) {
      const posted = await call(() =>
        conversations(conversationSid).messages.create({
          author: message.author,
          body: message.body,
          attributes: message.attributes ? JSON.stringify(message.attributes) : undefined,
          mediaSid: message.mediaSid,
          contentSid: message.contentSid,
          xTwilioWebhookEnabled: options.webhooks ? 'true' : undefined,
        }),
      );
      return { sid: posted.sid, index: posted.index };
    },

    async recentMessages(conversationSid, limit) {
      const messages = await call(() => conversations(conversationSid).messages.list({ order: 'desc', limit, pageSize: Math.min(limit, 100) }));
      return messages.map(messageInfo);
    },

    async fetchMessage(conversationSid, messageSid) {
      try {
        return messageInfo(await call(() => conversations(conversationSid).messages(messageSid).fetch()));
      } catch (error) {
        if (error instanceof TwilioCallError && error.status === 404) return undefined;
        throw error;
      }
    },

    async conversationsOfAddress(address) {
      const memberships = await call(() => participantConversations.list({ address, pageSize: 100 }));
      return memberships.map((m) => ({
        conversationSid: m.conversationSid,
        participantSid: m.participantSid,
        proxyAddress: ((m.participantMessagingBinding ?? null) as { proxy_address?: string } | null)?.proxy_address ?? null,
      }));
    },

    async removeParticipant(conversationSid, participantSid) {
      try {
        await call(() => conversations(conversationSid).participants(participantSid).remove());
        return true;
      } catch (error) {
        if (error instanceof TwilioCallError && error.status === 404) return false;
        throw error;
      }
    },

    listParticipants,
    fetchConversation,

    async updateConversationAttributes(sid, attributes) {
      await call(() => conversations(sid).update({ attributes: JSON.stringify(attributes) }));
    },

    async sendMessage(input) {
      if (!input.to) throw new TypeError('sendMessage: `to` is required');
      if (!input.from && !input.messagingServiceSid) throw new TypeError('sendMessage: `from` or `messagingServiceSid` is required');
      if (!input.body && !input.contentSid) throw new TypeError('sendMessage: `body` or `contentSid` is required');
      const sent = await call(() =>
        client.messages.create({
          to: input.to,
          from: input.from,
          messagingServiceSid: input.messagingServiceSid,
          body: input.body,
          contentSid: input.contentSid,
          statusCallback: input.statusCallback,
        }),
      );
      return { sid: sent.sid, status: String(sent.status) };
    },
  };
}
