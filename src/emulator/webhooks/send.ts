/**
 * One webhook HTTP exchange with absolute deadlines, as Twilio's timeouts are totals, not idle timers: a consumer
 * that sends its headers and then one byte a second must not hold a delivery (or a pre-event's REST call) open.
 *
 * - `readTimeoutMs` runs from the moment the request goes out on a connected socket (undici's onConnect: the
 *   connect timeout is separate) to the end of the answer; it is never re-armed by signs of life.
 * - `totalTimeoutMs` runs from the call to the end of the answer: connecting, and waiting for a pooled
 *   connection, included. Fired before the request went out, it fails like a connect timeout; after, like a read
 *   timeout. A request still queued in the pool is aborted as soon as it gets its connection.
 * Both are native timers: undici's own `headersTimeout` / `bodyTimeout` run on its coarse "fast timers" (a ~500 ms
 * tick) and are idle timers; they stay on as a backstop.
 */
import type { Dispatcher } from 'undici';
import { undici } from './undici.js';

export interface Exchange {
  status: number;
  /** the answer's body, up to `maxBody` bytes (empty when `maxBody` is 0) */
  text: string;
}

export interface SendOptions {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  readTimeoutMs: number;
  /** the whole exchange's deadline, connect included; default: none beyond the connect and read timeouts */
  totalTimeoutMs?: number;
  maxBody?: number;
}

/** setTimeout's limit: a longer delay fires at once (with a TimeoutOverflowWarning) */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The request target exactly as the URL was configured (the URL parser would percent-encode a `'` in the query,
 * and the consumer, checking the signature over the URL it received, would refuse it: twilio-node#1059, #1183).
 * Only printable ASCII goes out raw; anything else takes the parser's encoding.
 */
export function requestTarget(url: string, parsed: URL): string {
  const noFragment = url.replace(/#[\s\S]*$/, '');
  const authorityStart = noFragment.indexOf('//') + 2;
  const end = noFragment.slice(authorityStart).search(/[/?]/);
  const raw = end < 0 ? '/' : noFragment.slice(authorityStart + end);
  const target = raw.startsWith('?') ? `/${raw}` : raw;
  return /^[\x21-\x7e]*$/.test(target) ? target : `${parsed.pathname}${parsed.search}`;
}

export function send(dispatcher: Dispatcher, url: string, options: SendOptions): Promise<Exchange> {
  const target = new URL(url);
  const maxBody = options.maxBody ?? 0;
  return new Promise<Exchange>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    let abort: ((reason?: Error) => void) | undefined;
    let status = 0;
    let size = 0;
    let done = false;
    let connected = false;
    const chunks: Buffer[] = [];
    const finish = (error: Error | null) => {
      if (done) return;
      done = true;
      for (const timer of timers) clearTimeout(timer);
      if (error) reject(error);
      else resolve({ status, text: Buffer.concat(chunks).toString('utf8') });
    };
    const timeout = (what: string, ms: number): Error => {
      const errors = undici().errors;
      if (!connected) return new errors.ConnectTimeoutError(`no connection within ${what} ${ms} ms`);
      return status === 0
        ? new errors.HeadersTimeoutError(`no response headers within ${what} ${ms} ms`)
        : new errors.BodyTimeoutError(`response not complete within ${what} ${ms} ms`);
    };
    /** end the exchange now: the caller gets `error`; undici drops the request (at once, or when it connects) */
    const expire = (error: Error) => {
      finish(error);
      abort?.(error);
    };
    if (options.totalTimeoutMs !== undefined) {
      const ms = options.totalTimeoutMs;
      timers.push(setTimeout(() => expire(timeout('the total', ms)), Math.min(ms, MAX_TIMER_MS)));
    }
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        abort = abortRequest as (reason?: Error) => void;
        // the total deadline passed while the request waited for a connection: it never goes out
        if (done) return abort(new (undici().errors.RequestAbortedError)('webhook deadline passed before the request went out'));
        connected = true;
        const ms = options.readTimeoutMs;
        timers.push(setTimeout(() => expire(timeout('the read timeout', ms)), Math.min(ms, MAX_TIMER_MS)));
      },
      onHeaders(statusCode) {
        status = statusCode;
        return true;
      },
      onData(chunk) {
        if (size < maxBody) {
          chunks.push(chunk.subarray(0, maxBody - size));
          size += Math.min(chunk.length, maxBody - size);
        }
        return true;
      },
      onComplete() {
        finish(null);
      },
      onError(error) {
        finish(error);
      },
    };
    try {
      dispatcher.dispatch(
        {
          origin: target.origin,
          path: requestTarget(url, target),
          method: options.method,
          headers: options.headers,
          body: options.body,
          headersTimeout: options.readTimeoutMs + 1000,
          bodyTimeout: options.readTimeoutMs + 1000,
        },
        handler,
      );
    } catch (error) {
      finish(error as Error);
    }
  });
}
