/** Every built-in scenario, suite by suite, in the order `tce scenario run` runs them. */
import type { Scenario } from '../api.js';
import { stopVariants, stopInSentence, stopWithPunctuation, stopThenSend } from './stop/keywords.js';
import { startLifts, helpReplies, stopEverywhere } from './stop/start-help.js';
import { stopTwoNumbers } from './stop/two-numbers.js';
import { failureFallsBackOnce, failedFallbackDoesNotLoop, readAfterFailureStaysFailed } from './delivery-failure/fallback.js';
import { whatsappWindow } from './delivery-failure/whatsapp-window.js';
import { duplicated, reordered, delayed, retried } from './ordering/faults.js';
import { inboundOnce } from './ordering/inbound.js';
import { concurrentFirstInbound, concurrentUniqueName } from './idempotency/first-contact.js';
import { storm } from './rate-limit/storm.js';

export const SUITES = ['stop', 'delivery-failure', 'ordering', 'idempotency', 'rate-limit'] as const;

export const builtInScenarios: Scenario[] = [
  stopVariants, stopInSentence, stopWithPunctuation, stopThenSend, startLifts, helpReplies, stopEverywhere, stopTwoNumbers,
  failureFallsBackOnce, failedFallbackDoesNotLoop, readAfterFailureStaysFailed, whatsappWindow,
  duplicated, reordered, delayed, retried, inboundOnce,
  concurrentFirstInbound, concurrentUniqueName,
  storm,
];

/** scenarios named by suite or by name; every selector must match something */
export function selectScenarios(all: Scenario[], selectors: string[]): Scenario[] {
  if (!selectors.length) return all;
  for (const s of selectors) {
    if (!all.some((x) => x.suite === s || x.name === s)) throw new Error(`no suite or scenario named ${JSON.stringify(s)} (tce scenario list shows them)`);
  }
  return all.filter((x) => selectors.includes(x.suite) || selectors.includes(x.name));
}
