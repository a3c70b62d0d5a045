/**
 * `tce load`'s engine: an open-model load loop. Every `tickMs` the wall clock says how many requests are due
 * (rate × elapsed) and that many go out at once, whatever the consumer is doing: nothing waits for an answer.
 * Requests still unanswered are counted in flight; past `maxInFlight` a due request is dropped (and reported)
 * instead of sent. Latency runs from the tick that sends a request to its full answer, so time spent queued
 * behind busy connections counts (no coordinated omission, within a tick).
 *
 * A request with no full answer `timeoutMs` after it was sent is a timeout: aborted if it is on a socket, aborted as
 * soon as it gets one if it is still queued. Other failures (refused, reset) are connection errors.
 */
import { performance } from 'node:perf_hooks';
import { Pool, request as httpRequest, errors, type Dispatcher } from 'undici';
import { createRandom } from '../emulator/random.js';
import { EventGenerator, type LoadRequest } from './generator.js';
import { Histogram } from './histogram.js';

export interface LoadOptions {
  /** the webhook consumer's URL; it is also the URL signed */
  url: string;
  authToken: string;
  /** default: generated (from the seed when one is given) */
  accountSid?: string;
  /** requests per second, duplicates included */
  rate: number;
  durationMs: number;
  /** default 100 */
  conversations?: number;
  /** probability (0..1) that a request is sent again later, same idempotency token; default 0 */
  duplicates?: number;
  /** probability (0..1) that an onMessageAdded is held until after the conversation's next one; default 0 */
  reorder?: number;
  /** keep-alive connections to the consumer; default 128 */
  connections?: number;
  /** default 5000 */
  timeoutMs?: number;
  /** requests in flight beyond which due requests are dropped; default 20000 */
  maxInFlight?: number;
  seed?: string;
  /** after the run: GET it, expecting `{ "applied": n }` */
  checkUrl?: string;
  /** how long to keep asking the check URL while applied < unique events sent (asynchronous consumers); default 3000 */
  checkWaitMs?: number;
  maxP99Ms?: number;
  maxErrorRate?: number;
  /** scheduling tick; default 5 */
  tickMs?: number;
  /** called about every `progressEveryMs` (default 1000) during the run */
  onProgress?: (progress: LoadProgress) => void;
  progressEveryMs?: number;
  signal?: AbortSignal;
}

export interface LoadProgress {
  elapsedMs: number;
  sent: number;
  /** requests per second over the last interval */
  rate: number;
  status2xx: number;
  errors: number;
  inFlight: number;
  p99Ms: number;
}

export interface LatencyStats {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface CheckResult {
  url: string;
  /** what the consumer reported (absent when it did not answer as expected) */
  applied?: number;
  /** unique events sent − applied, when positive */
  lost?: number;
  /** applied − unique events sent, when positive */
  appliedTwice?: number;
  error?: string;
}

export interface ThresholdResult {
  name: 'max-p99' | 'max-error-rate' | 'check';
  limit: number;
  actual: number;
  passed: boolean;
}

export interface LoadStats {
  url: string;
  /** requested rate (requests/s) */
  rate: number;
  durationMs: number;
  conversations: number;
  seed?: string;
  accountSid: string;
  /** requests sent (duplicates included) */
  sent: number;
  /** events sent at least once: sent − duplicatesSent */
  unique: number;
  duplicatesSent: number;
  /** events sent after a later event of their conversation */
  reorderedSent: number;
  /** due requests not sent because maxInFlight requests were in flight */
  dropped: number;
  status2xx: number;
  status4xx: number;
  status5xx: number;
  /** 1xx/3xx answers */
  statusOther: number;
  timeouts: number;
  connectionErrors: number;
  /** non-2xx + timeouts + connection errors */
  errors: number;
  /** (errors + dropped) / (sent + dropped) */
  errorRate: number;
  latencyMs: LatencyStats;
  /** requests sent per second over the sending phase */
  achievedRate: number;
  /** from the first request due to the last one sent */
  sendingMs: number;
  /** from the first request due to the last answer */
  totalMs: number;
  maxInFlightSeen: number;
  eventTypes: Record<string, number>;
  check?: CheckResult;
  thresholds: ThresholdResult[];
  passed: boolean;
}

interface InFlight {
  /** when it was sent (performance.now()) */
  due: number;
  abort?: (reason?: Error) => void;
  expired: boolean;
  done: boolean;
}

class LoadTimeoutError extends errors.UndiciError {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'LoadTimeoutError';
  }
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function runLoad(options: LoadOptions): Promise<LoadStats> {
  const target = new URL(options.url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`--url must be http(s), got ${options.url}`);
  if (!options.authToken) throw new Error('an auth token is required (--auth-token or TWILIO_AUTH_TOKEN)');
  if (!(options.rate > 0)) throw new Error(`--rate must be > 0, got ${options.rate}`);
  if (!(options.durationMs > 0)) throw new Error(`--duration must be > 0, got ${options.durationMs}`);
  const conversations = options.conversations ?? 100;
  if (!Number.isInteger(conversations) || conversations < 1) throw new Error(`--conversations must be a positive integer, got ${conversations}`);
  const duplicates = options.duplicates ?? 0;
  const reorder = options.reorder ?? 0;
  for (const [name, p] of [['duplicates', duplicates], ['reorder', reorder]] as const) {
    if (!(p >= 0 && p <= 1)) throw new Error(`--${name} must be a probability 0..1, got ${p}`);
  }
  const connections = options.connections ?? 128;
  if (!Number.isInteger(connections) || connections < 1) throw new Error(`--connections must be a positive integer, got ${connections}`);
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxInFlight = options.maxInFlight ?? 20_000;
  const tickMs = options.tickMs ?? 5;
  const random = createRandom(options.seed);
  const accountSid = options.accountSid ?? 'AC' + random.hex(32);
  const generator = new EventGenerator({ url: options.url, authToken: options.authToken, accountSid, conversations, duplicates, reorder, rate: options.rate, random });

  const pool = new Pool(target.origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    // backstops; the sweep below enforces timeoutMs precisely
    headersTimeout: timeoutMs + 1000,
    bodyTimeout: timeoutMs + 1000,
    connect: { timeout: Math.min(timeoutMs, 10_000) },
  });
  const path = `${target.pathname}${target.search}`;

