/**
 * What Twilio sends for each Conversations event, as form fields (../shared/reference/twilio-facts.md §5).
 * Null fields are left out (a form cannot carry null); dates carry milliseconds, as Twilio's webhook dates do.
 * Post-event payloads come from stored rows; pre-event payloads from the proposed change.
 */
import type { Database, Row, SqlValue } from '../store/database.js';
import { isoMillis } from '../wire/dates.js';
import type { ResourceEvent } from '../resources/context.js';
import { authorParticipant } from '../resources/messages/index.js';
import { mediaOfSid, webhookMedia } from '../resources/messages/media.js';
import type { FormParams } from './signing.js';

export interface EventPayload {
  eventType: string;
  conversationSid: string | null;
  serviceSid: string;
  params: FormParams;
}

type Fields = Record<string, SqlValue | undefined>;

/** Drop null/undefined and make every value text. */
export function form(fields: Fields): FormParams {
  const out: FormParams = {};
  for (const [key, value] of Object.entries(fields)) if (value !== null && value !== undefined) out[key] = String(value);
  return out;
}

const date = (v: SqlValue | undefined) => (typeof v === 'number' ? isoMillis(v) : undefined);

function conversationFields(row: Row): Fields {
  return {
    ConversationSid: row.sid,
    ChatServiceSid: row.chat_service_sid,
    MessagingServiceSid: row.messaging_service_sid,
    FriendlyName: row.friendly_name,
    UniqueName: row.unique_name,
    Attributes: row.attributes,
    State: row.state,
    DateCreated: date(row.date_created),
    DateUpdated: date(row.date_updated),
  };
}

export function bindingType(row: Row): string {
  if (row.binding_type === 'whatsapp') return 'WHATSAPP';
  if (row.address !== null && row.address !== undefined) return 'SMS';
  return 'CHAT';
}

/** The binding type a proposed participant will have (its address decides, as on create). */
function proposedBindingType(address: SqlValue | undefined): string {
  if (typeof address !== 'string') return 'CHAT';
  return address.startsWith('whatsapp:') ? 'WHATSAPP' : 'SMS';
}

function participantFields(row: Row): Fields {
  return {
    ConversationSid: row.conversation_sid,
    ParticipantSid: row.sid,
    Identity: row.identity,
    RoleSid: row.role_sid,
    Attributes: row.attributes,
    'MessagingBinding.Address': row.address,
    'MessagingBinding.ProxyAddress': row.proxy_address,
    'MessagingBinding.ProjectedAddress': row.projected_address,
    'MessagingBinding.Type': bindingType(row),
    DateCreated: date(row.date_created),
    DateUpdated: date(row.date_updated),
  };
}

function messageFields(db: Database, row: Row, known?: Row): Fields {
  const conversation = known?.sid === row.conversation_sid ? known : db.get('SELECT messaging_service_sid FROM conversations WHERE sid = ?', row.conversation_sid);
  return {
    ConversationSid: row.conversation_sid,
    MessageSid: row.sid,
    MessagingServiceSid: conversation?.messaging_service_sid,
    Index: row.message_index,
    Body: row.body,
    Author: row.author,
    ParticipantSid: row.participant_sid,
    Attributes: row.attributes,
    Media: webhookMedia(row.media),
    DateCreated: date(row.date_created),
  };
}

function userFields(row: Row): Fields {
  return {
    ChatServiceSid: row.chat_service_sid,
    UserSid: row.sid,
    Identity: row.identity,
    RoleSid: row.role_sid,
    Attributes: row.attributes,
    FriendlyName: row.friendly_name,
    DateCreated: date(row.date_created),
    DateUpdated: date(row.date_updated),
  };
}

function receiptFields(row: Row): Fields {
  return {
    ConversationSid: row.conversation_sid,
    ChatServiceSid: row.chat_service_sid,
    MessageSid: row.message_sid,
    DeliveryReceiptSid: row.sid,
    ChannelMessageSid: row.channel_message_sid,
    ParticipantSid: row.participant_sid,
    Status: row.status,
    ErrorCode: row.error_code,
    DateCreated: date(row.date_created),
    // REST keeps date_updated null until the receipt moves; the webhook of its first status carries its creation date
    DateUpdated: date(row.date_updated ?? row.date_created),
  };
}

const VERB = { created: 'Added', updated: 'Updated', deleted: 'Removed' } as const;

