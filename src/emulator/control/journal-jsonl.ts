/**
 * The webhook journal as JSON Lines (`GET /_emulator/webhooks/deliveries?format=jsonl`): one captured webhook a
 * line, `{ "receivedAt", "params", "headers" }`, the input format of `tce replay` (src/replay/jsonl-reader.ts).
 * `receivedAt` is the delivery's first attempt (when the consumer first got it; absent when never attempted);
 * headers leave out X-Twilio-Signature and Content-Type, which the replay recomputes for its own URL.
 * Studio deliveries are not HTTP requests to a consumer and are left out.
 */
import type { DeliveryView } from '../webhooks/service.js';

const RECOMPUTED = new Set(['x-twilio-signature', 'content-type']);

export function journalLine(d: DeliveryView): Record<string, unknown> {
  const headers = Object.fromEntries(Object.entries(d.headers).filter(([name]) => !RECOMPUTED.has(name.toLowerCase())));
  const receivedAt = d.attempts[0]?.at;
  return { ...(receivedAt ? { receivedAt } : {}), params: d.params, headers };
}

export function journalJsonLines(deliveries: DeliveryView[]): string {
  return deliveries
    .filter((d) => d.kind !== 'studio')
    .map((d) => `${JSON.stringify(journalLine(d))}\n`)
    .join('');
}
