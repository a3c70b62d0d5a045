/**
 * The webhook thread (transport.ts `WorkerTransport`): sends what the main thread hands over with the inline
 * transport, and answers with the results of each event-loop turn in one message.
 */
import { parentPort } from 'node:worker_threads';
import { decodeJobs, encodeResults, InlineTransport, toWireError, type FromWorker, type JobResult, type ToWorker } from './transport.js';

const port = parentPort;
if (!port) throw new Error('transport-worker.js runs as a worker thread');

const transport = new InlineTransport();
let results: JobResult[] = [];
let flushQueued = false;
let inFlight = 0;
let closing = false;

function report(result: JobResult): void {
  results.push(result);
  inFlight--;
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
}

function flush(): void {
  flushQueued = false;
  if (results.length) {
    port!.postMessage({ type: 'results', results: encodeResults(results) } satisfies FromWorker);
    results = [];
  }
  if (closing && inFlight === 0) void finish();
}

async function finish(): Promise<void> {
  await transport.close();
  port!.postMessage({ type: 'closed' } satisfies FromWorker);
  port!.close();
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'close') {
    closing = true;
    if (inFlight === 0) void finish();
    return;
  }
  for (const job of decodeJobs(message.jobs)) {
    inFlight++;
    transport.send(job.request).then(
      (exchange) => report({ id: job.id, exchange }),
      (error: unknown) => report({ id: job.id, error: toWireError(error) }),
    );
  }
});
