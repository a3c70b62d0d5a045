/**
 * Reading derived state: the state API's view of one conversation, and the suppression check. A participant is
 * `suppressed` when its address is suppressed for its proxy address or for the conversation's Messaging Service;
 * `reachable` when neither it nor its contact (the address) has a channel failure.
 */
import type { EntityDoc, EntityRef } from '../store/types.js';
import { suppressionId } from './event-deltas.js';
import type { Lww } from './registers.js';
import type { ConversationStateView, DeliveryStatus, SuppressionView } from './types.js';

export const contactRef = (address: string): EntityRef => ({ kind: 'contact', id: address });
export const suppressionRef = (sender: string, address: string): EntityRef => ({ kind: 'suppression', id: suppressionId(sender, address) });

type Fields = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const failureOf = (doc: Fields | undefined): Lww | undefined => (doc?.reg as { failure?: Lww } | undefined)?.failure;

function ofKind(docs: Iterable<EntityDoc>, kind: string): EntityDoc[] {
  const out: EntityDoc[] = [];
  for (const d of docs) if (d.kind === kind) out.push(d);
  return out;
}

/** The senders a participant's address can be suppressed for: its proxy address and the conversation's service. */
function sendersOf(participant: Fields, conversation: Fields | undefined): string[] {
  const senders = [str(participant.proxyAddress), str(conversation?.messagingServiceSid)].filter((s): s is string => s !== null);
  return [...new Set(senders)];
}

/** The contact and suppression docs the view of this conversation reads. */
export function relatedRefs(conversationDocs: EntityDoc[]): EntityRef[] {
  const conversation = ofKind(conversationDocs, 'conversation')[0]?.doc;
  const refs = new Map<string, EntityRef>();
  for (const p of ofKind(conversationDocs, 'participant')) {
    const address = str(p.doc.address);
    if (address === null) continue;
    const contact = contactRef(address);
    refs.set(`${contact.kind}:${contact.id}`, contact);
    for (const sender of sendersOf(p.doc, conversation)) {
      const ref = suppressionRef(sender, address);
      refs.set(`${ref.kind}:${ref.id}`, ref);
    }
  }
  return [...refs.keys()].sort().map((key) => refs.get(key)!);
}

/** Is `address` suppressed for `sender` (a number or a Messaging Service SID), per these docs? */
export function isSuppressed(docs: Iterable<EntityDoc>, address: string, sender: string): boolean {
  const id = suppressionId(sender, address);
  for (const d of docs) if (d.kind === 'suppression' && d.id === id) return d.doc.suppressed === true;
  return false;
}

export function suppressionView(doc: EntityDoc): SuppressionView {
  const [sender = '', address = ''] = doc.id.split('|');
  return {
    address: str(doc.doc.address) ?? address,
    sender: str(doc.doc.sender) ?? sender,
    suppressed: doc.doc.suppressed === true,
    reason: str(doc.doc.reason),
    since: num(doc.doc.since) ?? 0,
  };
}

const bySid = (a: EntityDoc, b: EntityDoc) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The state API's view of one conversation; undefined when there is no conversation doc among `conversationDocs`. */
export function conversationView(conversationDocs: EntityDoc[], related: EntityDoc[]): ConversationStateView | undefined {
  const conversationDoc = ofKind(conversationDocs, 'conversation')[0];
  if (conversationDoc === undefined) return undefined;
  const c = conversationDoc.doc;
  const contacts = new Map(ofKind(related, 'contact').map((d) => [d.id, d.doc] as const));
  const inboundAt = (c.reg as { inboundAt?: Record<string, number> } | undefined)?.inboundAt ?? {};

  const participants = ofKind(conversationDocs, 'participant')
    .sort(bySid)
    .map(({ id, doc: p }) => {
      const address = str(p.address);
      const proxy = str(p.proxyAddress);
      const contact = address === null ? undefined : contacts.get(address);
      // the latest channel failure of the participant or of its address
      const failures = [failureOf(p), failureOf(contact)].filter((f): f is Lww => f !== undefined);
      failures.sort((a, b) => b.at - a.at || (a.by < b.by ? 1 : a.by > b.by ? -1 : 0));
      const bySender = (contact?.lastInboundBySender ?? {}) as Record<string, number>;
      const inbound = [
        num(p.lastInboundAt),
        address !== null && Object.prototype.hasOwnProperty.call(inboundAt, address) ? num(inboundAt[address]) : null,
        proxy !== null && Object.prototype.hasOwnProperty.call(bySender, proxy) ? num(bySender[proxy]) : null,
      ].filter((n): n is number => n !== null);
      return {
        sid: id,
        identity: str(p.identity),
        address,
        proxyAddress: proxy,
        reachable: p.reachable !== false && contact?.reachable !== false,
        suppressed: address !== null && sendersOf(p, c).some((sender) => isSuppressed(related, address, sender)),
        lastErrorCode: failures.length > 0 ? num(failures[0]!.v) : null,
        lastInboundAt: inbound.length > 0 ? Math.max(...inbound) : null,
        removed: p.removed === true,
      };
    });

  const messages = ofKind(conversationDocs, 'message')
    .sort((a, b) => {
      const ia = num(a.doc.index);
      const ib = num(b.doc.index);
      if (ia !== ib) return ia === null ? 1 : ib === null ? -1 : ia - ib;
      return bySid(a, b);
    })
    .map(({ id, doc: m }) => ({
      sid: id,
      index: num(m.index),
      author: str(m.author),
      body: str(m.body),
      participantSid: str(m.participantSid),
      removed: m.removed === true,
      delivery: { ...(m.delivery as Record<string, DeliveryStatus>) },
      errorCodes: { ...(m.errorCodes as Record<string, number>) },
    }));

  return {
    conversation: {
      sid: conversationDoc.id,
      uniqueName: str(c.uniqueName),
      friendlyName: str(c.friendlyName),
      state: str(c.state),
      attributes: str(c.attributes),
      removed: c.removed === true,
    },
    participants,
    messages,
  };
}
