/**
 * A REST User's `is_online` and `is_notifiable`, as Twilio's User reference describes them (the twilio-go
 * docs of ConversationsV1User, twilio.com/docs/conversations/api/user-resource):
 * - both are null when the service's Configuration has ReachabilityEnabled false, and always null in a Read
 *   (list) answer: only single-resource answers carry them;
 * - is_online: true while a client SDK of the user is connected; false once one was and none is; null if none
 *   ever was (tce knows "ever" since the emulator started, from its client hub: presence.ts);
 * - is_notifiable: true when the user has a push registration (an apn, gcm or fcm Binding) in the service.
 *   Twilio says false when registrations exist but none is valid and null when there never was one; tce keeps
 *   no history of removed bindings and cannot tell a valid registration from an invalid one, so it answers
 *   true or null (decided here; unverified against Twilio).
 */
import type { Row } from '../store/database.js';
import type { OperationContext } from './context.js';
import { presenceOf } from './presence.js';

const PUSH_TYPES = "('apn', 'gcm', 'fcm')";

/** a list answer (…/Users) rather than one User (…/Users/{Sid or Identity}) */
const isList = (ctx: OperationContext) => /\/Users\/?$/.test(ctx.requestPath);

export function reachabilityOf(ctx: OperationContext, user: Row): { is_online: boolean | null; is_notifiable: boolean | null } {
  const none = { is_online: null, is_notifiable: null };
  if (isList(ctx)) return none;
  const config = ctx.db.get('SELECT reachability_enabled AS enabled FROM service_configurations WHERE chat_service_sid = ?', user.chat_service_sid as string);
  if (config?.enabled !== 1) return none;
  const identity = user.identity ?? ctx.db.get('SELECT identity FROM users WHERE sid = ?', user.sid as string)?.identity;
  const push = ctx.db.get(`SELECT 1 AS yes FROM bindings WHERE chat_service_sid = ? AND identity = ? AND binding_type IN ${PUSH_TYPES} LIMIT 1`, user.chat_service_sid as string, identity as string);
  return { is_online: presenceOf(ctx.db, user.sid as string) ?? null, is_notifiable: push ? true : null };
}
