/**
 * Roles (RL): named permission sets, `service` roles for users and `conversation` roles for participants.
 * Every service starts with the four roles Twilio creates (service admin / user, channel admin / user), and its
 * Configuration points at them as the defaults.
 */
import type { Row } from '../store/database.js';
import { twilioError } from '../wire/errors.js';
import type { OperationContext, Services } from './context.js';
import type { ResourceDescriptor } from './descriptor.js';
import { insertRow } from './engine.js';
import { IN_SERVICE } from './scopes.js';
import { newSid } from '../wire/sid.js';

export const SERVICE_PERMISSIONS = ['createConversation', 'destroyConversation', 'editAnyUserInfo', 'editOwnUserInfo', 'joinConversation'];
export const CONVERSATION_PERMISSIONS = [
  'addNonChatParticipant', 'addParticipant', 'deleteAnyMessage', 'deleteOwnMessage', 'deleteConversation', 'editAnyMessage',
  'editAnyMessageAttributes', 'editAnyParticipantAttributes', 'editConversationAttributes', 'editConversationName',
  'editNotificationLevel', 'editOwnMessage', 'editOwnMessageAttributes', 'editOwnParticipantAttributes', 'leaveConversation',
  'removeParticipant', 'sendMediaMessage', 'sendMessage',
];

const DEFAULT_ROLES = [
  { key: 'serviceAdmin', friendly_name: 'service admin', type: 'service', permissions: SERVICE_PERMISSIONS },
  { key: 'serviceUser', friendly_name: 'service user', type: 'service', permissions: ['createConversation', 'editOwnUserInfo', 'joinConversation'] },
  { key: 'channelAdmin', friendly_name: 'channel admin', type: 'conversation', permissions: CONVERSATION_PERMISSIONS },
  {
    key: 'channelUser',
    friendly_name: 'channel user',
    type: 'conversation',
    permissions: ['deleteOwnMessage', 'editOwnMessage', 'editOwnMessageAttributes', 'editOwnParticipantAttributes', 'leaveConversation', 'sendMediaMessage', 'sendMessage'],
  },
] as const;

export type DefaultRoles = Record<(typeof DEFAULT_ROLES)[number]['key'], string>;

function checkPermissions(type: string, permissions: unknown): void {
  const list = JSON.parse(String(permissions ?? '[]')) as string[];
  if (list.length === 0) throw twilioError('InvalidParameter', { message: 'Permission must name at least one permission' });
  const known = type === 'service' ? SERVICE_PERMISSIONS : CONVERSATION_PERMISSIONS;
  const unknown = list.filter((p) => !known.includes(p));
  if (unknown.length) {
    throw twilioError('InvalidParameter', { message: `Invalid Permission for a ${type} role: ${unknown.join(', ')}` });
  }
}

export const RoleResource: ResourceDescriptor = {
  name: 'Role',
  prefix: 'RL',
  table: 'roles',
  since: 2,
  parents: [IN_SERVICE],
  columns: [
    // the spec: "It can be up to 64 characters long"
    { name: 'friendly_name', type: 'text', param: 'FriendlyName', update: false, maxLength: 64 },
    { name: 'type', type: 'text', param: 'Type', update: false },
    { name: 'permissions', type: 'text', param: 'Permission', initial: '[]' },
  ],
  hooks: {
    beforeCreate(_ctx, values) {
      checkPermissions(values.type as string, values.permissions);
    },
    beforeUpdate(_ctx, current, changes) {
      if ('permissions' in changes) checkPermissions(current.type as string, changes.permissions);
    },
    beforeDelete(ctx, row) {
      // A role the service Configuration names as a default would leave new users and participants with the SID
      // of a deleted role. Twilio's answer here is unverified; the emulator refuses (400/20001) until the
      // Configuration points elsewhere.
      const config = ctx.db.get(
        `SELECT 1 FROM service_configurations WHERE chat_service_sid = ? AND ? IN
          (default_chat_service_role_sid, default_conversation_role_sid, default_conversation_creator_role_sid)`,
        row.chat_service_sid as string, row.sid as string,
      );
      if (config) {
        throw twilioError('InvalidParameter', { message: `Role ${String(row.sid)} is a default role of the service Configuration and cannot be deleted` });
      }
    },
  },
  representReads: ['permissions'],
  represent(row, _ctx, wire) {
    wire.permissions = JSON.parse(row.permissions as string);
  },
};

/** Insert a service's four default roles; returns their SIDs. */
export function createDefaultRoles(services: Services, accountSid: string, serviceSid: string, now: number): DefaultRoles {
  const sids = {} as DefaultRoles;
  for (const role of DEFAULT_ROLES) {
    const sid = newSid('RL', services.random);
    insertRow(services.db, RoleResource, {
      sid,
      account_sid: accountSid,
      chat_service_sid: serviceSid,
      friendly_name: role.friendly_name,
      type: role.type,
      permissions: JSON.stringify(role.permissions),
      date_created: now,
      date_updated: now,
    });
    sids[role.key] = sid;
  }
  return sids;
}

/** A role of this service of the given type, or a Twilio error naming the parameter. */
export function requireRole(ctx: OperationContext, serviceSid: unknown, roleSid: unknown, type: 'service' | 'conversation', param: string): Row {
  const role = ctx.db.get('SELECT * FROM roles WHERE sid = ? AND chat_service_sid = ? AND account_sid = ?', String(roleSid), serviceSid as string, ctx.account.sid);
  if (!role) throw twilioError('InvalidParameter', { message: `Invalid ${param}: role ${String(roleSid)} does not exist in this service` });
  if (role.type !== type) throw twilioError('InvalidParameter', { message: `Invalid ${param}: role ${String(roleSid)} is a ${String(role.type)} role, not a ${type} role` });
  return role;
}
