/**
 * STOP / START / HELP, from a conversation's SMS/WhatsApp participant or a plain Messaging inbound.
 *
 * STOP: the router's own confirmation first, when one is configured (queued before the suppression takes effect,
 * or the suppression would refuse it: Rock#7049); then the address goes on the suppression list for that sender,
 * its participants in that sender's conversations are removed, and each step leaves an audit event.
 * Twilio confirms STOP itself under default opt-out, so no confirmation is sent unless configured.
 */
import type { LoggedEvent } from '../events.js';
import type { KeywordKind } from '../compliance/keywords.js';
import type { HandlerContext, HandlerDeps } from './handlers.js';
import { hasCode } from '../twilio/errors.js';

/** Twilio: the recipient opted out of this sender */
const OPTED_OUT = 21610;

export interface KeywordMessage {
  kind: KeywordKind;
  /** the handset: +E164 or whatsapp:+E164 */
  address: string;
  /** the number or Messaging Service it wrote to */
  sender: string;
  conversationSid?: string;
}

const REPLY_GUARD_TTL_SECONDS = 7 * 24 * 3600;

/** when the event happened, as the event says (LWW order of suppressions); else when it arrived */
export function eventTime(event: LoggedEvent): number {
  const stated = Date.parse(event.params.DateCreated ?? '');
  return Number.isFinite(stated) ? stated : event.receivedAt;
}

export function senderParams(sender: string): { from?: string; messagingServiceSid?: string } {
  return sender.startsWith('MG') ? { messagingServiceSid: sender } : { from: sender };
}

export interface ParticipantFacts {
  sid: string;
  address: string | null;
  proxyAddress: string | null;
  attributes: string | null;
}

/** A participant's binding: from derived state when the router has seen it, else from Twilio. */
export async function participantOf(deps: HandlerDeps, conversationSid: string, participantSid: string): Promise<ParticipantFacts | undefined> {
  const [known] = await deps.events.entities([{ kind: 'participant', id: participantSid }]);
  const doc = known?.doc as { address?: string | null; proxyAddress?: string | null; attributes?: string | null } | undefined;
  if (doc?.address) return { sid: participantSid, address: doc.address, proxyAddress: doc.proxyAddress ?? null, attributes: doc.attributes ?? null };
  const found = (await deps.gateway.listParticipants(conversationSid)).find((p) => p.sid === participantSid);
  return found && { sid: found.sid, address: found.address, proxyAddress: found.proxyAddress, attributes: found.attributes };
}

async function reply(deps: HandlerDeps, event: LoggedEvent, message: KeywordMessage, kind: 'stop' | 'help', body: string): Promise<void> {
  // once per inbound message: a retry of this event after the send went out does not send again
  const guard = `reply:${kind}:${event.dedupeKey}`;
  if ((await deps.kv.get(guard)) === 'done') return;
  let sid: string | undefined;
  try {
    sid = (await deps.gateway.sendMessage({ to: message.address, ...senderParams(message.sender), body })).sid;
  } catch (error) {
    // Twilio's own opt-out already blocks this sender (default STOP handling): its confirmation went out instead
    if (!hasCode(error, OPTED_OUT)) throw error;
  }
  await deps.kv.set(guard, 'done', REPLY_GUARD_TTL_SECONDS);
  await deps.audit.record('reply', `${kind}:${event.dedupeKey}`, partitionOf(message), {
    ...(message.conversationSid ? { ConversationSid: message.conversationSid } : {}),
    Address: message.address,
    Sender: message.sender,
    Kind: kind,
    Outcome: sid ? 'sent' : 'refused-21610',
    ...(sid ? { Sid: sid } : {}),
  }, event.correlationId);
}

function partitionOf(message: KeywordMessage): string {
  return message.conversationSid ?? `address:${message.address}`;
}

export async function handleKeyword(deps: HandlerDeps, context: HandlerContext, event: LoggedEvent, message: KeywordMessage): Promise<void> {
  const { config, suppressions, audit } = deps;
  const at = new Date(eventTime(event)).toISOString();
  const common = { Address: message.address, Sender: message.sender, Keyword: (event.params.Body ?? '').trim(), At: at };
  switch (message.kind) {
    case 'stop': {
      if (config.compliance.stopConfirmationText) await reply(deps, event, message, 'stop', config.compliance.stopConfirmationText);
      await suppressions.add({ address: message.address, sender: message.sender, reason: 'keyword', since: eventTime(event) });
      await audit.record('suppressionAdded', event.dedupeKey, partitionOf(message), { ...common, Reason: 'keyword' }, event.correlationId);
      await removeParticipantsOf(deps, context, event, message);
      context.log.info({ sender: message.sender }, 'address opted out');
      return;
    }
    case 'start': {
      await suppressions.lift(message.address, message.sender);
      await audit.record('suppressionLifted', event.dedupeKey, partitionOf(message), common, event.correlationId);
      context.log.info({ sender: message.sender }, 'address opted back in');
      return;
    }
    case 'help':
      await reply(deps, event, message, 'help', config.compliance.helpText);
      return;
  }
}

/** Remove the address from every conversation where it talks to that sender (a number: its proxy; a service: all). */
async function removeParticipantsOf(deps: HandlerDeps, context: HandlerContext, event: LoggedEvent, message: KeywordMessage): Promise<void> {
  const memberships = await deps.gateway.conversationsOfAddress(message.address);
  for (const m of memberships) {
    if (!message.sender.startsWith('MG') && m.proxyAddress && m.proxyAddress !== message.sender) continue;
    await deps.gateway.removeParticipant(m.conversationSid, m.participantSid);
    await deps.audit.record(
      'participantRemoved',
      `${event.dedupeKey}:${m.participantSid}`,
      m.conversationSid,
      { ConversationSid: m.conversationSid, ParticipantSid: m.participantSid, Address: message.address, Reason: 'opt-out' },
      event.correlationId,
    );
    context.log.info({ conversationSid: m.conversationSid, participantSid: m.participantSid }, 'opted-out participant removed');
  }
}
