/**
 * What one logged event says about each entity it concerns, as a delta: the registers that event alone would
 * produce. Applying an event is joining its deltas into the current docs (fold.ts). Only fields the event carries
 * are written; every stamp comes from the event itself (its dates, else its `At`, else `receivedAt`), with its
 * dedupe key as the tie-break.
 */
import type { LoggedEvent } from '../events.js';
import { isFailure, isKnownStatus, UNREACHABLE_CODES } from './delivery-rank.js';
import type { EntityKind } from './docs.js';
import { type Json, type Registers, type Stamp, lww, setOwn } from './registers.js';

export interface Delta {
  kind: EntityKind;
  id: string;
  conversationSid: string | null;
  reg: Registers;
}

type Params = LoggedEvent['params'];

const present = (params: Params, name: string): string | undefined => {
  const v = params[name];
  return v === undefined || v === '' ? undefined : v;
};

/** ISO date → epoch ms; undefined when absent or unreadable (then the next candidate is used). */
function millis(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The first of `names` that holds a readable date, else the time the router received the event. */
function stamp(event: LoggedEvent, ...names: string[]): Stamp {
  for (const name of names) {
    const ms = millis(event.params[name]);
    if (ms !== undefined) return { at: ms, by: event.dedupeKey };
  }
  return { at: event.receivedAt, by: event.dedupeKey };
}

function integer(value: string | undefined): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  return Number.isInteger(n) ? n : null;
}

/** lww registers for the params that are present: field ← param */
function fields(params: Params, at: Stamp, map: Record<string, string>): Registers {
  const reg: Registers = {};
  for (const [field, param] of Object.entries(map)) {
    const v = present(params, param);
    if (v !== undefined) reg[field] = lww(v, at);
  }
  return reg;
}

function created(params: Params): Registers {
  const ms = millis(params.DateCreated);
  return ms === undefined ? {} : { createdAt: ms };
}

const INBOUND_SOURCES = new Set(['SMS', 'WHATSAPP']);

function conversationEvent(event: LoggedEvent): Delta[] {
  const p = event.params;
  const conversationSid = present(p, 'ConversationSid');
  const type = event.eventType;
  const out: Delta[] = [];
  const changed = stamp(event, 'DateUpdated', 'DateCreated', 'DateRemoved');
  const removal: Registers = type.endsWith('Removed') ? { removed: lww('twilio', stamp(event, 'DateRemoved', 'DateUpdated', 'DateCreated')) } : {};

  if (type === 'onConversationAdded' || type === 'onConversationUpdated' || type === 'onConversationRemoved') {
    if (!conversationSid) return [];
    const reg = {
      ...fields(p, changed, {
        uniqueName: 'UniqueName',
        friendlyName: 'FriendlyName',
        attributes: 'Attributes',
        state: 'State',
        messagingServiceSid: 'MessagingServiceSid',
        chatServiceSid: 'ChatServiceSid',
      }),
      ...created(p),
      ...removal,
    };
    return [{ kind: 'conversation', id: conversationSid, conversationSid, reg }];
  }
  if (type === 'onConversationStateUpdated') {
    if (!conversationSid) return [];
    const at = stamp(event, 'StateUpdated', 'DateUpdated');
    const reg = { ...fields(p, at, { state: 'StateTo', messagingServiceSid: 'MessagingServiceSid', chatServiceSid: 'ChatServiceSid' }) };
    return [{ kind: 'conversation', id: conversationSid, conversationSid, reg }];
  }

  if (type === 'onParticipantAdded' || type === 'onParticipantUpdated' || type === 'onParticipantRemoved') {
    const sid = present(p, 'ParticipantSid');
    if (!sid) return [];
    const reg = {
      ...fields(p, changed, {
        identity: 'Identity',
        address: 'MessagingBinding.Address',
        proxyAddress: 'MessagingBinding.ProxyAddress',
        bindingType: 'MessagingBinding.Type',
        attributes: 'Attributes',
        roleSid: 'RoleSid',
      }),
      ...created(p),
      ...removal,
    };
    return [{ kind: 'participant', id: sid, conversationSid: conversationSid ?? null, reg }];
  }

  if (type === 'onMessageAdded' || type === 'onMessageUpdated' || type === 'onMessageRemoved') {
    const sid = present(p, 'MessageSid');
    if (!sid) return [];
    const reg: Registers = {
      ...fields(p, changed, {
        body: 'Body',
        author: 'Author',
        participantSid: 'ParticipantSid',
        attributes: 'Attributes',
        media: 'Media',
      }),
      ...created(p),
      ...removal,
    };
    const index = integer(present(p, 'Index'));
    if (index !== null) reg.index = lww(index, changed);
    // Source is the message's origin only on its creation (updates carry who made the update)
    const source = present(p, 'Source');
    if (type === 'onMessageAdded' && source !== undefined) reg.source = lww(source, changed);
    out.push({ kind: 'message', id: sid, conversationSid: conversationSid ?? null, reg });

    const service = present(p, 'MessagingServiceSid');
    const inbound = type === 'onMessageAdded' && source !== undefined && INBOUND_SOURCES.has(source);
    const author = present(p, 'Author');
    const participantSid = present(p, 'ParticipantSid');
    const inboundAt = millis(p.DateCreated) ?? event.receivedAt;
    if (conversationSid && (service !== undefined || (inbound && author !== undefined))) {
      const reg: Registers = {};
      if (service !== undefined) reg.serviceFromMessages = lww(service, changed);
      if (inbound && author !== undefined) {
        const byAuthor: Record<string, Json> = {};
        setOwn(byAuthor, author, inboundAt);
        reg.inboundAt = byAuthor;
      }
      out.push({ kind: 'conversation', id: conversationSid, conversationSid, reg });
    }
    if (inbound && participantSid !== undefined) {
      out.push({ kind: 'participant', id: participantSid, conversationSid: conversationSid ?? null, reg: { lastInboundAt: inboundAt } });
    }
    return out;
  }

  if (type === 'onDeliveryUpdated') {
    const messageSid = present(p, 'MessageSid');
    const participantSid = present(p, 'ParticipantSid');
    const status = present(p, 'Status');
    if (!messageSid || !participantSid || status === undefined || !isKnownStatus(status)) return [];
    const at = stamp(event, 'DateUpdated', 'DateCreated');
    const code = integer(present(p, 'ErrorCode'));
    const receipt: Record<string, Json> = { status, code, at: at.at, by: at.by };
    const channelMessageSid = present(p, 'ChannelMessageSid');
    if (channelMessageSid !== undefined) receipt.channelMessageSid = channelMessageSid;
    const delivery: Record<string, Json> = {};
    setOwn(delivery, participantSid, receipt);
    out.push({ kind: 'message', id: messageSid, conversationSid: conversationSid ?? null, reg: { delivery } });
    if (isFailure(status) && code !== null && UNREACHABLE_CODES.has(code)) {
      out.push({ kind: 'participant', id: participantSid, conversationSid: conversationSid ?? null, reg: { failure: lww(code, at) } });
    }
    return out;
  }
  return [];
}

