/**
 * The HTTP client the twilio SDK sends every router request through (`twilio(…, { httpClient })`):
 * - rewrites the origin to `twilioUrl` when one is given (the emulator in tests), as src/client.ts does;
 * - 429 / 20429: backs off with full jitter, or at least `Retry-After` seconds when Twilio says, and retries, for
 *   every method (a 429 means nothing was done); the wait is remembered for every request of this process and,
 *   with a `backoffStore`, for every replica (`twilio:backoff-until`);
 * - 5xx and network errors are retried only for idempotent methods (GET, DELETE): a POST creates, and a retried
 *   create could create twice (callers make creates idempotent with a UniqueName or a lookup first); the exception
 *   is a connection that never opened (ECONNREFUSED, DNS), which nothing can have received;
 * - a retry queues again for a slot, behind the requests already waiting;
 * - at most `maxConcurrency` requests in flight toward Twilio; the others wait first in, first out;
 * - one absolute deadline per SDK call, `timeoutMs` from the call: it covers the wait for a slot, the backoff
 *   sleeps and every attempt (an attempt still running at the deadline is aborted). A call therefore never takes
 *   longer than `timeoutMs` (plus a timer tick), whatever Twilio does.
 * Logs (pino) carry method, path with phone numbers masked, status, code, attempt and delay: never a body, a
 * header or a credential.
 */
import { randomUUID } from 'node:crypto';
import RequestClient from 'twilio/lib/base/RequestClient.js';
import type { Logger } from 'pino';
import type { KeyValueStore } from '../store/types.js';
import { DeadlineSemaphore } from './semaphore.js';
import { TwilioCallError, toCallError } from './errors.js';

/** the KeyValueStore key of the shared backoff: epoch ms before which no replica calls Twilio */
export const BACKOFF_KEY = 'twilio:backoff-until';

/** a private header carrying an attempt's id to the axios interceptor (which swaps it for an AbortSignal) */
const ATTEMPT_HEADER = 'x-tce-attempt';

export interface RetryInfo {
  method: string;
  /** the URL path, phone numbers masked */
  path: string;
  /** the attempt that failed, from 1 */
  attempt: number;
  reason: 'rate-limited' | 'server-error' | 'network-error';
  /** 0 for a network error */
  status: number;
  code: number | null;
  /** how long the client sleeps before the next attempt */
  delayMs: number;
  /** the `Retry-After` Twilio sent, in ms, when it sent one */
  retryAfterMs: number | null;
}

export interface TwilioHttpCounters {
  /** SDK calls */
  requests: number;
  /** HTTP requests sent (requests + retries) */
  attempts: number;
  retries: number;
  rateLimited: number;
  serverErrors: number;
  networkErrors: number;
  /** calls that hit their deadline */
  timeouts: number;
  /** calls answered with a failure after the retries ran out (or the deadline left no room for another) */
  givenUp: number;
  /** the most requests ever in flight at once (never above maxConcurrency) */
  maxInFlight: number;
}

export interface TwilioHttpOptions {
  /** send every request to this origin instead of Twilio's (the emulator) */
  twilioUrl?: string;
  maxConcurrency: number;
  /** absolute deadline of one SDK call, slot wait and retries included */
  timeoutMs: number;
  /** retries after the first attempt */
  maxRetries: number;
  /** full-jitter backoff: a random delay in [0, min(maxDelayMs, baseDelayMs * 2^attempt)) (default 100) */
  baseDelayMs?: number;
  /** default 5000 */
  maxDelayMs?: number;
  /** shared backoff across replicas (Redis in production) */
  backoffStore?: KeyValueStore;
  /** how long a read of the shared backoff is reused (default 500 ms) */
  backoffCacheMs?: number;
  logger?: Logger;
  onRetry?: (info: RetryInfo) => void;
  /** [0, 1) draws for the jitter (tests may pin it) */
  random?: () => number;
}

/** what RequestClient.request resolves with (twilio/lib/http/response) */
type Response<T> = { statusCode: number; body: T; headers: any };

type Outcome<T> = { response: Response<T>; error?: undefined } | { response?: undefined; error: unknown };

const IDEMPOTENT = new Set(['GET', 'DELETE', 'HEAD', 'OPTIONS']);

/** failures before any connection existed: the request never reached Twilio, so even a POST may go again */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/** Phone numbers are personal data: keep the last four digits, enough to correlate. */
export function maskPath(path: string): string {
  return path.replace(/(\+|%2B)(\d+)/gi, (_m, _plus, digits: string) => `+…${digits.slice(-4)}`);
}

