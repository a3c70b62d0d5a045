/**
 * Conversation Participants (MB): chat participants (Identity), SMS and WhatsApp participants
 * (MessagingBinding.Address + ProxyAddress), and group-MMS chat participants (Identity + ProjectedAddress).
 * A chat identity's User is created when it first joins; a participant's role is the service's default
 * conversation role unless RoleSid names a conversation role of the service.
 */
import type { Row } from '../../store/database.js';
import { twilioError } from '../../wire/errors.js';
import { assertOpen } from '../conversations/index.js';
import type { OperationContext } from '../context.js';
import type { ResourceDescriptor } from '../descriptor.js';
import { IN_CONVERSATION, IN_SERVICE } from '../scopes.js';
import { parseAddress } from './binding.js';
import { requireRole } from '../roles.js';
import { ensureUser } from '../users.js';

const MAX_PARTICIPANTS = 1000;
const MAX_NON_CHAT_PARTICIPANTS = 50;

function conversationOf(ctx: OperationContext): Row {
  return ctx.parents.Conversation;
}

function checkIdentityFree(ctx: OperationContext, identity: unknown, conversationSid: unknown, exceptSeq: unknown = -1): void {
  if (identity === null || identity === undefined) return;
  const taken = ctx.db.get(
    'SELECT seq FROM participants WHERE conversation_sid = ? AND identity = ? AND seq != ?',
    conversationSid as string, identity as string, exceptSeq as number,
  );
  if (taken) throw twilioError('ParticipantExists');
}

/** 50416: the same address + proxy pair may stand in only one conversation that is not closed. */
function checkPairFree(ctx: OperationContext, address: unknown, proxy: unknown, exceptSeq: unknown = -1): void {
  if (address === null || proxy === null) return;
  const clash = ctx.db.get(
    `SELECT p.conversation_sid FROM participants p JOIN conversations c ON c.sid = p.conversation_sid
      WHERE p.account_sid = ? AND p.address = ? AND p.proxy_address = ? AND c.state != 'closed' AND p.seq != ? LIMIT 1`,
    ctx.account.sid, address as string, proxy as string, exceptSeq as number,
  );
  if (clash) throw twilioError('BindingAlreadyExists', { conversationSid: clash.conversation_sid as string });
}

function checkProxy(proxy: string, channel: string): void {
  const parsed = parseAddress(proxy, 'InvalidProxyAddress');
  if (parsed.channel !== channel) {
    throw twilioError('InvalidProxyAddress', { reason: `a ${channel} participant needs a ${channel} proxy address, got ${proxy}` });
  }
}

/** A given RoleSid must be a conversation role of this service; none given means the service's default. */
function roleFor(ctx: OperationContext, serviceSid: unknown, value: unknown): string | null {
  if (value !== null && value !== undefined) return requireRole(ctx, serviceSid, value, 'conversation', 'RoleSid').sid as string;
  const config = ctx.db.get('SELECT default_conversation_role_sid AS sid FROM service_configurations WHERE chat_service_sid = ?', serviceSid as string);
  return (config?.sid as string | undefined) ?? null;
}

