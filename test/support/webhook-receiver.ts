/**
 * A real webhook consumer for tests: a fastify server on 127.0.0.1 (port 0) that records every request it gets
 * (form body parsed with URLSearchParams, raw headers kept) and checks every X-Twilio-Signature with the official
 * SDK's `twilio.validateRequest`. Tests script its answers (status, JSON body, delay) per request.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

export type Params = Record<string, string | string[]>;

export interface Received {
  /** arrival order, from 0 */
  n: number;
  at: number;
  method: string;
  /** path and query as received */
  path: string;
  /** the URL the receiver was called on, query included */
  fullUrl: string;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  /** POST form fields, or GET query fields */
  params: Params;
  body: string;
  signature: string | undefined;
  signatureValid: boolean;
  idempotencyToken: string | undefined;
}

export interface Answer {
  status?: number;
  /** an object is sent as JSON */
  body?: string | Record<string, unknown>;
  /** wait this long before answering (the consumer is slow) */
  delayMs?: number;
}

export interface Receiver {
  port: number;
  /** http://127.0.0.1:<port><path> */
  url(path?: string): string;
  requests: Received[];
  /** how each request is answered; default 200 with an empty body */
  respond: (r: Received) => Answer | Promise<Answer>;
  /** forget the recorded requests and restore the default answer */
  clear(): void;
  /** requests whose signature did not validate (should always be empty) */
  invalid(): Received[];
  close(): Promise<void>;
}

export function parseForm(text: string): Params {
  const out: Params = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else out[key] = Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

export async function startReceiver(authToken: () => string, options: { port?: number } = {}): Promise<Receiver> {
  const app: FastifyInstance = Fastify({ forceCloseConnections: true });
  const defaultAnswer = (): Answer => ({ status: 200 });
  const receiver: Receiver = {
    port: 0,
    url: (path = '/hook') => `http://127.0.0.1:${receiver.port}${path}`,
    requests: [],
    respond: defaultAnswer,
    clear() {
      receiver.requests.length = 0;
      receiver.respond = defaultAnswer;
    },
    invalid: () => receiver.requests.filter((r) => !r.signatureValid),
    close: () => app.close(),
  };
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.all('/*', async (request, reply) => {
    const fullUrl = `http://127.0.0.1:${receiver.port}${request.url}`;
    const q = request.url.indexOf('?');
    const body = typeof request.body === 'string' ? request.body : '';
    const isGet = request.method === 'GET';
    const params = isGet ? parseForm(q < 0 ? '' : request.url.slice(q + 1)) : parseForm(body);
    const signature = request.headers['x-twilio-signature'] as string | undefined;
    // POST: the URL signed is the configured one (no query here) plus the form fields; GET: the full URL, no fields
    const signatureValid = signature !== undefined && twilio.validateRequest(authToken(), signature, fullUrl, isGet ? {} : params);
    const r: Received = {
      n: receiver.requests.length,
      at: Date.now(),
      method: request.method,
      path: request.url,
      fullUrl,
      headers: { ...request.headers },
      rawHeaders: [...request.raw.rawHeaders],
      params,
      body,
      signature,
      signatureValid,
      idempotencyToken: request.headers['i-twilio-idempotency-token'] as string | undefined,
    };
    receiver.requests.push(r);
    const answer = await receiver.respond(r);
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    reply.code(answer.status ?? 200);
    if (answer.body === undefined) return reply.send('');
    if (typeof answer.body === 'string') return reply.type('text/plain').send(answer.body);
    return reply.type('application/json').send(JSON.stringify(answer.body));
  });
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const address = app.server.address();
  receiver.port = typeof address === 'object' && address ? address.port : 0;
  return receiver;
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const app = Fastify();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await app.close();
  return port;
}

/**
 * One receiver per test file: started before the first test, checked after each (every request must carry a
 * valid X-Twilio-Signature) and cleared, closed at the end. Read its fields inside tests.
 */
export function useReceiver(authToken: () => string, what = 'requests'): Receiver {
  let rx: Receiver | undefined;
  beforeAll(async () => {
    rx = await startReceiver(authToken);
  });
  afterEach(() => {
    if (!rx) return;
    const invalid = rx.invalid();
    rx.clear();
    expect(invalid, `${what} with an invalid X-Twilio-Signature`).toEqual([]);
  });
  afterAll(async () => {
    await rx?.close();
  });
  return new Proxy({} as Receiver, {
    get(_target, key) {
      if (!rx) throw new Error('the receiver starts in beforeAll: use it inside tests');
      const value = (rx as unknown as Record<string | symbol, unknown>)[key];
      return typeof value === 'function' && key !== 'respond' ? (value as (...args: unknown[]) => unknown).bind(rx) : value;
    },
    set(_target, key, value) {
      if (!rx) throw new Error('the receiver starts in beforeAll: use it inside tests');
      (rx as unknown as Record<string | symbol, unknown>)[key] = value;
      return true;
    },
  });
}
