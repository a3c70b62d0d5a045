/**
 * The router's worker in a thread of its own (worker-thread.ts), so that the ingress's thread only checks signatures
 * and enqueues: folding events and calling Twilio share a core with nothing that answers webhooks. The queue is the
 * database either way, so the thread is only where the work runs: should it fail to start, or die, the worker runs in
 * the router's thread instead (from the same queue, nothing lost).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import type { WorkerMetricsSink } from './assemble.js';
import type { FromWorkerThread, ToWorkerThread, WorkerThreadData } from './thread-protocol.js';

/** what createRouter drives, in a thread or not */
export interface RunningWorker {
  notify(): void;
  stop(graceMs?: number): Promise<void>;
}

/** the least time between two notify messages to the thread (ms) */
const NOTIFY_EVERY_MS = 10;

/** the stores' close after the worker's grace: a stuck query must not hold close() forever */
const CLOSE_MARGIN_MS = 2_000;

/**
 * The compiled entry: next to this module, or, when the router runs from its TypeScript sources (vitest), in the
 * build output of the same tree (a thread cannot load TypeScript).
 */
export function workerThreadEntry(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = here.replace(/threaded-worker\.(ts|js)$/, 'worker-thread.js');
  if (here.endsWith('.js')) return sibling;
  const built = sibling.replace(/([/\\])src([/\\]router[/\\])/, '$1dist$2');
  if (!existsSync(built)) throw new Error(`the worker thread runs compiled JavaScript; build first (npm run build): ${built} is missing`);
  return built;
}

export interface ThreadedWorkerOptions {
  data: WorkerThreadData;
  log: Logger;
  metrics: WorkerMetricsSink;
  /** the worker in the router's own thread, started when the thread cannot run */
  fallback(): { start(): void } & RunningWorker;
}

export class ThreadedWorker implements RunningWorker {
  private thread: Thread | undefined;
  private inProcess: RunningWorker | undefined;
  private stopping = false;
  private notifyQueued = false;
  private lastNotifyAt = 0;
  private stopped: (() => void) | undefined;

  constructor(private readonly options: ThreadedWorkerOptions) {}

  /** resolves once the thread applies the queue, or the fallback does */
  start(): Promise<void> {
    const { log } = this.options;
    return new Promise<void>((resolve) => {
      let entry: string;
      try {
        entry = workerThreadEntry();
      } catch (error) {
        this.fallBack(error instanceof Error ? error.message : String(error));
        resolve();
        return;
      }
      const thread = new Thread(entry, { workerData: this.options.data });
      this.thread = thread;
      const stream = (log as unknown as Record<symbol, { write(line: string): void } | undefined>)[pino.symbols.streamSym];
      thread.on('message', (message: FromWorkerThread) => {
        switch (message.kind) {
          case 'ready':
            return resolve();
          case 'log':
            return stream?.write(message.line);
          case 'metrics':
            for (const [eventType, seconds] of message.batch.processed) this.options.metrics.processed(eventType, seconds);
            for (const eventType of message.batch.failed) this.options.metrics.failed(eventType);
            for (const reason of message.batch.retries) this.options.metrics.twilioRetry(reason);
            return;
          case 'stopped':
            return this.stopped?.();
          case 'failed':
            this.fallBack(message.message);
            return resolve();
        }
      });
      thread.on('error', (error) => log.error({ err: error }, 'the worker thread failed'));
      thread.on('exit', (code) => {
        this.thread = undefined;
        this.stopped?.();
        if (!this.stopping) {
          this.fallBack(`it exited with code ${code}`);
          resolve();
        }
      });
    });
  }

  /** where the worker runs now: its thread, or the router's own after a fallback */
  get runsIn(): 'thread' | 'router-thread' {
    return this.inProcess ? 'router-thread' : 'thread';
  }

  /**
   * New events: at most one message per NOTIFY_EVERY_MS, however many accepts came in between. A message wakes the
   * thread (a structured clone and a wake-up): one per event-loop turn took 2–3 % of the router thread's time at
   * 4,000 webhooks a second, and the worker waits 20 ms after a notify anyway, to claim that window's events together.
   */
  notify(): void {
    if (this.inProcess) return this.inProcess.notify();
    if (this.notifyQueued || !this.thread) return;
    this.notifyQueued = true;
    const wait = Math.max(0, this.lastNotifyAt + NOTIFY_EVERY_MS - Date.now());
    const send = () => {
      this.notifyQueued = false;
      this.lastNotifyAt = Date.now();
      this.post({ kind: 'notify' });
    };
    // the first of a quiet spell leaves after this turn's accepts; later ones no sooner than NOTIFY_EVERY_MS apart
    if (wait === 0) setImmediate(send);
    else setTimeout(send, wait).unref();
  }

  async stop(graceMs = 2_000): Promise<void> {
    this.stopping = true;
    await this.inProcess?.stop(graceMs);
    const thread = this.thread;
    if (!thread) return;
    const done = new Promise<void>((resolve) => (this.stopped = resolve));
    this.post({ kind: 'stop', graceMs });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), graceMs + CLOSE_MARGIN_MS)));
    const outcome = await Promise.race([done, expired]);
    clearTimeout(timer);
    if (outcome === 'expired') this.options.log.warn('the worker thread did not stop in time: terminated (its partitions come back when their leases run out)');
    await thread.terminate();
  }

  private post(message: ToWorkerThread): void {
    this.thread?.postMessage(message);
  }

  private fallBack(reason: string): void {
    if (this.inProcess || this.stopping) return;
    this.options.log.error({ reason }, 'the worker thread is not running; the worker runs in the router thread instead');
    try {
      const worker = this.options.fallback();
      worker.start();
      this.inProcess = worker;
    } catch (error) {
      // called from the thread's events: a throw here would take the whole router down; the queue waits, durable
      this.options.log.error({ err: error }, 'the worker could not start in the router thread either: nothing applies the queue');
    }
  }
}
