/**
 * The runner's own webhook receiver: a local HTTP server that records every request and checks its
 * X-Twilio-Signature with the SDK's `validateRequest` (over the URL it was sent to and the form params).
 */
import { createServer, type Server } from 'node:http';
import twilio from 'twilio';
import type { ReceivedWebhook, WebhookReceiver } from './target.js';

export interface RunningReceiver extends WebhookReceiver {
  close(): Promise<void>;
}

/** `onWebhook`: each request as received (a Recorder's recordWebhook) */
export type OnWebhook = (seen: { method?: string; url: string; headers: Record<string, string | string[] | undefined>; body: string }) => void;

export async function startReceiver(authToken: string, host = '127.0.0.1', onWebhook?: OnWebhook): Promise<RunningReceiver> {
  const received: ReceivedWebhook[] = [];
  let base = '';
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const params: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(text)) params[k] = v;
      const signature = String(request.headers['x-twilio-signature'] ?? '');
      const url = base + (request.url ?? '/');
      onWebhook?.({ method: request.method, url: request.url ?? '/', headers: request.headers, body: text });
      received.push({ path: (request.url ?? '/').split('?')[0], params, valid: signature !== '' && twilio.validateRequest(authToken, signature, url, params), at: Date.now() });
      response.writeHead(200, { 'content-type': 'text/xml' }).end('<Response/>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  base = `http://${host}:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    url: base,
    received,
    clear: () => void received.splice(0),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
