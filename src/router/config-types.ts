/**
 * The router's resolved configuration: flags, else environment, else `--config` TOML, else defaults
 * (config.ts resolves them; createRouter takes a partial of this).
 */
export interface RouterConfig {
  port: number;
  host: string;
  /** SQLite file or `:memory:` (used when no databaseUrl) */
  db: string;
  /** postgres://… : the event log, queue and state on PostgreSQL */
  databaseUrl?: string;
  /** redis://… : dedupe fast path, suppression, WhatsApp window, backoff state */
  redisUrl?: string;
  /** PostgreSQL schema (tests: one per test); default `public` */
  databaseSchema?: string;
  /** Redis key prefix (tests: one per test); default `tce:router:` */
  redisKeyPrefix?: string;
  /**
   * PostgreSQL: the longest any statement may run (server-side statement_timeout; the client gives up 1 s later).
   * An accept that cannot commit by then answers 503 instead of holding Twilio's request. Default 10 s.
   */
  databaseStatementTimeoutMs?: number;
  /** accept and enqueue only, run no worker (an ingress replica; another process applies the queue) */
  ingressOnly: boolean;
  /** the public base URL Twilio posts to (signatures are computed against it + path + raw query) */
  publicUrl?: string;
  /** derive the public URL from X-Forwarded-Proto / X-Forwarded-Host (only behind a proxy you run) */
  trustProxy: boolean;
  /** Twilio's base (default real Twilio); the emulator's URL in tests: every SDK request goes there */
  twilioUrl?: string;
  accountSid?: string;
  /** needed to check signatures, and for REST when no API key is given */
  authToken?: string;
  apiKeySid?: string;
  apiKeySecret?: string;
  conversationsServiceSid?: string;
  /** the Twilio number (or MG) inbound SMS conversations use as proxy */
  defaultProxyAddress?: string;
  defaultWhatsappProxy?: string;
  /** Bearer token of the router's own API (`/api/*`); the API answers 401 to all when unset */
  apiToken?: string;
  paths: { webhook: string; preEvent: string; inbound: string; status: string };
  validateSignature: boolean;
  /** a handler running longer is abandoned and retried (absolute deadline) */
  maxProcessingMs: number;
  /** dedupe window */
  dedupeTtlSeconds: number;
  compliance: {
    stopKeywords: string[];
    startKeywords: string[];
    helpKeywords: string[];
    helpText: string;
    /** Twilio already confirms STOP under default opt-out: the router sends its own only when set */
    stopConfirmationText?: string;
  };
  preEvent: {
    /** identities allowed to join (glob patterns); empty: everyone */
    allowedIdentities: string[];
    /** enforce that the identity's tenant (the part before `:` in `tenant:user`) matches attributes.tenantId */
    enforceTenant: boolean;
    /** regular expressions; a message body matching any is refused */
    piiPatterns: string[];
  };
  /** prefix of inbound conversations' UniqueName (`<tenant>:sms:+E164`) */
  tenant?: string;
  fallback: {
    /** channels to try after a failure, in order: `whatsapp`, `sms`, `task` (an agent task in the conversation's attributes) */
    order: Array<'whatsapp' | 'sms' | 'task'>;
    /** ContentSid for WhatsApp sends outside the 24 h window; without it such a send is refused */
    whatsappTemplateSid?: string;
  };
  worker: {
    /** partitions handled at once */
    concurrency: number;
    leaseMs: number;
    /** handler attempts before an event is dead-lettered */
    maxAttempts: number;
    /**
     * run the worker in a thread of its own, so the ingress answers webhooks on a thread that does nothing else
     * (default for `tce router serve`; createRouter's default is false: a thread takes ~1 s more to start); an
     * in-memory SQLite database cannot be shared with a thread, so its worker always runs in the router's
     */
    thread: boolean;
  };
  twilio: {
    /** requests to Twilio in flight at once */
    maxConcurrency: number;
    /** absolute deadline per request */
    timeoutMs: number;
    /** retries of a 429 / retriable failure */
    maxRetries: number;
  };
  logLevel: string;
}
