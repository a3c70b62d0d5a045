/**
 * How webhook requests leave the emulator: one signed HTTP exchange per call, given the webhook's URL, method,
 * parameters, idempotency token, auth token and Twilio's timeouts.
 *
 * - `InlineTransport`: undici pools on the calling thread (send.ts does the exchange).
 * - `WorkerTransport`: the same InlineTransport on a thread of its own. The main thread owns SQLite and the REST
 *   surface; under load it is the emulator's bottleneck, and a delivery (form encoding, HMAC signature, request
 *   framing, socket writes, response parsing) costs about as much main-thread time as the change that caused it. Requests and
 *   results cross in batches, one message per event-loop turn each way.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Pool } from 'undici';
import { send, type Exchange } from './send.js';
import { signedRequest, type WebhookRequest } from './signing.js';
import { undici } from './undici.js';

export type { Exchange } from './send.js';

/** A webhook with its timeouts; the transport frames and signs it (signing.ts), off the main thread when it can. */
export interface OutboundRequest extends WebhookRequest {
  connectTimeoutMs: number;
  /** from the request going out to the end of the answer (send.ts) */
  readTimeoutMs: number;
  /** the whole exchange, connect included (send.ts) */
  totalTimeoutMs?: number;
  /** keep up to this many bytes of the answer's body (pre-event webhooks read it); default 0 */
  maxBody?: number;
}

export interface DeliveryTransport {
  readonly kind: 'inline' | 'worker';
  send(request: OutboundRequest): Promise<Exchange>;
  /**
   * Stop: requests in flight get up to `graceMs` to finish, then they are dropped (they reject, like a lost
   * connection). Shutdown must not wait on a consumer.
   */
  close(graceMs?: number): Promise<void>;
}

/** how long close() lets requests in flight finish by default */
export const CLOSE_GRACE_MS = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** connection pools kept (one per connect timeout and origin); the oldest is closed beyond this */
const MAX_POOLS = 256;

export class InlineTransport implements DeliveryTransport {
  readonly kind = 'inline';
  private readonly pools = new Map<string, Pool>();

  send(request: OutboundRequest): Promise<Exchange> {
    const framed = signedRequest(request);
    return send(this.poolFor(request.connectTimeoutMs, framed.url), framed.url, {
      method: request.method,
      headers: framed.headers,
      body: framed.body,
      readTimeoutMs: request.readTimeoutMs,
      totalTimeoutMs: request.totalTimeoutMs,
      maxBody: request.maxBody,
    });
  }

  async close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    const closed = Promise.allSettled(pools.map((p) => p.close()));
    if (graceMs > 0) await Promise.race([closed, sleep(graceMs)]);
    // what is still in flight after the grace is dropped: its callers see UND_ERR_DESTROYED
    await Promise.allSettled(pools.filter((p) => !p.destroyed).map((p) => p.destroy()));
  }

  /**
   * The connection pool for a URL's origin: one undici Pool per (connect timeout, origin), not an Agent. undici 7's
   * Agent closes an origin's pool when its count of connected sockets falls to 0 (keep-alive expiry after an idle
   * spell); the closed pool's later 'disconnect' events then decrement the replacement pool's count, which closes
   * in turn, and so on: under load deliveries reconnected every ~7 requests (bench/webhooks.js, drain after a
   * pause: ~1,800 connections for 20,000 deliveries; with a Pool per origin, 64).
   */
  private poolFor(connectTimeoutMs: number, url: string): Pool {
    const origin = new URL(url).origin;
    const key = `${connectTimeoutMs} ${origin}`;
    let pool = this.pools.get(key);
    if (!pool) {
      if (this.pools.size >= MAX_POOLS) {
        const [oldestKey, oldest] = this.pools.entries().next().value as [string, Pool];
        this.pools.delete(oldestKey);
        // its requests in flight finish first; new ones get a new pool
        void oldest.close().catch(() => undefined);
      }
      pool = new (undici().Pool)(origin, { connect: { timeout: connectTimeoutMs }, connections: 64, pipelining: 1, keepAliveTimeout: 4000 });
      this.pools.set(key, pool);
    }
    return pool;
  }
}

// ---- the worker protocol ---------------------------------------------------------------------------------

export interface SendJob {
  id: number;
  request: OutboundRequest;
}

/** An error as it crosses the thread boundary: callers classify by `code` (undici's) and show `message`. */
export interface WireError {
  name: string;
  code?: string;
  message: string;
}

export interface JobResult {
  id: number;
  exchange?: Exchange;
  error?: WireError;
}