/** The post-event webhooks one change produces (none for resources Twilio does not announce). */
export function postEvents(db: Database, event: ResourceEvent, now: number): EventPayload[] {
  const { row } = event;
  const common = (eventType: string, fields: Fields): EventPayload => ({
    eventType,
    conversationSid: (event.resource === 'Conversation' ? row.sid : row.conversation_sid) as string | null ?? null,
    serviceSid: row.chat_service_sid as string,
    // ClientIdentity: who acted, only when a client SDK did (twilio-facts.md §5)
    params: form({ AccountSid: event.accountSid, EventType: eventType, Source: event.source, ClientIdentity: event.clientIdentity, ...fields }),
  });
  const removed = event.type === 'deleted' ? { DateRemoved: isoMillis(now) } : {};
  switch (event.resource) {
    case 'Conversation': {
      const out: EventPayload[] = [];
      const stateMoved = event.type === 'updated' && event.previous && event.previous.state !== row.state;
      // A timer, or a message waking the conversation, moves the state and nothing else: only the state change is announced.
      const automatic = event.reason === 'TIMER' || (event.reason === 'EVENT' && stateMoved);
      if (!automatic) out.push(common(`onConversation${VERB[event.type]}`, { ...conversationFields(row), ...removed }));
      if (stateMoved) {
        out.push(
          common('onConversationStateUpdated', {
            ChatServiceSid: row.chat_service_sid,
            ConversationSid: row.sid,
            MessagingServiceSid: row.messaging_service_sid,
            StateUpdated: date(row.date_updated),
            StateFrom: event.previous?.state,
            StateTo: row.state,
            Reason: event.reason ?? 'API',
          }),
        );
      }
      return out;
    }
    case 'ConversationParticipant': {
      const extra = event.type === 'updated' ? { LastReadMessageIndex: row.last_read_message_index } : {};
      return [common(`onParticipant${VERB[event.type]}`, { ...participantFields(row), ...extra, ...removed })];
    }
    case 'ConversationMessage': {
      const extra = event.type === 'created' ? {} : { DateUpdated: date(row.date_updated) };
      return [common(`onMessage${VERB[event.type]}`, { ...messageFields(db, row, event.conversation), ...extra, ...removed })];
    }
    case 'ConversationMessageReceipt':
      return event.type === 'deleted' ? [] : [common('onDeliveryUpdated', receiptFields(row))];
    case 'User': {
      if (event.type === 'deleted') return [];
      const extra = event.type === 'updated' ? { IsOnline: 'false', IsNotifiable: 'false' } : {};
      return [common(`onUser${VERB[event.type]}`, { ...userFields(row), ...extra })];
    }
    default:
      return [];
  }
}

/**
 * Pre-event fields of a proposed change: the current row (update, remove) overlaid with the request's values, and
 * on create what the change will default (MessagingServiceSid, RoleSid, the binding type, the author's participant).
 * A message's media comes from `MediaSid`, or, for an inbound MMS, as stored items under the internal key `Media`
 * (no REST parameter has that name, so a request cannot set it).
 */
export function preEventFields(db: Database, accountSid: string, resource: string, current: Row | undefined, input: Record<string, unknown>, parents: Record<string, Row>): Fields {
  const given = (name: string): SqlValue | undefined => {
    const v = input[name];
    return v === undefined ? undefined : Array.isArray(v) ? JSON.stringify(v) : (v as SqlValue);
  };
  const conversation = parents.Conversation;
  switch (resource) {
    case 'Conversation':
      return {
        ...(current
          ? conversationFields(current)
          : {
              ChatServiceSid: parents.Service?.sid,
              MessagingServiceSid: db.get('SELECT default_messaging_service_sid AS sid FROM accounts WHERE sid = ?', accountSid)?.sid,
              State: 'active',
              Attributes: '{}',
            }),
        ...defined({
          FriendlyName: given('FriendlyName'),
          UniqueName: given('UniqueName'),
          Attributes: given('Attributes'),
          State: given('State'),
          MessagingServiceSid: given('MessagingServiceSid'),
        }),
      };
    case 'ConversationMessage': {
      const fields: Fields = {
        ConversationSid: conversation?.sid,
        ...(current
          ? { MessageSid: current.sid, Index: current.message_index, Body: current.body, Author: current.author, Attributes: current.attributes, ParticipantSid: current.participant_sid, Media: webhookMedia(current.media), DateCreated: date(current.date_created), DateUpdated: date(current.date_updated) }
          : { Author: 'system', Attributes: '{}' }),
        ...defined({ Body: given('Body'), Author: given('Author'), Attributes: given('Attributes') }),
      };
      if (!current) {
        const media = input.Media ?? (typeof input.MediaSid === 'string' ? JSON.stringify(mediaOfSid(input.MediaSid)) : undefined);
        fields.Media = webhookMedia(media);
      }
      if (!current || input.Author !== undefined) fields.ParticipantSid = authorParticipant(db, conversation?.sid, fields.Author);
      return fields;
    }
    case 'ConversationParticipant':
      return {
        ...(current
          ? participantFields(current)
          : {
              ConversationSid: conversation?.sid,
              Attributes: '{}',
              RoleSid: db.get('SELECT default_conversation_role_sid AS sid FROM service_configurations WHERE chat_service_sid = ?', parents.Service?.sid as string)?.sid,
              'MessagingBinding.Type': proposedBindingType(given('MessagingBinding.Address')),
            }),
        ...defined({
          Identity: given('Identity'),
          RoleSid: given('RoleSid'),
          Attributes: given('Attributes'),
          'MessagingBinding.Address': given('MessagingBinding.Address'),
          'MessagingBinding.ProxyAddress': given('MessagingBinding.ProxyAddress'),
          'MessagingBinding.ProjectedAddress': given('MessagingBinding.ProjectedAddress'),
        }),
      };
    case 'User':
      return {
        ...(current ? userFields(current) : {}),
        ...defined({ FriendlyName: given('FriendlyName'), Attributes: given('Attributes'), RoleSid: given('RoleSid') }),
      };
    default:
      return {};
  }
}

function defined(fields: Fields): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}