function codeOf(body: unknown): number | null {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return null;
    }
  }
  const code = (parsed as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
}

/** `Retry-After` as ms: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(headers: unknown, now = Date.now()): number | null {
  const h = headers as Record<string, unknown> | undefined;
  const raw = h?.['retry-after'] ?? h?.['Retry-After'];
  if (raw === undefined || raw === null) return null;
  const text = String(raw).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class TwilioHttpClient extends RequestClient {
  readonly counters: TwilioHttpCounters = {
    requests: 0,
    attempts: 0,
    retries: 0,
    rateLimited: 0,
    serverErrors: 0,
    networkErrors: 0,
    timeouts: 0,
    givenUp: 0,
    maxInFlight: 0,
  };

  private readonly base?: URL;
  private readonly semaphore: DeadlineSemaphore;
  private readonly signals = new Map<string, AbortSignal>();
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly cacheMs: number;
  private readonly random: () => number;
  private localUntil = 0;
  private sharedUntil = 0;
  private sharedReadAt = 0;
  private sharedRead?: Promise<void>;

  constructor(private readonly options: TwilioHttpOptions) {
    super({ timeout: options.timeoutMs, keepAlive: true });
    for (const [name, value] of [['timeoutMs', options.timeoutMs], ['maxRetries', options.maxRetries]] as const) {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`twilio.${name} must be a number >= 0, got ${value}`);
    }
    this.base = options.twilioUrl ? new URL(options.twilioUrl) : undefined;
    this.semaphore = new DeadlineSemaphore(options.maxConcurrency);
    this.timeoutMs = options.timeoutMs;
    this.retries = Math.floor(options.maxRetries);
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 5000;
    this.cacheMs = options.backoffCacheMs ?? 500;
    this.random = options.random ?? Math.random;
    // RequestClient builds axios' options itself: the attempt's AbortSignal reaches axios through this interceptor
    this.axios.interceptors.request.use((config) => {
      const id = config.headers.get(ATTEMPT_HEADER);
      if (typeof id === 'string') {
        config.headers.delete(ATTEMPT_HEADER);
        config.signal = this.signals.get(id);
      }
      return config;
    });
  }

  get inFlight(): number {
    return this.semaphore.inUse;
  }

  get queued(): number {
    return this.semaphore.waiting;
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const deadline = Date.now() + this.timeoutMs;
    const method = String(opts.method).toUpperCase();
    const uri = this.rewrite(opts.uri);
    const path = maskPath(new URL(uri).pathname);
    const idempotent = IDEMPOTENT.has(method);
    this.counters.requests++;
    for (let attempt = 1; ; attempt++) {
      await this.waitForBackoff(deadline, method, path);
      const release = await this.semaphore.acquire(deadline, () => this.deadlineError(method, path, 'waiting for a free slot'));
      let outcome: Outcome<TData>;
      try {
        this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.semaphore.inUse);
        outcome = await this.attempt(opts, uri, deadline);
      } finally {
        release();
      }
      if (outcome.error instanceof TwilioCallError) throw outcome.error; // the deadline
      const status = outcome.response?.statusCode ?? 0;
      const code = outcome.response ? codeOf(outcome.response.body) : null;
      const rateLimited = status === 429 || code === 20429;
      const reason: RetryInfo['reason'] | undefined = rateLimited
        ? 'rate-limited'
        : outcome.error !== undefined
          ? 'network-error'
          : status >= 500
            ? 'server-error'
            : undefined;
      if (reason === 'rate-limited') this.counters.rateLimited++;
      if (reason === 'server-error') this.counters.serverErrors++;
      if (reason === 'network-error') this.counters.networkErrors++;
      const notSent = reason === 'network-error' && NOT_SENT.has(String((outcome.error as { code?: unknown }).code));
      const retriable = reason === 'rate-limited' || notSent || (reason !== undefined && idempotent);
      if (!retriable) return this.settle(outcome, reason !== undefined, method, path, status, code, attempt);
      const after = outcome.response ? retryAfterMs(outcome.response.headers) : null;
      const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt);
      // with Retry-After: at least that, plus a little jitter so that the waiting clients do not return as one
      const delayMs = Math.round(after !== null ? after + this.random() * this.baseDelayMs : this.random() * ceiling);
      if (rateLimited) this.noteBackoff(Date.now() + (after ?? delayMs));
      if (attempt > this.retries || Date.now() + delayMs >= deadline) {
        return this.settle(outcome, true, method, path, status, code, attempt);
      }
      const info: RetryInfo = { method, path, attempt, reason: reason!, status, code, delayMs, retryAfterMs: after };
      this.counters.retries++;
      this.options.logger?.warn({ twilio: info }, 'twilio request retried');
      this.options.onRetry?.(info);
      await sleep(delayMs);
    }
  }

  /** Hand the SDK its answer (it turns a 4xx/5xx into a RestException), or throw the network error, typed. */
  private settle<T>(outcome: Outcome<T>, failed: boolean, method: string, path: string, status: number, code: number | null, attempts: number): Response<T> {
    if (failed) {
      this.counters.givenUp++;
      this.options.logger?.warn({ twilio: { method, path, status, code, attempts } }, 'twilio request failed');
    }
    if (outcome.response) return outcome.response;
    throw toCallError(outcome.error);
  }

  private async attempt<T>(opts: RequestClient.RequestOptions<T>, uri: string, deadline: number): Promise<Outcome<T>> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { error: this.deadlineError(opts.method.toUpperCase(), maskPath(new URL(uri).pathname), 'before sending') };
    const id = randomUUID();
    const controller = new AbortController();
    this.signals.set(id, controller.signal);
    const timer = setTimeout(() => controller.abort(), remaining);
    this.counters.attempts++;
    try {
      const response = await super.request<T>({ ...opts, uri, timeout: remaining, headers: { ...opts.headers, [ATTEMPT_HEADER]: id } });
      return { response };
    } catch (error) {
      if (controller.signal.aborted) return { error: this.deadlineError(opts.method.toUpperCase(), maskPath(new URL(uri).pathname), 'waiting for the answer') };
      return { error };
    } finally {
      clearTimeout(timer);
      this.signals.delete(id);
    }
  }

  private deadlineError(method: string, path: string, when: string): TwilioCallError {
    this.counters.timeouts++;
    this.options.logger?.warn({ twilio: { method, path, timeoutMs: this.timeoutMs } }, `twilio request deadline passed ${when}`);
    return new TwilioCallError(0, null, `Twilio request ${method} ${path}: no answer within ${this.timeoutMs} ms (deadline passed ${when})`, 'timeout');
  }

  private rewrite(uri: string): string {
    if (!this.base) return uri;
    const target = new URL(uri);
    target.protocol = this.base.protocol;
    target.host = this.base.host;
    return target.toString();
  }

  // ---- backoff shared by every request of this process, and through the store by every replica ----------------

  private noteBackoff(until: number): void {
    if (until <= this.localUntil) return;
    this.localUntil = until;
    const store = this.options.backoffStore;
    if (!store || until <= this.sharedUntil) return;
    this.sharedUntil = until;
    const ttlSeconds = Math.max(1, Math.ceil((until - Date.now()) / 1000) + 1);
    store.set(BACKOFF_KEY, String(until), ttlSeconds).catch((error: unknown) => {
      this.options.logger?.warn({ err: { message: (error as Error).message } }, 'could not share the Twilio backoff');
    });
  }

  private async backoffUntil(): Promise<number> {
    const store = this.options.backoffStore;
    if (store && Date.now() - this.sharedReadAt > this.cacheMs) {
      this.sharedRead ??= store
        .get(BACKOFF_KEY)
        .then(
          (value) => {
            const until = Number(value);
            if (Number.isFinite(until) && until > this.sharedUntil) this.sharedUntil = until;
          },
          (error: unknown) => this.options.logger?.warn({ err: { message: (error as Error).message } }, 'could not read the shared Twilio backoff'),
        )
        .finally(() => {
          this.sharedReadAt = Date.now();
          this.sharedRead = undefined;
        });
      // a slow store must not hold requests: after 200 ms go on with what is known
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.sharedRead, new Promise<void>((resolve) => (timer = setTimeout(resolve, 200)))]);
      clearTimeout(timer);
    }
    return Math.max(this.localUntil, this.sharedUntil);
  }

  private async waitForBackoff(deadline: number, method: string, path: string): Promise<void> {
    const until = await this.backoffUntil();
    const wait = until - Date.now();
    if (wait <= 0) return;
    if (until >= deadline) {
      this.counters.givenUp++;
      this.options.logger?.warn({ twilio: { method, path, backoffMs: wait } }, 'twilio backoff outlasts the deadline');
      throw new TwilioCallError(429, 20429, `Twilio asked to back off for ${wait} ms, past this request's deadline`, 'http');
    }
    await sleep(wait);
  }
}