/**
 * Batches cross as JSON text: structured clone walks each request's parameter object on both sides and cost the
 * main thread ~6 % of a delivery's time; a string is one copy, and JSON.stringify is V8's fastest walk.
 */
export type ToWorker = { type: 'send'; jobs: string } | { type: 'close' };
export type FromWorker = { type: 'results'; results: string } | { type: 'closed' };

export const encodeJobs = (jobs: SendJob[]): string => JSON.stringify(jobs);
export const decodeJobs = (text: string): SendJob[] => JSON.parse(text) as SendJob[];
export const encodeResults = (results: JobResult[]): string => JSON.stringify(results);
const decodeResults = (text: string): JobResult[] => JSON.parse(text) as JobResult[];

export function toWireError(error: unknown): WireError {
  const e = error as { name?: string; code?: string; message?: string };
  return { name: e.name ?? 'Error', code: e.code, message: e.message ?? String(error) };
}

function fromWireError(wire: WireError): Error {
  return Object.assign(new Error(wire.message), { name: wire.name, code: wire.code });
}

/**
 * The compiled worker script. Run from TypeScript sources (vitest), this module's sibling does not exist: the
 * build's copy is used (the test suite's global setup builds dist/ from src/ before any test runs); without a build there is no worker and callers go inline.
 */
let foundScript: URL | null | undefined;
function workerScript(): URL | undefined {
  // looked up once per process: every emulator created asks
  if (foundScript === undefined) foundScript = findWorkerScript() ?? null;
  return foundScript ?? undefined;
}

function findWorkerScript(): URL | undefined {
  const here = new URL(import.meta.url);
  const script = fileURLToPath(here).endsWith('.ts')
    ? new URL('../../../dist/emulator/webhooks/transport-worker.js', here)
    : new URL('./transport-worker.js', here);
  return existsSync(fileURLToPath(script)) ? script : undefined;
}

export class WorkerTransport implements DeliveryTransport {
  readonly kind = 'worker';
  private worker?: Worker;
  private readonly calls = new Map<number, { resolve: (x: Exchange) => void; reject: (e: Error) => void }>();
  private outbox: SendJob[] = [];
  private flushQueued = false;
  private nextId = 1;
  private closing?: Promise<void>;

  constructor(private readonly script: URL) {}

  send(request: OutboundRequest): Promise<Exchange> {
    if (this.closing) return Promise.reject(Object.assign(new Error('webhook transport closed'), { code: 'UND_ERR_DESTROYED' }));
    const id = this.nextId++;
    return new Promise<Exchange>((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      // a pending request keeps the process alive, as an inline socket would
      if (this.calls.size === 1) this.thread().ref();
      this.outbox.push({ id, request });
      if (!this.flushQueued) {
        this.flushQueued = true;
        // every request kicked in this turn (a commit's afterCommit tasks) goes in one message
        queueMicrotask(() => this.flush());
      }
    });
  }

  close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    this.closing ??= this.shutdown(graceMs);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.flush();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ type: 'close' } satisfies ToWorker);
    // its requests in flight get the grace to finish (the pools close gracefully); then the thread is ended, and
    // what it still had in flight fails like a dropped connection (thread(): lost)
    const timer = setTimeout(() => void worker.terminate(), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.outbox.length === 0) return;
    const jobs = this.outbox;
    this.outbox = [];
    this.thread().postMessage({ type: 'send', jobs: encodeJobs(jobs) } satisfies ToWorker);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script);
    worker.unref();
    worker.on('message', (message: FromWorker) => {
      if (message.type !== 'results') return;
      for (const result of decodeResults(message.results)) this.settle(result);
    });
    // A thread that dies takes its requests with it: they fail like a dropped connection (Twilio's retry path),
    // and the next request starts a new thread.
    const lost = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id] of this.calls) this.settle({ id, error: { name: 'SocketError', code: 'UND_ERR_SOCKET', message: `webhook thread ended: ${error.message}` } });
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`exit code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private settle(result: JobResult): void {
    const call = this.calls.get(result.id);
    if (!call) return;
    this.calls.delete(result.id);
    if (this.calls.size === 0) this.worker?.unref();
    if (result.error) call.reject(fromWireError(result.error));
    else call.resolve(result.exchange as Exchange);
  }
}

/** A worker-thread transport when the compiled worker script is there, else inline. */
export function createTransport(prefer: 'worker' | 'inline' = 'worker'): DeliveryTransport {
  const script = prefer === 'worker' ? workerScript() : undefined;
  return script ? new WorkerTransport(script) : new InlineTransport();
}
