/**
 * The order receipt statuses move in. A receipt only moves up this ranking, so whichever order the callbacks arrive
 * in, the highest rank seen is the state. Failures rank above every success: a late `delivered` or `read` never
 * overwrites `failed` / `undelivered`, and a failed segment of a multi-segment SMS is never overwritten by a later
 * segment's success (postmangovsg#1150). Between the two failures `failed` wins, so the result does not depend on
 * arrival order either.
 */
import type { DeliveryStatus } from './types.js';

/**
 * Conversations receipt statuses and Programmable Messaging statuses on one scale (distinct ranks: no two statuses
 * tie). `receiving` / `received` are inbound statuses; they only need a place that keeps the order total.
 */
const RANK: Readonly<Record<string, number>> = {
  accepted: 10,
  scheduled: 20,
  queued: 30,
  sending: 40,
  receiving: 45,
  sent: 50,
  received: 55,
  delivered: 60,
  read: 70,
  // terminal: nothing after them moves the receipt
  canceled: 80,
  undelivered: 90,
  failed: 100,
};

const TERMINAL_FROM = RANK.canceled!;

/** The rank of a status; undefined for a status we do not know (the fold ignores it). */
export function deliveryRank(status: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(RANK, status) ? RANK[status] : undefined;
}

export function isKnownStatus(status: string): boolean {
  return deliveryRank(status) !== undefined;
}

/** failed, undelivered, canceled: nothing moves the receipt afterwards */
export function isTerminal(status: string): boolean {
  const rank = deliveryRank(status);
  return rank !== undefined && rank >= TERMINAL_FROM;
}

/** a delivery failure (the codes of these mark a contact unreachable) */
export function isFailure(status: string): boolean {
  return status === 'failed' || status === 'undelivered';
}

/** The status that wins between two (commutative: the higher rank). */
export function laterStatus(a: string, b: string): string {
  return (deliveryRank(a) ?? -1) >= (deliveryRank(b) ?? -1) ? a : b;
}

/** A Messaging status as the state API's DeliveryStatus (the steps before `sent` read as `queued`). */
export function toDeliveryStatus(status: string): DeliveryStatus {
  switch (status) {
    case 'sent':
    case 'delivered':
    case 'read':
    case 'failed':
    case 'undelivered':
      return status;
    case 'received':
      return 'delivered';
    case 'canceled':
      // a canceled scheduled message never reached anyone
      return 'failed';
    default:
      return 'queued';
  }
}

/** The channel errors after which a participant / contact is unreachable (issue 11 §8). */
export const UNREACHABLE_CODES: ReadonlySet<number> = new Set([30003, 30005, 30006, 30007, 21610, 63016]);
