/**
 * Derived state: what the router knows about conversations, participants, messages and contacts, as a pure fold of
 * the event log (fold.ts). Each entity is a document of registers that merge commutatively, so any permutation of
 * the same events, with any duplicates, folds to the same docs.
 */

/** Receipt statuses; they only move forward (delivery-rank.ts). */
export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed' | 'undelivered';

/** `GET /api/conversations/{sid|uniqueName}/state` */
export interface ConversationStateView {
  conversation: {
    sid: string;
    uniqueName: string | null;
    friendlyName: string | null;
    state: string | null;
    attributes: string | null;
    removed: boolean;
  };
  participants: Array<{
    sid: string;
    identity: string | null;
    address: string | null;
    proxyAddress: string | null;
    /** false once a delivery to it failed with a channel error (30003, 30005, 30006, 30007, 21610, 63016) */
    reachable: boolean;
    /** its address is on the suppression list for its sender */
    suppressed: boolean;
    lastErrorCode: number | null;
    /** epoch ms of the last inbound message from it (the WhatsApp 24 h window), null when none */
    lastInboundAt: number | null;
    removed: boolean;
  }>;
  messages: Array<{
    sid: string;
    index: number | null;
    author: string | null;
    body: string | null;
    participantSid: string | null;
    removed: boolean;
    /** per recipient participant SID */
    delivery: Record<string, DeliveryStatus>;
    /** per recipient participant SID, the error code of a failed / undelivered receipt */
    errorCodes: Record<string, number>;
  }>;
}

/** `GET /api/suppressions` items, and what the suppression check reads */
export interface SuppressionView {
  address: string;
  sender: string;
  suppressed: boolean;
  reason: string | null;
  since: number;
}
