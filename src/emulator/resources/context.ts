/** What every resource operation is handed: the store, the time, the caller's account and resolved parents. */
import type { Clock } from '../clock.js';
import type { RandomSource } from '../random.js';
import type { Database, Row } from '../store/database.js';
import type { Account, Accounts } from '../accounts.js';
import type { ResourceDescriptor } from './descriptor.js';
import type { TimerSchedule } from './conversations/timers.js';

/** Who made a change, as webhooks report it in `Source`. */
export type ChangeSource = 'API' | 'SDK' | 'SMS' | 'WHATSAPP';

/** A change worth telling the outside world about: webhooks, receipts and the channel are built from these. */
export interface ResourceEvent {
  type: 'created' | 'updated' | 'deleted';
  resource: string;
  row: Row;
  previous?: Row;
  accountSid: string;
  source: ChangeSource;
  /** the identity of the client SDK user whose action it was (webhooks' `ClientIdentity`); absent for REST and others */
  clientIdentity?: string;
  /**
   * Whether webhooks may fire for it: REST changes only with `X-Twilio-Webhook-Enabled: true` (Twilio's echo
   * rule); changes from channels, timers and client SDKs always.
   */
  webhooks: boolean;
  /** why a conversation's state moved: API (REST), TIMER or EVENT */
  reason?: 'API' | 'TIMER' | 'EVENT';
  /** base URL of the request that made it (for url fields in payloads) */
  baseUrl?: string;
  /** the conversation the change happened in, as the change saw it (payloads read it instead of querying) */
  conversation?: Row;
}

export interface EventSink {
  /** called inside the write's transaction */
  emit(event: ResourceEvent): void;
}

/** The event of a change made through a context (REST request, control plane or channel). */
export function changeEvent(ctx: OperationContext, type: ResourceEvent['type'], resource: string, row: Row, previous?: Row): ResourceEvent {
  return {
    type,
    resource,
    row,
    previous,
    accountSid: ctx.account.sid,
    source: ctx.source,
    clientIdentity: ctx.clientIdentity,
    webhooks: ctx.webhookEnabled,
    reason: ctx.source === 'API' ? 'API' : 'EVENT',
    baseUrl: ctx.baseUrl,
    conversation: ctx.parents.Conversation,
  };
}

export interface Services {
  db: Database;
  clock: Clock;
  random: RandomSource;
  events: EventSink;
  accounts: Accounts;
  /** when the next conversation timer falls due */
  timers: TimerSchedule;
  descriptor(name: string): ResourceDescriptor;
  /** tables below `name`, with the column that holds its SID there (for cascading deletes) */
  descendants(name: string): { table: string; column: string }[];
}

export interface OperationContext extends Services {
  account: Account;
  /** 'service' when the path names a Conversation Service, else 'default' */
  scope: 'default' | 'service';
  /** resolved parent rows, by descriptor name */
  parents: Record<string, Row>;
  /** request path without query, for 404 messages */
  requestPath: string;
  /** origin used for url, links and page URLs */
  baseUrl: string;
  /** absolute URL of a row of `resource` at this request's scope */
  urlOf(resource: string, row: Row): string;
  /** whether webhooks fire for changes made here (REST: the X-Twilio-Webhook-Enabled header) */
  webhookEnabled: boolean;
  /** who is making the changes */
  source: ChangeSource;
  /** the client SDK user making them (Source=SDK only), for webhooks' `ClientIdentity` */
  clientIdentity?: string;
}
