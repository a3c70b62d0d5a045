/**
 * The worker thread's entry: it opens its own connections to the router's stores, assembles the same worker the router
 * would run in its own thread, and applies the queue, so folding events and calling Twilio never delay an answer to
 * a webhook. Its log lines and metrics go to the router's thread, which writes and exports them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRouterLogger } from '../logger.js';
import { openStores } from '../store/open-stores.js';
import { assembleWorker, type WorkerMetricsSink } from './assemble.js';
import type { FromWorkerThread, MetricsBatch, ToWorkerThread, WorkerThreadData } from './thread-protocol.js';

/** how often the metrics gathered in the thread reach the router's registry */
const METRICS_EVERY_MS = 100;

const port = parentPort;
if (!port) throw new Error('worker-thread.js runs only as a worker thread of the router');
const { config, workerId, logLevel, commitSignal } = workerData as WorkerThreadData;
const post = (message: FromWorkerThread) => port.postMessage(message);

let batch: MetricsBatch = { processed: [], failed: [], retries: [] };
function flushMetrics(): void {
  if (batch.processed.length + batch.failed.length + batch.retries.length === 0) return;
  post({ kind: 'metrics', batch });
  batch = { processed: [], failed: [], retries: [] };
}
const metrics: WorkerMetricsSink = {
  processed: (eventType, seconds) => batch.processed.push([eventType, seconds]),
  failed: (eventType) => batch.failed.push(eventType),
  twilioRetry: (reason) => batch.retries.push(reason),
};

try {
  const log = createRouterLogger({ level: logLevel, destination: { write: (line: string) => post({ kind: 'log', line }) } });
  // the router's thread runs the background checkpoints of a SQLite file; this connection leaves them to it
  const stores = await openStores({ ...config, backgroundCheckpoints: false, commitSignal });
  const worker = assembleWorker({ config, events: stores.events, kv: stores.kv, log, metrics, workerId });
  const timer = setInterval(flushMetrics, METRICS_EVERY_MS);
  port.on('message', (message: ToWorkerThread) => {
    if (message.kind === 'notify') worker.notify();
    else if (message.kind === 'stop') {
      void (async () => {
        await worker.stop(message.graceMs);
        clearInterval(timer);
        flushMetrics();
        await stores.close().catch((error: unknown) => log.warn({ err: error }, 'the worker thread could not close its stores'));
        post({ kind: 'stopped' });
        port.close();
      })();
    }
  });
  worker.start();
  post({ kind: 'ready' });
} catch (error) {
  post({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  port.close();
}
