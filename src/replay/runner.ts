/**
 * Sends a planned replay: each send waits for its absolute deadline (start + offset) and a free slot (at most
 * `concurrency` requests in flight; 1 keeps the file's order on the wire), then POSTs the signed webhook. Latency runs
 * from the send to the full answer; a request unanswered after `timeoutMs` is aborted and counted as a network error.
 */
import { Agent, request } from 'undici';
import { Histogram } from '../load/histogram.js';
import type { ReplayLine } from './jsonl-reader.js';
import type { PlannedSend } from './fault-plan.js';
import { waitUntil } from './schedule.js';
import { signWebhook } from './signer.js';

export interface RunOptions {
  url: string;
  authToken: string;
  concurrency: number;
  timeoutMs: number;
}

export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'network';

export interface RunResult {
  sent: number;
  answered: Record<StatusClass, number>;
  latency: Histogram;
  durationMs: number;
  /** the most a send left after its deadline (a slow consumer or a full set of slots holds the schedule back) */
  maxLagMs: number;
  /** network errors by message, at most MAX_ERROR_KINDS kinds */
  errors: Record<string, number>;
}

const MAX_ERROR_KINDS = 10;

function statusClass(status: number): StatusClass {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  return '2xx';
}

export async function runReplay(lines: ReplayLine[], sends: PlannedSend[], options: RunOptions): Promise<RunResult> {
  const result: RunResult = { sent: 0, answered: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, network: 0 }, latency: new Histogram(), durationMs: 0, maxLagMs: 0, errors: {} };
  const agent = new Agent({ connections: options.concurrency, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  // one signature per line: duplicates are the same request again
  const signed = new Map<number, ReturnType<typeof signWebhook>>();
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();

  const send = async (index: number): Promise<void> => {
    let webhook = signed.get(index);
    if (!webhook) signed.set(index, (webhook = signWebhook(options.url, options.authToken, lines[index].params, lines[index].headers)));
    const t0 = performance.now();
    try {
      const answer = await request(options.url, { method: 'POST', headers: webhook.headers, body: webhook.body, dispatcher: agent, signal: AbortSignal.timeout(options.timeoutMs) });
      await answer.body.dump();
      result.answered[statusClass(answer.statusCode)]++;
    } catch (error) {
      result.answered.network++;
      const e = error as Error & { code?: string; cause?: { code?: string } };
      const kind = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${options.timeoutMs}ms` : (e.cause?.code ?? e.code ?? e.message);
      if (kind in result.errors || Object.keys(result.errors).length < MAX_ERROR_KINDS) result.errors[kind] = (result.errors[kind] ?? 0) + 1;
    }
    result.latency.record(performance.now() - t0);
  };

  try {
    for (const planned of sends) {
      const deadline = start + planned.at;
      await waitUntil(deadline);
      while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
      result.maxLagMs = Math.max(result.maxLagMs, performance.now() - deadline);
      result.sent++;
      const p = send(planned.index).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  } finally {
    await agent.close();
  }
  result.durationMs = performance.now() - start;
  return result;
}
