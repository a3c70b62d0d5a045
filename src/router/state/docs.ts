/**
 * The entity kinds of derived state: for each, the registers it keeps (`doc.reg`, how each one joins) and the
 * plain fields projected from them (the rest of `doc`, what the worker, the store and the state API read). The
 * projection is a pure function of the registers, so equal registers give equal docs.
 */
import { toDeliveryStatus } from './delivery-rank.js';
import { type Json, type Lww, type Receipt, type Registers, type Schema, setOwn, valueOf } from './registers.js';

export type EntityKind = 'conversation' | 'participant' | 'message' | 'outbound' | 'contact' | 'suppression';

export const SCHEMAS: Readonly<Record<EntityKind, Schema>> = {
  // id: CH…
  conversation: {
    uniqueName: 'lww',
    friendlyName: 'lww',
    attributes: 'lww',
    state: 'lww',
    messagingServiceSid: 'lww',
    // as the conversation's messages name it: the first one kept, so each new message does not rewrite the doc
    serviceFromMessages: 'fww',
    chatServiceSid: 'lww',
    createdAt: 'min',
    removed: 'fww',
    // the latest inbound SMS/WhatsApp message per Author (an address), for participants the message did not name
    inboundAt: 'maxMap',
  },
  // id: MB…
  participant: {
    identity: 'lww',
    address: 'lww',
    proxyAddress: 'lww',
    bindingType: 'lww',
    attributes: 'lww',
    roleSid: 'lww',
    createdAt: 'min',
    removed: 'fww',
    // the latest channel failure (v: its error code); present = unreachable
    failure: 'lww',
    lastInboundAt: 'max',
  },
  // id: IM…
  message: {
    index: 'lww',
    body: 'lww',
    author: 'lww',
    participantSid: 'lww',
    attributes: 'lww',
    media: 'lww',
    source: 'lww',
    createdAt: 'min',
    removed: 'fww',
    // per recipient ParticipantSid
    delivery: 'receiptMap',
  },
  // id: SM… (a Programmable Messaging send, from its status callbacks)
  outbound: {
    from: 'lww',
    to: 'lww',
    messagingServiceSid: 'lww',
    status: 'receipt',
  },
  // id: the address (`+E164`, `whatsapp:+E164`)
  contact: {
    failure: 'lww',
    lastInboundAt: 'max',
    // per sender (the inbound's `To`)
    inboundBySender: 'maxMap',
  },
  // id: `<sender>|<address>`
  suppression: {
    address: 'lww',
    sender: 'lww',
    active: 'lww',
    reason: 'lww',
    keyword: 'lww',
  },
};

export const isEntityKind = (kind: string): kind is EntityKind => Object.prototype.hasOwnProperty.call(SCHEMAS, kind);

const asLww = (register: Json | undefined): Lww | undefined => register as unknown as Lww | undefined;

const text = (register: Json | undefined): string | null => {
  const v = valueOf(register);
  return typeof v === 'string' ? v : null;
};
const num = (register: Json | undefined): number | null => {
  const v = typeof register === 'number' ? register : valueOf(register);
  return typeof v === 'number' ? v : null;
};

function tombstone(reg: Registers): Record<string, Json> {
  const removed = asLww(reg.removed);
  return { removed: removed !== undefined, removedAt: removed?.at ?? null, removedReason: text(reg.removed) };
}

function failure(reg: Registers): Record<string, Json> {
  const f = asLww(reg.failure);
  return { reachable: f === undefined, lastErrorCode: num(reg.failure), failedAt: f?.at ?? null };
}

/** The plain fields of a doc, from its registers. */
export function project(kind: EntityKind, id: string, reg: Registers): Record<string, Json> {
  switch (kind) {
    case 'conversation':
      return {
        sid: id,
        uniqueName: text(reg.uniqueName),
        friendlyName: text(reg.friendlyName),
        attributes: text(reg.attributes),
        state: text(reg.state),
        messagingServiceSid: text(reg.messagingServiceSid) ?? text(reg.serviceFromMessages),
        chatServiceSid: text(reg.chatServiceSid),
        createdAt: num(reg.createdAt),
        ...tombstone(reg),
      };
    case 'participant':
      return {
        sid: id,
        identity: text(reg.identity),
        address: text(reg.address),
        proxyAddress: text(reg.proxyAddress),
        bindingType: text(reg.bindingType),
        attributes: text(reg.attributes),
        createdAt: num(reg.createdAt),
        lastInboundAt: num(reg.lastInboundAt),
        ...tombstone(reg),
        ...failure(reg),
      };
    case 'message': {
      const receipts = (reg.delivery ?? {}) as unknown as Record<string, Receipt>;
      const delivery: Record<string, Json> = {};
      const errorCodes: Record<string, Json> = {};
      for (const [participantSid, receipt] of Object.entries(receipts)) {
        setOwn(delivery, participantSid, toDeliveryStatus(receipt.status));
        if (receipt.code !== null) setOwn(errorCodes, participantSid, receipt.code);
      }
      return {
        sid: id,
        index: num(reg.index),
        body: text(reg.body),
        author: text(reg.author),
        participantSid: text(reg.participantSid),
        attributes: text(reg.attributes),
        media: text(reg.media),
        source: text(reg.source),
        createdAt: num(reg.createdAt),
        ...tombstone(reg),
        delivery,
        errorCodes,
      };
    }
    case 'outbound': {
      const status = reg.status as unknown as Receipt | undefined;
      return {
        sid: id,
        from: text(reg.from),
        to: text(reg.to),
        messagingServiceSid: text(reg.messagingServiceSid),
        status: status?.status ?? null,
        delivery: status ? toDeliveryStatus(status.status) : null,
        errorCode: status?.code ?? null,
      };
    }
    case 'contact':
      return {
        address: id,
        lastInboundAt: num(reg.lastInboundAt),
        lastInboundBySender: reg.inboundBySender ?? {},
        ...failure(reg),
      };
    case 'suppression': {
      const active = asLww(reg.active);
      const suppressed = active?.v === true;
      return {
        address: text(reg.address),
        sender: text(reg.sender),
        suppressed,
        reason: suppressed ? text(reg.reason) : null,
        keyword: suppressed ? text(reg.keyword) : null,
        since: active?.at ?? null,
      };
    }
  }
}
