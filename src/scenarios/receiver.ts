/**
 * The runner's own webhook receiver: a local HTTP server (../shared/webhook-server.ts) that records every request
 * with its X-Twilio-Signature checked by the SDK, and answers 200 `<Response/>` whatever the signature.
 */
import { startWebhookServer } from '../shared/webhook-server.js';
import type { ReceivedWebhook, WebhookReceiver } from './target.js';

export interface RunningReceiver extends WebhookReceiver {
  close(): Promise<void>;
}

/** `onWebhook`: each request as received (a Recorder's recordWebhook) */
export type OnWebhook = (seen: { method?: string; url: string; headers: Record<string, string | string[] | undefined>; body: string }) => void;

export async function startReceiver(authToken: string, host = '127.0.0.1', onWebhook?: OnWebhook): Promise<RunningReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = await startWebhookServer({
    authToken,
    host,
    answer: (r) => {
      onWebhook?.({ method: r.method, url: r.path, headers: r.headers, body: r.body });
      // a repeated field (MediaUrl) shows its last value, as before; the signature was checked over all of them
      const params = Object.fromEntries(Object.entries(r.params).map(([k, v]) => [k, Array.isArray(v) ? v[v.length - 1] : v]));
      received.push({ path: r.path.split('?')[0], params, valid: r.valid, at: r.at });
      return { status: 200, contentType: 'text/xml', body: '<Response/>' };
    },
  });
  return {
    url: server.url,
    received,
    clear: () => void received.splice(0),
    close: server.close,
  };
}
