/**
 * What a scenario drives: a Twilio (the emulator, in-process or `tce serve`; real Twilio later) seen through the
 * official SDK, plus whatever the target can do beyond Twilio's API (handsets, faults, clock), each behind a
 * capability. A scenario step that needs a capability the target lacks is skipped, never passed.
 */
import type twilio from 'twilio';
// the emulator's own shapes of its request log and delivery attempts, as the package exports them
import type { Attempt as DeliveryAttempt, RequestLogEntry } from '../index.js';
export type { DeliveryAttempt, RequestLogEntry };

/** `two-numbers`: the target owns two numbers (`Target.numbers`) and SMS between them arrives as inbound */
export type Capability = 'control-plane' | 'handsets' | 'webhook-faults' | 'rest-faults' | 'clock' | 'router-state' | 'two-numbers';

export const CAPABILITIES: readonly Capability[] = ['control-plane', 'handsets', 'webhook-faults', 'rest-faults', 'clock', 'router-state', 'two-numbers'];

export type TwilioClient = ReturnType<typeof twilio>;

/** a handset's scripted answer to what is sent to it (README "Simulated SMS and WhatsApp") */
export interface HandsetOutcome {
  outcome: 'delivered' | 'undelivered' | 'failed';
  errorCode?: number;
  read?: boolean;
  progression?: 'immediate' | 'manual' | { afterSeconds: number };
}

export type DelaySpec = { ms: number } | { uniform: [number, number] } | { lognormal: { medianMs: number; sigma: number } };

/** README "Webhooks" → Faults; the first matching rule acts */
export interface WebhookFaultRule {
  match?: { eventType?: string; url?: string; conversationSid?: string };
  probability?: number;
  times?: number;
  action:
    | { type: 'duplicate'; count: number }
    | { type: 'reorder'; window: number; ms?: number }
    | ({ type: 'delay' } & DelaySpec)
    | { type: 'drop' }
    | { type: 'fail'; status: number };
}

/** README "Rate limits and REST faults" */
export interface RestFaultRule {
  match?: { method?: string; path?: string; operation?: string };
  probability?: number;
  times?: number;
  action: { type: 'error'; status: number; code?: number; message?: string } | ({ type: 'delay' } & DelaySpec) | { type: 'reset' } | { type: 'empty'; status: number };
}

export interface InboundResult {
  routedTo: 'conversation' | 'autocreated' | 'messaging';
  conversationSid?: string;
  messageSid?: string;
  refused?: boolean;
  webhook?: boolean;
}

export interface OutboxMessage {
  sid: string;
  direction: string;
  to: string;
  from: string;
  body: string;
  channel: string;
  status: string;
  errorCode: number | null;
  dateSent: string | null;
  conversationSid: string | null;
  messageSid: string | null;
}

/** one webhook the target sent (or owes), from its journal */
export interface WebhookDelivery {
  id: number;
  eventType: string;
  conversationSid: string | null;
  url: string;
  params: Record<string, string | string[]>;
  idempotencyToken: string;
  state: string;
  attempts: DeliveryAttempt[];
  duplicateOf: number | null;
}

export interface ReceivedWebhook {
  path: string;
  params: Record<string, string>;
  /** twilio.validateRequest said yes */
  valid: boolean;
  at: number;
}

/** a local HTTP receiver: every request's X-Twilio-Signature is checked with twilio.validateRequest */
export interface WebhookReceiver {
  /** base URL (http://127.0.0.1:port); any path under it is received */
  readonly url: string;
  readonly received: readonly ReceivedWebhook[];
  clear(): void;
}

export interface Target {
  readonly name: string;
  /** the official twilio SDK, pointed at the target */
  readonly client: TwilioClient;
  readonly accountSid: string;
  /** signs webhooks; the system under test checks signatures with it */
  readonly authToken: string;
  /** the base URL an SDK (or the router's `twilioUrl`) talks to; undefined: real Twilio */
  readonly twilioUrl: string | undefined;
  readonly capabilities: ReadonlySet<Capability>;
  readonly webhooks: WebhookReceiver;
  /** capability `two-numbers`: the account's own numbers, `service` (A, the consumer's) and `customer` (B) */
  readonly numbers?: { service: string; customer: string };
  /** where the target reaches the system under test (a tunnel); undefined: the consumer's own URL */
  readonly publicUrl?: string;
  /** the base URL the target should post the consumer's webhooks to (e.g. its receiver, which forwards them) */
  exposeConsumer?(consumerUrl: string): string;
  sendInbound(from: string, to: string, body: string, media?: string[]): Promise<InboundResult>;
  setHandset(address: string, outcome: HandsetOutcome): Promise<void>;
  /** where a plain Messaging inbound to `address` is posted (the number's SmsUrl) */
  setNumberWebhook(address: string, url: string): Promise<void>;
  injectWebhookFaults(rules: WebhookFaultRule[]): Promise<void>;
  injectRestFaults(rules: RestFaultRule[]): Promise<void>;
  /** per-account rate limits (429 / 20429 with Retry-After past them); null lifts one (capability rest-faults) */
  setRateLimit(limits: { rps: number | null; burst?: number | null; concurrency?: number | null }): Promise<void>;
  advanceClock(seconds: number): Promise<void>;
  outbox(filter?: { to?: string; from?: string; conversationSid?: string }): Promise<OutboxMessage[]>;
  /** the REST request log (`GET /_emulator/requests`): proves a send was never attempted */
  requests(filter?: { method?: string; path?: string; since?: string }): Promise<RequestLogEntry[]>;
  /** the webhook journal (`GET /_emulator/webhooks/deliveries`) */
  deliveries(filter?: { eventType?: string; conversationSid?: string; status?: string }): Promise<WebhookDelivery[]>;
  /** POST `params` to `url` form-encoded and signed as the target signs its webhooks */
  deliverWebhook(url: string, params: Record<string, string>): Promise<number>;
  /** nothing is owed: no webhook pending (retries and held reorders included) */
  settled(): Promise<boolean>;
  /** poll `predicate` until it answers something other than undefined/false; never a blind sleep */
  waitFor<T>(predicate: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs?: number, what?: string): Promise<T>;
  /** fresh state between scenarios: data, faults, limits, handsets, number webhooks, journal, request log, clock */
  reset(): Promise<void>;
  close(): Promise<void>;
}