function messagingStatus(event: LoggedEvent): Delta[] {
  const p = event.params;
  const sid = present(p, 'MessageSid') ?? present(p, 'SmsSid');
  const status = present(p, 'MessageStatus') ?? present(p, 'SmsStatus');
  if (!sid || status === undefined || !isKnownStatus(status)) return [];
  // no timestamp in a status callback: the status rank orders them; receivedAt only breaks ties of equal rank
  const at = stamp(event);
  const code = integer(present(p, 'ErrorCode'));
  const reg: Registers = {
    ...fields(p, at, { from: 'From', to: 'To', messagingServiceSid: 'MessagingServiceSid' }),
    status: { status, code, at: at.at, by: at.by },
  };
  const out: Delta[] = [{ kind: 'outbound', id: sid, conversationSid: null, reg }];
  const to = present(p, 'To');
  if (to !== undefined && isFailure(status) && code !== null && UNREACHABLE_CODES.has(code)) {
    out.push({ kind: 'contact', id: to, conversationSid: null, reg: { failure: lww(code, at) } });
  }
  return out;
}

function messagingInbound(event: LoggedEvent): Delta[] {
  const from = present(event.params, 'From');
  if (from === undefined) return [];
  const reg: Registers = { lastInboundAt: event.receivedAt };
  const to = present(event.params, 'To');
  if (to !== undefined) {
    const bySender: Record<string, Json> = {};
    setOwn(bySender, to, event.receivedAt);
    reg.inboundBySender = bySender;
  }
  return [{ kind: 'contact', id: from, conversationSid: null, reg }];
}

/** The suppression doc id of (sender, address). */
export const suppressionId = (sender: string, address: string): string => `${sender}|${address}`;

function routerAudit(event: LoggedEvent): Delta[] {
  const p = event.params;
  switch (event.eventType) {
    case 'suppressionAdded':
    case 'suppressionLifted': {
      const address = present(p, 'Address');
      const sender = present(p, 'Sender');
      if (address === undefined || sender === undefined) return [];
      const at = stamp(event, 'At');
      const adding = event.eventType === 'suppressionAdded';
      // pri: an add and a lift of the same millisecond resolve to suppressed (the safe side)
      const reg: Registers = { address: lww(address, at), sender: lww(sender, at), active: lww(adding, at, adding ? 1 : 0) };
      if (adding) Object.assign(reg, fields(p, at, { reason: 'Reason', keyword: 'Keyword' }));
      return [{ kind: 'suppression', id: suppressionId(sender, address), conversationSid: null, reg }];
    }
    case 'participantRemoved': {
      const sid = present(p, 'ParticipantSid');
      if (sid === undefined) return [];
      const at = stamp(event, 'At');
      return [{ kind: 'participant', id: sid, conversationSid: present(p, 'ConversationSid') ?? null, reg: { removed: lww(present(p, 'Reason') ?? 'router', at) } }];
    }
    default:
      // fallback / reply: audit only, no derived state
      return [];
  }
}

/** The deltas of one event, at most one per entity. */
export function eventDeltas(event: LoggedEvent): Delta[] {
  switch (event.source) {
    case 'conversations':
      return conversationEvent(event);
    case 'messaging-status':
      return messagingStatus(event);
    case 'messaging-inbound':
      return messagingInbound(event);
    case 'router':
      return routerAudit(event);
    default:
      return [];
  }
}
