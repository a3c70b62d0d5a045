/** What the client API's handlers share: the session's service, membership, and a context for its writes. */
import type { EmulatorCore } from '../core.js';
import type { OperationContext } from '../resources/context.js';
import type { Row } from '../store/database.js';
import type { MediaStore } from './media-store.js';
import { UpstreamError, type ClientSession, type UpstreamRequest } from './upstream.js';

export interface AimDeps {
  core: EmulatorCore;
  /** what clients uploaded to MCS */
  media: MediaStore;
  /** who created which conversation through a client (they join it with the creator role) */
  creators: { remember(conversationSid: string, identity: string): void; creatorOf(conversationSid: string): string | undefined };
  /** sessions of a service's identities, for typing indicators */
  sessionsOf(serviceSid: string, identities: Set<string>): ClientSession[];
}

export function forbidden(message: string): UpstreamError {
  return new UpstreamError(403, 50107, message);
}

export function notFound(what: string): UpstreamError {
  return new UpstreamError(404, 20404, `The requested resource ${what} was not found`);
}

/** a conversation of the session's service, by SID or unique name */
export function conversationOf(deps: AimDeps, session: ClientSession, key: string): Row {
  const row = deps.core.db.get('SELECT * FROM conversations WHERE chat_service_sid = ? AND (sid = ? OR unique_name = ?)', session.serviceSid, key, key);
  if (!row) throw notFound(`Conversation ${key}`);
  return row;
}

export function membership(deps: AimDeps, session: ClientSession, conversation: Row): Row {
  const participant = deps.core.db.get('SELECT * FROM participants WHERE conversation_sid = ? AND identity = ?', conversation.sid as string, session.identity);
  if (!participant) throw forbidden(`${session.identity} is not a participant of conversation ${conversation.sid as string}`);
  return participant;
}

/** A context for a write the client makes: webhooks fire with Source=SDK and the client's ClientIdentity, as at Twilio. */
export function clientContext(deps: AimDeps, session: ClientSession, conversation?: Row): OperationContext {
  const account = deps.core.accounts.get(session.accountSid);
  if (!account) throw new UpstreamError(401, 20003, 'Authenticate');
  const service = deps.core.db.get('SELECT * FROM services WHERE sid = ?', session.serviceSid) as Row;
  return { ...deps.core.systemContext(account, session.httpBase), source: 'SDK', clientIdentity: session.identity, webhookEnabled: true, parents: conversation ? { Service: service, Conversation: conversation } : { Service: service } };
}

export function jsonBody(request: UpstreamRequest): Record<string, unknown> {
  const b = request.body;
  return typeof b === 'object' && b !== null && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
}

