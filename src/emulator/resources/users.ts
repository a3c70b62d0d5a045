/**
 * Users (US): a chat identity in a service. Identity is unique per service and usable in place of the SID.
 * Adding a chat participant with a new identity creates its User, as Twilio does.
 * `is_online` / `is_notifiable` follow Twilio's User reference (reachability.ts).
 */
import type { Row } from '../store/database.js';
import { twilioError } from '../wire/errors.js';
import { changeEvent, type OperationContext } from './context.js';
import type { ResourceDescriptor } from './descriptor.js';
import { insertRow } from './engine.js';
import { requireRole } from './roles.js';
import { IN_SERVICE } from './scopes.js';
import { newSid } from '../wire/sid.js';
import { reachabilityOf } from './reachability.js';

function defaultServiceRole(ctx: OperationContext, serviceSid: unknown): string | null {
  const config = ctx.db.get('SELECT default_chat_service_role_sid AS sid FROM service_configurations WHERE chat_service_sid = ?', serviceSid as string);
  return (config?.sid as string | undefined) ?? null;
}

export const UserResource: ResourceDescriptor = {
  name: 'User',
  prefix: 'US',
  table: 'users',
  since: 2,
  parents: [IN_SERVICE],
  columns: [
    { name: 'identity', type: 'text', param: 'Identity', update: false, maxLength: 256 },
    { name: 'friendly_name', type: 'text', param: 'FriendlyName', maxLength: 256 },
    { name: 'attributes', type: 'text', param: 'Attributes', initial: '{}', json: { maxBytes: 16 * 1024 } },
    { name: 'role_sid', type: 'text', param: 'RoleSid' },
  ],
  alternateKeys: ['identity'],
  unique: [{ columns: ['chat_service_sid', 'identity'] }],
  links: { user_conversations: 'Conversations' },
  hooks: {
    beforeCreate(ctx, values) {
      if (values.identity === '') throw twilioError('InvalidParameter', { message: 'Identity must not be empty' });
      if (ctx.db.get('SELECT 1 FROM users WHERE chat_service_sid = ? AND identity = ?', values.chat_service_sid, values.identity)) {
        throw twilioError('UserExists', { identity: values.identity as string });
      }
      if (values.role_sid !== null) requireRole(ctx, values.chat_service_sid, values.role_sid, 'service', 'RoleSid');
      else values.role_sid = defaultServiceRole(ctx, values.chat_service_sid);
    },
    beforeUpdate(ctx, current, changes) {
      if ('role_sid' in changes) requireRole(ctx, current.chat_service_sid, changes.role_sid, 'service', 'RoleSid');
    },
  },
  representReads: [],
  represent(row, ctx, wire) {
    Object.assign(wire, reachabilityOf(ctx, row));
  },
};

/** The User of a chat identity in a service, created on first use (as when a participant joins). */
export function ensureUser(ctx: OperationContext, serviceSid: string, identity: string): Row {
  const existing = ctx.db.get('SELECT * FROM users WHERE chat_service_sid = ? AND identity = ?', serviceSid, identity);
  if (existing) return existing;
  const now = ctx.clock.now();
  const row = insertRow(ctx.db, UserResource, {
    sid: newSid('US', ctx.random),
    account_sid: ctx.account.sid,
    chat_service_sid: serviceSid,
    identity,
    friendly_name: null,
    attributes: '{}',
    role_sid: defaultServiceRole(ctx, serviceSid),
    date_created: now,
    date_updated: now,
  });
  ctx.events.emit(changeEvent(ctx, 'created', 'User', row));
  return row;
}
