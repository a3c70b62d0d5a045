/**
 * The router's Prometheus metrics. One Registry per router instance, never prom-client's global one: two
 * routers in one process (tests, or a blue/green swap) would otherwise share, or refuse to re-register, series.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The ingress endpoints, as the `endpoint` label spells them. */
export const ROUTER_ENDPOINTS = ['webhook', 'pre-event', 'inbound', 'status'] as const;
export type RouterEndpoint = (typeof ROUTER_ENDPOINTS)[number];

/** Seconds: from 0.5 ms (a dedupe hit on SQLite) to 5 s (Twilio's own webhook timeout). */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface RouterMetrics {
  registry: Registry;
  /** every request to an ingress endpoint, valid or not */
  received: Counter<'endpoint'>;
  /** missing or bad X-Twilio-Signature (answered 403) */
  signatureRejected: Counter<'endpoint'>;
  /** a retry or duplicate of an event already accepted (answered 200, not enqueued again) */
  deduplicated: Counter<'endpoint'>;
  /** accepted and durably enqueued */
  enqueued: Counter<'endpoint'>;
  /** the store could not commit: the only case the ingress answers 5xx */
  commitFailures: Counter<string>;
  eventsProcessed: Counter<'event_type'>;
  eventsFailed: Counter<'event_type'>;
  /** decision: allow | deny; policy: the policy that decided (`identity`, `tenant`, `pii`, `none`) */
  preEventDecisions: Counter<'decision' | 'policy'>;
  /** reason: `429`, `5xx`, `timeout`, `network` */
  twilioRetries: Counter<'reason'>;
  /** reason: `suppressed`, `outside_whatsapp_window`, `unreachable` */
  sendsRefused: Counter<'reason'>;
  /** events enqueued and not yet processed; read from the store at each scrape */
  queueDepth: Gauge<string>;
  handlerDuration: Histogram<'event_type'>;
  ingressDuration: Histogram<'endpoint'>;
  /** the Prometheus text exposition, for `GET /metrics` */
  text(): Promise<string>;
  /** the Content-Type of text() */
  contentType: string;
}

export interface RouterMetricsOptions {
  /** also export prom-client's process metrics (RSS, CPU, event-loop lag); for a served router, not for tests */
  processMetrics?: boolean;
}

export function createRouterMetrics(queueDepth: () => Promise<number>, options: RouterMetricsOptions = {}): RouterMetrics {
  const registry = new Registry();
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers: [registry] });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Histogram<L>({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers: [registry] });

  const metrics: RouterMetrics = {
    registry,
    received: counter('tce_router_webhooks_received_total', 'Requests to an ingress endpoint, valid or not.', ['endpoint']),
    signatureRejected: counter('tce_router_signature_rejected_total', 'Requests refused with 403 for a missing or bad X-Twilio-Signature.', ['endpoint']),
    deduplicated: counter('tce_router_deduplicated_total', 'Events already accepted within the dedupe window (acknowledged, not enqueued again).', ['endpoint']),
    enqueued: counter('tce_router_enqueued_total', 'Events accepted and durably enqueued.', ['endpoint']),
    commitFailures: counter('tce_router_commit_failures_total', 'Events the store could not commit (answered 5xx).', []),
    eventsProcessed: counter('tce_router_events_processed_total', 'Events handled by a worker.', ['event_type']),
    eventsFailed: counter('tce_router_events_failed_total', 'Handler attempts that failed.', ['event_type']),
    preEventDecisions: counter('tce_router_pre_event_decisions_total', 'Pre-event answers, by decision and deciding policy.', ['decision', 'policy']),
    twilioRetries: counter('tce_router_twilio_retries_total', 'Requests to Twilio retried, by reason.', ['reason']),
    sendsRefused: counter('tce_router_sends_refused_total', 'Sends through /api/messages refused without calling Twilio, by reason.', ['reason']),
    queueDepth: new Gauge({
      name: 'tce_router_queue_depth',
      help: 'Events enqueued and not yet processed.',
      registers: [registry],
      async collect() {
        // a store that cannot answer must not break the whole scrape: NaN says "unknown"
        this.set(await queueDepth().catch(() => NaN));
      },
    }),
    handlerDuration: histogram('tce_router_handler_duration_seconds', 'Time a worker spends handling one event.', ['event_type']),
    ingressDuration: histogram('tce_router_ingress_duration_seconds', 'Time from request to acknowledgement.', ['endpoint']),
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
  // per-endpoint series exist from the start, so a rate() over a fresh router reads 0 rather than nothing
  for (const endpoint of ROUTER_ENDPOINTS) {
    for (const c of [metrics.received, metrics.signatureRejected, metrics.deduplicated, metrics.enqueued]) c.inc({ endpoint }, 0);
  }
  metrics.commitFailures.inc(0);
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'tce_router_' });
  return metrics;
}

const ENDPOINT_OF_SOURCE: Record<string, RouterEndpoint> = {
  conversations: 'webhook',
  'pre-event': 'pre-event',
  'messaging-inbound': 'inbound',
  'messaging-status': 'status',
};

/**
 * The ingress counts by name and `source` (ingress/routes.ts); this maps them onto the typed series above,
 * labelled by endpoint. A 400 (a body that does not decode) counts as received only.
 */
export function ingressCounters(metrics: RouterMetrics): { inc(name: string, labels?: Record<string, string>): void } {
  return {
    inc(name, labels = {}) {
      const endpoint = ENDPOINT_OF_SOURCE[labels.source ?? ''] ?? 'webhook';
      switch (name) {
        case 'received':
          return metrics.received.inc({ endpoint });
        case 'signature_rejected':
          return metrics.signatureRejected.inc({ endpoint });
        case 'deduplicated':
          return metrics.deduplicated.inc({ endpoint });
        case 'queued':
          return metrics.enqueued.inc({ endpoint });
        case 'accept_failed':
          return metrics.commitFailures.inc();
        case 'pre_event':
          return metrics.preEventDecisions.inc({ decision: labels.decision ?? 'unknown', policy: labels.policy ?? 'none' });
      }
    },
  };
}
