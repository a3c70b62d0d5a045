/**
 * One webhook HTTP exchange with a precise read timeout.
 *
 * undici's own `headersTimeout` / `bodyTimeout` run on its coarse "fast timers" (a ~500 ms tick), so a `#rt=200`
 * fired anywhere up to a second late and a consumer answering in 500 ms beat it; the 5 s pre-event cap could also
 * slip by up to a second. Here a native timer is armed when the request goes out on a connected socket (undici's
 * onConnect: the connect timeout is separate) and re-armed on each sign of life (headers, body data); when it
 * fires the request is aborted with undici's own timeout error, so callers classify it as a read timeout.
 * undici's timeouts stay on as a backstop.
 */
import type { Dispatcher } from 'undici';
import { undici } from './undici.js';

export interface Exchange {
  status: number;
  /** the answer's body, up to `maxBody` bytes (empty when `maxBody` is 0) */
  text: string;
}

export function send(
  dispatcher: Dispatcher,
  url: string,
  options: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; readTimeoutMs: number; maxBody?: number },
): Promise<Exchange> {
  const target = new URL(url);
  const maxBody = options.maxBody ?? 0;
  return new Promise<Exchange>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let abort: ((reason?: Error) => void) | undefined;
    let status = 0;
    let size = 0;
    let done = false;
    const chunks: Buffer[] = [];
    const arm = (phase: 'headers' | 'body') => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        const error = phase === 'headers'
          ? new (undici().errors.HeadersTimeoutError)(`no response headers within ${options.readTimeoutMs} ms`)
          : new (undici().errors.BodyTimeoutError)(`response body stalled for ${options.readTimeoutMs} ms`);
        abort?.(error);
      }, options.readTimeoutMs);
    };
    const finish = (error: Error | null) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      if (error) reject(error);
      else resolve({ status, text: Buffer.concat(chunks).toString('utf8') });
    };
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        abort = abortRequest as (reason?: Error) => void;
        arm('headers');
      },
      onHeaders(statusCode) {
        status = statusCode;
        arm('body');
        return true;
      },
      onData(chunk) {
        if (size < maxBody) {
          chunks.push(chunk.subarray(0, maxBody - size));
          size += Math.min(chunk.length, maxBody - size);
        }
        arm('body');
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
          path: `${target.pathname}${target.search}`,
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
