/**
 * `webhookSink({ authToken })`: a local receiver for the webhooks your test makes the emulator (or Twilio) send.
 * Every signature is checked with the twilio SDK; a bad one is answered 403 and recorded as invalid. `waitFor`
 * resolves as soon as a matching, validly signed request is there (already, or when it arrives).
 */
import { startWebhookServer, type SignedWebhook } from '../shared/webhook-server.js';

/** the sink keeps this many requests, dropping the oldest */
const MAX_RECORDED = 10_000;
/** how many arrivals a timeout message lists */
const LISTED = 20;

export type SinkRequest = SignedWebhook;

export interface WebhookSink {
  /** http://127.0.0.1:<port>: any path under it is received */
  readonly url: string;
  /**
   * The first validly signed request whose `EventType` is `eventType` ('*': any request, e.g. a status callback)
   * and that the predicate accepts; rejects after `timeoutMs` listing what did arrive.
   */
  waitFor(eventType: string, predicate?: (request: SinkRequest) => boolean, timeoutMs?: number): Promise<SinkRequest>;
  /** every request received since the last clear(), oldest first, invalid ones included */
  all(): SinkRequest[];
  clear(): void;
  close(): Promise<void>;
}

export interface WebhookSinkOptions {
  /** the auth token of the account whose webhooks arrive here (emulator.authToken) */
  authToken: string;
  /** address to bind, default 127.0.0.1 */
  host?: string;
}

interface Waiter {
  matches(request: SinkRequest): boolean;
  resolve(request: SinkRequest): void;
  reject(error: unknown): void;
}

function eventTypeOf(request: SinkRequest): string | undefined {
  const fromForm = request.params.EventType;
  if (typeof fromForm === 'string') return fromForm;
  const json = request.json as Record<string, unknown> | undefined;
  return typeof json?.EventType === 'string' ? json.EventType : undefined;
}

function summary(request: SinkRequest): string {
  return `${request.method} ${request.path} ${eventTypeOf(request) ?? '(no EventType)'}${request.valid ? '' : ' (invalid signature)'}`;
}

export async function webhookSink(options: WebhookSinkOptions): Promise<WebhookSink> {
  if (!options?.authToken) throw new Error('webhookSink needs { authToken }: the auth token that signs the webhooks (emulator.authToken)');
  const recorded: SinkRequest[] = [];
  const waiters = new Set<Waiter>();
  const server = await startWebhookServer({
    authToken: options.authToken,
    host: options.host,
    answer: (request) => {
      recorded.push(request);
      if (recorded.length > MAX_RECORDED) recorded.shift();
      for (const waiter of waiters) {
        try {
          if (waiter.matches(request)) waiter.resolve(request);
        } catch (error) {
          // a predicate that throws ends its own wait, not the request
          waiter.reject(error);
        }
      }
      return request.valid ? { status: 200 } : { status: 403, contentType: 'text/plain', body: 'invalid X-Twilio-Signature' };
    },
  });
  return {
    url: server.url,
    waitFor(eventType, predicate = () => true, timeoutMs = 5000) {
      const matches = (r: SinkRequest) => r.valid && (eventType === '*' || eventTypeOf(r) === eventType) && predicate(r);
      const already = recorded.find(matches);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          matches,
          resolve: (request) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(request);
          },
          reject: (error) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            reject(error);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const arrived = recorded.slice(-LISTED).map(summary);
          reject(
            new Error(
              `no ${eventType === '*' ? 'matching' : eventType} webhook arrived at ${server.url} within ${timeoutMs} ms; ` +
                (recorded.length ? `received ${recorded.length}:\n  ${arrived.join('\n  ')}` : 'nothing arrived'),
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    all: () => [...recorded],
    clear: () => void recorded.splice(0),
    close: server.close,
  };
}
