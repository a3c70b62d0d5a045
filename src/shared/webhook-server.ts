/**
 * A local HTTP server that receives Twilio webhooks and checks each X-Twilio-Signature with the official SDK:
 * `validateRequest` over the URL it was sent to and the form fields (GET: the full URL, no fields), or
 * `validateRequestWithBody` for a JSON body (its `bodySHA256` query parameter). The caller decides the answer.
 * Used by the scenario runner's receiver and by `webhookSink` (twilio-conversations-emulator/testing).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import twilio from 'twilio';

/** a body past this is answered 413 unread: a receiver for tests stays bounded */
const MAX_BODY_BYTES = 1024 * 1024;
/** on close, how long requests in flight may take before their connections are cut */
const CLOSE_GRACE_MS = 1000;

export type FormParams = Record<string, string | string[]>;

export interface SignedWebhook {
  method: string;
  /** path and query as received */
  path: string;
  /** the URL it was sent to, which the signature covers */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** POST form fields or GET query fields, repeated keys as arrays (a JSON body: {}) */
  params: FormParams;
  /** a JSON body, parsed (undefined for any other body) */
  json: unknown;
  /** the X-Twilio-Signature header validated with the SDK */
  valid: boolean;
  at: number;
}

export interface Answer {
  status: number;
  contentType?: string;
  body?: string;
}

export interface WebhookServer {
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

export function parseForm(text: string): FormParams {
  const out: FormParams = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

function isJson(contentType: string | undefined): boolean {
  return /^application\/(.+\+)?json\b/i.test(contentType ?? '');
}

/** Parse and verify one request as received. */
export function verify(authToken: string, received: { method: string; url: string; headers: IncomingHttpHeaders; body: string }): Omit<SignedWebhook, 'path' | 'at'> {
  const { method, url, headers, body } = received;
  const signature = headers['x-twilio-signature'];
  const header = typeof signature === 'string' ? signature : '';
  if (isJson(headers['content-type'])) {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const valid = header !== '' && twilio.validateRequestWithBody(authToken, header, url, body);
    return { method, url, headers, body, params: {}, json, valid };
  }
  const isGet = method === 'GET' || method === 'HEAD';
  const params = isGet ? parseForm(new URL(url).search) : parseForm(body);
  const valid = header !== '' && twilio.validateRequest(authToken, header, url, isGet ? {} : params);
  return { method, url, headers, body, params, json: undefined, valid };
}

export async function startWebhookServer(options: { authToken: string; host?: string; answer: (received: SignedWebhook) => Answer }): Promise<WebhookServer> {
  const host = options.host ?? '127.0.0.1';
  let base = '';
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        response.writeHead(413, { 'content-type': 'text/plain' }).end(`body over ${MAX_BODY_BYTES} bytes`);
        return;
      }
      const path = request.url ?? '/';
      const received = verify(options.authToken, { method: request.method ?? 'GET', url: base + path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = options.answer({ ...received, path, at: Date.now() });
      response.writeHead(answer.status, answer.contentType ? { 'content-type': answer.contentType } : {}).end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url: base,
    close: () =>
      new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
      }),
  };
}
