/**
 * Twilio's role permissions for client writes: a user's service role (createConversation, joinConversation,
 * editOwnUserInfo, …) and a participant's conversation role (sendMessage, editOwnMessage, addParticipant, …),
 * as the Roles resource holds them. A refusal is 403/50107, "User unauthorized for command".
 */
import type { Database, Row } from '../store/database.js';
import { UpstreamError } from './upstream.js';

function permissionsOf(db: Database, roleSid: unknown, fallbackColumn: string, serviceSid: unknown): Set<string> | undefined {
  const sid = roleSid ?? db.get(`SELECT ${fallbackColumn} AS sid FROM service_configurations WHERE chat_service_sid = ?`, serviceSid as string)?.sid;
  if (sid === null || sid === undefined) return undefined;
  const role = db.get('SELECT permissions FROM roles WHERE sid = ?', sid as string);
  if (!role) return undefined;
  try {
    return new Set(JSON.parse(String(role.permissions)) as string[]);
  } catch {
    return new Set();
  }
}

function refuse(who: string, permission: string, what: string): UpstreamError {
  return new UpstreamError(403, 50107, `User unauthorized for command: ${who} lacks ${permission} (${what})`);
}

/** the user's service role must grant one of `permissions` (a service without roles grants everything) */
export function requireServicePermission(db: Database, user: Row, permissions: string[], what: string): void {
  const granted = permissionsOf(db, user.role_sid, 'default_chat_service_role_sid', user.chat_service_sid);
  if (granted && !permissions.some((p) => granted.has(p))) throw refuse(String(user.identity), permissions.join(' or '), what);
}

/** the participant's conversation role must grant one of `permissions` */
export function requireConversationPermission(db: Database, participant: Row, permissions: string[], what: string): void {
  const granted = permissionsOf(db, participant.role_sid, 'default_conversation_role_sid', participant.chat_service_sid);
  if (granted && !permissions.some((p) => granted.has(p))) throw refuse(String(participant.identity), permissions.join(' or '), what);
}

/** the role a conversation's creator gets when joining it (Configuration DefaultConversationCreatorRoleSid) */
export function creatorRole(db: Database, serviceSid: string): string | undefined {
  return (db.get('SELECT default_conversation_creator_role_sid AS sid FROM service_configurations WHERE chat_service_sid = ?', serviceSid)?.sid as string | null) ?? undefined;
}
