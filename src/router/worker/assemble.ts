/**
 * Everything a worker needs, built from the configuration and the stores: the Twilio client (its retries reported to
 * the metrics sink), the gateway, the suppression list, the audit recorder and the event handler. The same assembly
 * runs in the router's own thread (an in-memory database) and in the worker thread (worker-thread.ts).
 */
import type { Logger } from 'pino';
import type { RouterConfig } from '../config-types.js';
import type { EventStore, KeyValueStore } from '../store/types.js';
import { createTwilioClient } from '../twilio/client.js';
import { createTwilioGateway } from '../twilio/gateway.js';
import { SuppressionList } from '../compliance/suppression-list.js';
import { auditRecorder } from './audit.js';
import { createEventHandler } from './handlers.js';
import { Worker } from './worker.js';

/** What a worker reports, wherever it runs; the router's Prometheus metrics are behind it. */
export interface WorkerMetricsSink {
  processed(eventType: string, seconds: number): void;
  failed(eventType: string): void;
  twilioRetry(reason: TwilioRetryReason): void;
}

export type TwilioRetryReason = '429' | '5xx' | 'network';

/** the metric label of each kind of retry the Twilio client makes */
export const RETRY_REASON = { 'rate-limited': '429', 'server-error': '5xx', 'network-error': 'network' } as const;

export interface WorkerAssembly {
  config: RouterConfig;
  events: EventStore;
  kv: KeyValueStore;
  log: Logger;
  metrics: WorkerMetricsSink;
  workerId: string;
}

export function assembleWorker({ config, events, kv, log, metrics, workerId }: WorkerAssembly): Worker {
  const { client } = createTwilioClient(config, {
    logger: log,
    // every replica backs off together after a 429 when they share Redis (or the database)
    backoffStore: kv,
    onRetry: (info) => metrics.twilioRetry(RETRY_REASON[info.reason]),
  });
  const gateway = createTwilioGateway(client, config);
  const handle = createEventHandler({ config, events, kv, gateway, suppressions: new SuppressionList(kv), audit: auditRecorder(events, config.dedupeTtlSeconds) });
  return new Worker({
    workerId,
    events,
    handle,
    concurrency: config.worker.concurrency,
    leaseMs: config.worker.leaseMs,
    maxAttempts: config.worker.maxAttempts,
    maxProcessingMs: config.maxProcessingMs,
    log,
    onProcessed: (event, seconds) => metrics.processed(event.eventType, seconds),
    onFailed: (event) => metrics.failed(event.eventType),
  });
}