  const latency = new Histogram();
  const eventTypes: Record<string, number> = {};
  let sent = 0;
  let duplicatesSent = 0;
  let reorderedSent = 0;
  let dropped = 0;
  let status2xx = 0;
  let status4xx = 0;
  let status5xx = 0;
  let statusOther = 0;
  let timeouts = 0;
  let connectionErrors = 0;
  let inFlight = 0;
  let maxInFlightSeen = 0;
  // In-flight records in due order: the sweep only ever looks at the head.
  const queue: InFlight[] = [];
  let queueHead = 0;
  let onIdle: (() => void) | undefined;

  const finished = (record: InFlight) => {
    record.done = true;
    inFlight--;
    if (inFlight === 0 && onIdle) onIdle();
  };

  const send = (req: LoadRequest, due: number) => {
    sent++;
    if (req.kind === 'duplicate') duplicatesSent++;
    else if (req.kind === 'reordered') reorderedSent++;
    eventTypes[req.eventType] = (eventTypes[req.eventType] ?? 0) + 1;
    inFlight++;
    if (inFlight > maxInFlightSeen) maxInFlightSeen = inFlight;
    const record: InFlight = { due, expired: false, done: false };
    queue.push(record);
    let status = 0;
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abort) {
        record.abort = abort as (reason?: Error) => void;
        if (record.expired) record.abort(new LoadTimeoutError(timeoutMs));
      },
      onHeaders(statusCode) {
        status = statusCode;
        return true;
      },
      onData() {
        return true;
      },
      onComplete() {
        if (record.done) return;
        const ms = performance.now() - due;
        if (ms > timeoutMs) timeouts++;
        else {
          latency.record(ms);
          if (status >= 200 && status < 300) status2xx++;
          else if (status >= 400 && status < 500) status4xx++;
          else if (status >= 500) status5xx++;
          else statusOther++;
        }
        finished(record);
      },
      onError(error) {
        if (record.done) return;
        const ms = performance.now() - due;
        if (record.expired || ms >= timeoutMs || error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) timeouts++;
        else connectionErrors++;
        finished(record);
      },
    };
    try {
      pool.dispatch(
        {
          path,
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': req.signature,
            'i-twilio-idempotency-token': req.token,
            'user-agent': 'TwilioProxy/1.1',
          },
          body: req.body,
        },
        handler,
      );
    } catch (error) {
      handler.onError?.(error as Error);
    }
  };

  const sweep = (now: number) => {
    while (queueHead < queue.length) {
      const record = queue[queueHead];
      if (!record.done) {
        if (now - record.due < timeoutMs) break;
        if (!record.expired) {
          record.expired = true;
          record.abort?.(new LoadTimeoutError(timeoutMs));
        }
      }
      queueHead++;
    }
    if (queueHead > 4096 && queueHead * 2 > queue.length) {
      queue.splice(0, queueHead);
      queueHead = 0;
    }
  };

  const totalSlots = Math.max(1, Math.floor((options.rate * options.durationMs) / 1000));
  const msPerSlot = 1000 / options.rate;
  const start = performance.now();
  let slot = 0;
  let sendingEnd = start;
  let lastProgressAt = start;
  let lastProgressSent = 0;
  const progressEvery = options.progressEveryMs ?? 1000;

  const progress = (now: number) => {
    const interval = now - lastProgressAt;
    options.onProgress?.({
      elapsedMs: now - start,
      sent,
      rate: interval > 0 ? ((sent - lastProgressSent) * 1000) / interval : 0,
      status2xx,
      errors: status4xx + status5xx + statusOther + timeouts + connectionErrors,
      inFlight,
      p99Ms: latency.quantile(0.99),
    });
    lastProgressAt = now;
    lastProgressSent = sent;
  };

  await new Promise<void>((resolve) => {
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      options.signal?.removeEventListener('abort', stop);
      sendingEnd = performance.now();
      resolve();
    };
    const tick = () => {
      const now = performance.now();
      const dueSlots = Math.min(totalSlots, Math.floor(((now - start) * options.rate) / 1000) + 1);
      while (slot < dueSlots) {
        if (inFlight >= maxInFlight) dropped++;
        else send(generator.next(slot), now);
        slot++;
      }
      sweep(now);
      if (options.onProgress && now - lastProgressAt >= progressEvery) progress(now);
      if (slot >= totalSlots) {
        // Held events whose conversation had no later message: they still go out (not as reorders).
        for (const req of generator.drainHeld()) send(req, now);
        stop();
      }
    };
    const timer = setInterval(tick, tickMs);
    options.signal?.addEventListener('abort', stop);
    tick();
  });

  // Drain: wait for every answer; a request can take at most timeoutMs past its due time (the sweep aborts it).
  if (inFlight > 0) {
    await new Promise<void>((resolve) => {
      const sweeper = setInterval(() => sweep(performance.now()), Math.max(tickMs, 20));
      const hardStop = setTimeout(() => {
        // Whatever is still queued (e.g. behind sockets a dead consumer never answers): fail it now.
        pool.destroy(new LoadTimeoutError(timeoutMs)).catch(() => undefined);
      }, timeoutMs + 2000);
      onIdle = () => {
        clearInterval(sweeper);
        clearTimeout(hardStop);
        resolve();
      };
      if (inFlight === 0) onIdle();
    });
  }
  const totalMs = performance.now() - start;
  if (options.onProgress) progress(performance.now());
  await pool.close().catch(() => undefined);

  const unique = sent - duplicatesSent;
  const errorsCount = status4xx + status5xx + statusOther + timeouts + connectionErrors;
  const sendingMs = Math.max(sendingEnd - start, msPerSlot);
  const stats: LoadStats = {
    url: options.url,
    rate: options.rate,
    durationMs: options.durationMs,
    conversations,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    accountSid,
    sent,
    unique,
    duplicatesSent,
    reorderedSent,
    dropped,
    status2xx,
    status4xx,
    status5xx,
    statusOther,
    timeouts,
    connectionErrors,
    errors: errorsCount,
    errorRate: sent + dropped === 0 ? 0 : (errorsCount + dropped) / (sent + dropped),
    latencyMs: {
      p50: round(latency.quantile(0.5)),
      p90: round(latency.quantile(0.9)),
      p99: round(latency.quantile(0.99)),
      max: round(latency.maxMs),
      mean: round(latency.meanMs),
    },
    achievedRate: round((sent * 1000) / sendingMs, 1),
    sendingMs: round(sendingMs, 1),
    totalMs: round(totalMs, 1),
    maxInFlightSeen,
    eventTypes,
    thresholds: [],
    passed: true,
  };

  if (options.checkUrl) stats.check = await check(options.checkUrl, unique, options.checkWaitMs ?? 3000, timeoutMs);

  if (options.maxP99Ms !== undefined) {
    stats.thresholds.push({ name: 'max-p99', limit: options.maxP99Ms, actual: stats.latencyMs.p99, passed: stats.latencyMs.p99 <= options.maxP99Ms && latency.count > 0 });
  }
  if (options.maxErrorRate !== undefined) {
    stats.thresholds.push({ name: 'max-error-rate', limit: options.maxErrorRate, actual: round(stats.errorRate, 6), passed: stats.errorRate <= options.maxErrorRate });
  }
  if (stats.check) {
    const off = stats.check.applied === undefined ? Number.NaN : (stats.check.lost ?? 0) + (stats.check.appliedTwice ?? 0);
    stats.thresholds.push({ name: 'check', limit: 0, actual: off, passed: off === 0 });
  }
  stats.passed = stats.thresholds.every((t) => t.passed);
  return stats;
}

/** GET the consumer's count of applied events; ask again for up to `waitMs` while it is short of `unique`. */
async function check(url: string, unique: number, waitMs: number, timeoutMs: number): Promise<CheckResult> {
  const deadline = performance.now() + waitMs;
  let result: CheckResult;
  for (;;) {
    result = await askApplied(url, timeoutMs);
    if (result.applied === undefined || result.applied >= unique || performance.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (result.applied !== undefined) {
    result.lost = Math.max(0, unique - result.applied);
    result.appliedTwice = Math.max(0, result.applied - unique);
  }
  return result;
}

async function askApplied(url: string, timeoutMs: number): Promise<CheckResult> {
  try {
    const answer = await httpRequest(url, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, headers: { accept: 'application/json' } });
    const text = await answer.body.text();
    if (answer.statusCode < 200 || answer.statusCode >= 300) return { url, error: `HTTP ${answer.statusCode}` };
    const body = JSON.parse(text) as { applied?: unknown };
    if (typeof body?.applied !== 'number' || !Number.isFinite(body.applied)) return { url, error: 'expected JSON { "applied": n }' };
    return { url, applied: body.applied };
  } catch (error) {
    return { url, error: error instanceof Error ? error.message : String(error) };
  }
}