export const ParticipantResource: ResourceDescriptor = {
  name: 'ConversationParticipant',
  prefix: 'MB',
  table: 'participants',
  parents: [IN_SERVICE, IN_CONVERSATION],
  columns: [
    { name: 'identity', type: 'text', param: 'Identity', maxLength: 256 },
    { name: 'attributes', type: 'text', param: 'Attributes', initial: '{}', json: { maxBytes: 4 * 1024 } },
    { name: 'role_sid', type: 'text', param: 'RoleSid' },
    { name: 'binding_type', type: 'text' },
    { name: 'address', type: 'text', param: 'MessagingBinding.Address', update: false },
    { name: 'proxy_address', type: 'text', param: 'MessagingBinding.ProxyAddress' },
    { name: 'projected_address', type: 'text', param: 'MessagingBinding.ProjectedAddress' },
    { name: 'last_read_message_index', type: 'integer', param: 'LastReadMessageIndex', create: false },
    { name: 'last_read_timestamp', type: 'text', param: 'LastReadTimestamp', create: false },
    // set through the user's view of the conversation (Users/{UserSid}/Conversations/{ConversationSid})
    { name: 'notification_level', type: 'text', param: 'NotificationLevel', create: false, initial: 'default', since: 2 },
  ],
  alternateKeys: ['identity', 'address'],
  indexes: [['account_sid', 'identity'], ['account_sid', 'address', 'proxy_address']],
  unique: [{ columns: ['conversation_sid', 'identity'], where: 'identity IS NOT NULL' }],
  hooks: {
    beforeCreate(ctx, values) {
      const conversation = conversationOf(ctx);
      assertOpen(conversation);
      values.role_sid = roleFor(ctx, values.chat_service_sid, values.role_sid);
      const { identity, address, proxy_address: proxy, projected_address: projected } = values;
      if (address === '') throw twilioError('EmptyAddress');
      if (identity === '') throw twilioError('IdentityMissing', { reason: 'Identity can not be empty' });
      if (identity === null && address === null) {
        throw twilioError('IdentityMissing', { reason: 'A participant needs an Identity (chat) or a MessagingBinding.Address (SMS, WhatsApp)' });
      }
      if (identity !== null && address !== null) throw twilioError('IdentityWithAddress');
      if (address !== null) {
        const parsed = parseAddress(address as string, 'InvalidBindingAddress');
        if (projected !== null) {
          throw twilioError('BindingParameterNotSupported', { reason: 'MessagingBinding.ProjectedAddress is for chat participants (Identity), not SMS or WhatsApp ones' });
        }
        if (proxy === null) throw twilioError('InvalidProxyAddress', { reason: 'MessagingBinding.ProxyAddress is required with MessagingBinding.Address' });
        checkProxy(proxy as string, parsed.channel);
        values.binding_type = parsed.channel;
        checkPairFree(ctx, address, proxy);
      } else {
        if (proxy !== null) throw twilioError('InvalidProxyAddress', { reason: 'a chat participant has no proxy address; use MessagingBinding.ProjectedAddress' });
        if (projected !== null) {
          parseAddress(projected as string, 'InvalidProxyAddress');
          values.binding_type = 'sms';
        }
        checkIdentityFree(ctx, identity, conversation.sid);
      }
      const counts = ctx.db.get(
        'SELECT count(*) AS total, count(address) AS non_chat FROM participants WHERE conversation_sid = ?',
        conversation.sid,
      ) as { total: number; non_chat: number };
      if (counts.total >= MAX_PARTICIPANTS) throw twilioError('ParticipantLimit', { limit: MAX_PARTICIPANTS });
      if (address !== null && counts.non_chat >= MAX_NON_CHAT_PARTICIPANTS) {
        throw twilioError('NonChatParticipantLimit', { limit: MAX_NON_CHAT_PARTICIPANTS });
      }
    },
    afterCreate(ctx, row) {
      // A chat identity is a User of the service at Twilio: joining creates it when it is new.
      if (row.identity !== null) ensureUser(ctx, row.chat_service_sid as string, row.identity as string);
    },
    afterUpdate(ctx, row, previous) {
      if (row.identity !== null && row.identity !== previous.identity) ensureUser(ctx, row.chat_service_sid as string, row.identity as string);
    },
    beforeUpdate(ctx, current, changes) {
      assertOpen(conversationOf(ctx));
      if ('role_sid' in changes) changes.role_sid = roleFor(ctx, current.chat_service_sid, changes.role_sid);
      if ('identity' in changes) {
        if (changes.identity === '') throw twilioError('IdentityMissing', { reason: 'Identity can not be empty' });
        if (current.address !== null) throw twilioError('IdentityNotAllowed');
        checkIdentityFree(ctx, changes.identity, current.conversation_sid, current.seq);
      }
      if ('proxy_address' in changes) {
        if (current.address === null) throw twilioError('InvalidProxyAddress', { reason: 'a chat participant has no proxy address' });
        checkProxy(changes.proxy_address as string, current.binding_type as string);
        checkPairFree(ctx, current.address, changes.proxy_address, current.seq);
      }
      if ('projected_address' in changes && changes.projected_address !== null) {
        if (current.address !== null) throw twilioError('ProjectedAddressNotAllowed');
        parseAddress(changes.projected_address as string, 'InvalidProxyAddress');
      }
    },
  },
  representReads: ['address', 'binding_type', 'proxy_address', 'projected_address'],
  represent(row, _ctx, wire) {
    wire.messaging_binding = messagingBinding(row);
  },
};

export function messagingBinding(row: Row): Record<string, string> | null {
  if (row.address !== null) {
    const binding: Record<string, string> = { type: row.binding_type as string, address: row.address as string, proxy_address: row.proxy_address as string };
    return binding;
  }
  if (row.projected_address !== null) return { type: 'sms', projected_address: row.projected_address as string };
  return null;
}
