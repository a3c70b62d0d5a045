/** What every resource operation is handed: the store, the time, the caller's account and resolved parents. */
import type { Clock } from '../clock.js';
import type { RandomSource } from '../random.js';
import type { Database, Row } from '../store/database.js';
import type { Account, Accounts } from '../accounts.js';
import type { ResourceDescriptor } from './descriptor.js';
import type { TimerSchedule } from './conversations/timers.js';

/** A change worth telling the outside world about; later issues turn these into webhooks and receipts. */
export interface ResourceEvent {
  type: 'created' | 'updated' | 'deleted';
  resource: string;
  row: Row;
  previous?: Row;
  accountSid: string;
}

export interface EventSink {
  /** called inside the write's transaction */
  emit(event: ResourceEvent): void;
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
  /** the X-Twilio-Webhook-Enabled header, when sent */
  webhookEnabled: boolean;
}
