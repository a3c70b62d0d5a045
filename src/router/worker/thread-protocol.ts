/**
 * The messages between the router's thread and its worker thread (worker-thread.ts, threaded-worker.ts). Plain data:
 * they cross by structured clone.
 */
import type { RouterConfig } from '../config-types.js';
import type { TwilioRetryReason } from './assemble.js';

export interface WorkerThreadData {
  config: RouterConfig;
  workerId: string;
  /** the router's log level (its logger may differ from the configured one) */
  logLevel: string;
  /** the router's SQLite commit signal (shared memory: the thread's COMMITs wake the ingress's waiting batch) */
  commitSignal?: Int32Array;
}

/** router → thread */
export type ToWorkerThread = { kind: 'notify' } | { kind: 'stop'; graceMs: number };

/** a batch of what the worker did since the last one */
export interface MetricsBatch {
  processed: Array<[eventType: string, seconds: number]>;
  failed: string[];
  retries: TwilioRetryReason[];
}

/** thread → router */
export type FromWorkerThread =
  | { kind: 'ready' }
  | { kind: 'log'; line: string }
  | { kind: 'metrics'; batch: MetricsBatch }
  | { kind: 'stopped' }
  | { kind: 'failed'; message: string };
