/**
 * What the router accepts and logs. Every event the ingress accepts, and every audit fact the router records
 * itself, becomes one row of the event log; derived state is a pure fold of that log (state/fold.ts).
 */

/** Form fields as received (a repeated key keeps its last value; `MediaUrl0`… are separate keys at Twilio anyway). */
export type EventParams = Record<string, string>;

/**
 * - `conversations`: a Conversations post-event webhook (EventType onMessageAdded, onDeliveryUpdated, …)
 * - `messaging-inbound`: a Programmable Messaging inbound message (From, To, Body, MessageSid SM…)
 * - `messaging-status`: a Programmable Messaging status callback (MessageSid, MessageStatus, ErrorCode, To, From)
 * - `router`: an audit fact the router appended itself (see AuditType)
 */
export type EventSource = 'conversations' | 'messaging-inbound' | 'messaging-status' | 'router';

/** The audit facts the router appends (source `router`, `eventType` one of these, fields in `params`). */
export type AuditType =
  /** params: Address, Sender, Reason (`keyword` | `21610`), Keyword?, At (ISO) */
  | 'suppressionAdded'
  /** params: Address, Sender, Keyword?, At (ISO) */
  | 'suppressionLifted'
  /** params: ConversationSid, ParticipantSid, Address, Reason */
  | 'participantRemoved'
  /** params: ConversationSid?, ParticipantSid?, MessageSid (the failed one), Channel, FallbackSid?, Outcome (`sent` | `task` | `failed` | `skipped`), ErrorCode? */
  | 'fallback'
  /** params: ConversationSid?, Address, Sender, Kind (`help` | `stop`), Outcome (`sent` | `refused-21610`), Sid? */
  | 'reply';

export interface IncomingEvent {
  source: EventSource;
  /** EventType for Conversations; `inbound` / `status` for Messaging; the AuditType for `router` */
  eventType: string;
  /** the dedupe key (ingress/dedupe-key.ts); unique within the dedupe window */
  dedupeKey: string;
  /**
   * Events of one partition are handled one at a time, in log order. The ConversationSid when the event has one,
   * else `address:<From>` for an inbound message, `message:<MessageSid>` for a status callback.
   */
  partitionKey: string;
  params: EventParams;
  /** epoch milliseconds at the router */
  receivedAt: number;
  /** `valid`: the signature checked out; `unchecked`: validation is off, or the router wrote it */
  signature: 'valid' | 'unchecked';
  /** the log correlation id of the request that carried it */
  correlationId: string;
}

export interface LoggedEvent extends IncomingEvent {
  /** position in the log: increasing in acceptance order */
  id: number;
}
