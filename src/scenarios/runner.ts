/**
 * Runs scenarios one after another against one target, each from a fresh start: the target reset, a fresh
 * reference router (or the same `--consumer`), the target's webhooks aimed at it. Collects
 * `{ name, suite, status, reason?, durationMs }` per scenario; a failure carries the webhook journal excerpt
 * that explains it.
 */
import { createHash } from 'node:crypto';
import { AssertionFailure, expectations, ScenarioSkipped, type Scenario, type ScenarioContext } from './api.js';
import { PROXY, WHATSAPP_PROXY, type Consumer } from './consumer.js';
import { seededRandom } from './random.js';
import type { Capability, Target, WebhookDelivery } from './target.js';
import { eventually } from './wait.js';

export type ScenarioStatus = 'passed' | 'failed' | 'skipped';

export interface ScenarioResult {
  name: string;
  suite: string;
  status: ScenarioStatus;
  reason?: string;
  /** what a passed scenario could not check (e.g. "checked what Twilio sees only") */
  note?: string;
  durationMs: number;
  /** the scenario's own seed (the run seed + its name) */
  seed: string;
  /** failed: the webhook journal lines that explain it */
  journal?: string[];
  /** the scenario's ctx.log lines (its fault draws) */
  log: string[];
}

export interface RunResult {
  passed: number;
  failed: number;
  skipped: number;
  seed: string;
  durationMs: number;
  target: string;
  consumer: Consumer['kind'];
  scenarios: ScenarioResult[];
}

export interface RunOptions {
  target: Target;
  /** the system under test for one scenario: a fresh router, or the same --consumer each time */
  startConsumer: () => Promise<Consumer>;
  seed: string;
  /** per scenario (default 20 s) */
  timeoutMs?: number;
  onStart?: (scenario: Scenario) => void;
  onResult?: (result: ScenarioResult) => void;
}

/** every Conversations post-event the consumer is sent */
export const POST_EVENTS = [
  'onConversationAdded', 'onConversationUpdated', 'onConversationRemoved', 'onConversationStateUpdated',
  'onParticipantAdded', 'onParticipantUpdated', 'onParticipantRemoved',
  'onMessageAdded', 'onMessageUpdated', 'onMessageRemoved', 'onDeliveryUpdated',
];

/** Twilio gives a webhook 5 s (README "Webhooks"); a consumer slower than that loses events */
const ANSWER_WITHIN_MS = 5000;

/** the target's webhooks → the consumer: account post-events, and the proxy numbers' SmsUrl */
export async function aimWebhooks(target: Target, consumer: Consumer, fragment = ''): Promise<void> {
  // a target that reaches the consumer another way (a tunnel to its receiver) says where to post
  const base = target.exposeConsumer && consumer.kind === 'router' ? target.exposeConsumer(consumer.url) : consumer.url;
  const at = (url: string) => base + url.slice(consumer.url.length) + fragment;
  await target.client.conversations.v1.configuration.webhooks().update({ method: 'POST', postWebhookUrl: at(consumer.webhookUrl), filters: POST_EVENTS });
  if (target.capabilities.has('control-plane')) {
    await target.setNumberWebhook(PROXY, at(consumer.inboundUrl));
    await target.setNumberWebhook(WHATSAPP_PROXY, at(consumer.inboundUrl));
  }
  if (target.numbers) await target.setNumberWebhook(target.numbers.service, at(consumer.inboundUrl));
}

export function scenarioSeed(seed: string, name: string): string {
  return createHash('sha256').update(`${seed}\0${name}`).digest('hex').slice(0, 12);
}

/** the journal, one line per delivery: what the consumer was sent and how it answered */
export function journalLines(deliveries: WebhookDelivery[], limit = 15): string[] {
  const lines = deliveries.map((d) => {
    const subject = d.params.MessageSid ?? d.params.ParticipantSid ?? d.params.ConversationSid ?? d.params.From ?? '';
    const status = d.params.Status ?? d.params.MessageStatus ?? '';
    const attempts = d.attempts.map((a) => `${a.status ?? a.error ?? '—'} in ${a.latencyMs} ms`).join(', ');
    return `#${d.id} ${d.eventType}${status ? ` ${status}` : ''} ${subject}${d.duplicateOf ? ` (duplicate of #${d.duplicateOf})` : ''}: ${d.state}${d.state === 'failed' ? ` to ${d.url}` : ''}${attempts ? ` [${attempts}]` : ''}`;
  });
  return lines.length > limit ? [`… ${lines.length - limit} earlier deliveries`, ...lines.slice(-limit)] : lines;
}

async function journalFor(target: Target, failure: unknown): Promise<string[] | undefined> {
  if (!target.capabilities.has('control-plane')) return undefined;
  try {
    const conversationSid = failure instanceof AssertionFailure ? failure.conversationSid : undefined;
    return journalLines(await target.deliveries(conversationSid ? { conversationSid } : {}));
  } catch {
    return undefined;
  }
}

async function slowAnswers(target: Target, consumer: Consumer): Promise<string | undefined> {
  if (!target.capabilities.has('control-plane')) return undefined;
  const slow = (await target.deliveries())
    .filter((d) => d.url.startsWith(consumer.url))
    .flatMap((d) => d.attempts.filter((a) => a.latencyMs > ANSWER_WITHIN_MS || /timeout/i.test(a.error ?? '')).map((a) => `#${d.id} ${d.eventType}: ${a.error ?? `${a.latencyMs} ms`}`));
  return slow.length ? `the consumer did not answer within ${ANSWER_WITHIN_MS / 1000} s: ${slow.slice(0, 5).join('; ')}` : undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AssertionFailure(`scenario ${name} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function runScenario(scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  const { target } = options;
  const started = Date.now();
  const seed = scenarioSeed(options.seed, scenario.name);
  const log: string[] = [];
  const base = { name: scenario.name, suite: scenario.suite, seed, log };
  let consumer: Consumer | undefined;
  let note: string | undefined;
  const finish = (status: ScenarioStatus, extra: Partial<ScenarioResult> = {}): ScenarioResult => ({ ...base, status, ...extra, ...(note && status === 'passed' ? { note } : {}), durationMs: Date.now() - started });
  try {
    await target.reset();
    consumer = await options.startConsumer();
    const has = (c: Capability) => (c === 'router-state' ? consumer!.hasApi : target.capabilities.has(c));
    const missing = scenario.needs.find((c) => !has(c));
    if (missing) return finish('skipped', { reason: `needs ${missing}` });
    await aimWebhooks(target, consumer, '');
    const numbers = seededRandom(`${seed}:numbers`);
    const used = new Set<string>();
    const ctx: ScenarioContext = {
      target,
      consumer,
      seed,
      random: seededRandom(seed),
      log: (...parts) => log.push(parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ')),
      note: (text) => {
        note = note ? `${note}; ${text}` : text;
      },
      has,
      needs: (c) => {
        if (!has(c)) throw new ScenarioSkipped(`needs ${c}`);
      },
      number: () => {
        for (;;) {
          const n = `+1555${String(numbers.int(2_000_000, 9_999_999))}`;
          if (!used.has(n)) {
            used.add(n);
            return n;
          }
        }
      },
      expect: expectations,
      eventually,
    };
    await withTimeout(scenario.run(ctx), options.timeoutMs ?? 20_000, scenario.name);
    const slow = await slowAnswers(target, consumer);
    if (slow) return finish('failed', { reason: slow, journal: await journalFor(target, undefined) });
    return finish('passed');
  } catch (error) {
    if (error instanceof ScenarioSkipped) return finish('skipped', { reason: error.message });
    const reason = error instanceof AssertionFailure ? error.message : `error: ${error instanceof Error ? error.message : String(error)}`;
    return finish('failed', { reason, journal: await journalFor(target, error) });
  } finally {
    if (consumer?.kind === 'router') await consumer.close().catch(() => undefined);
  }
}

export async function runScenarios(scenarios: Scenario[], options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const results: ScenarioResult[] = [];
  let kind: Consumer['kind'] = 'router';
  const startConsumer = async () => {
    const consumer = await options.startConsumer();
    kind = consumer.kind;
    return consumer;
  };
  for (const scenario of scenarios) {
    options.onStart?.(scenario);
    const result = await runScenario(scenario, { ...options, startConsumer });
    results.push(result);
    options.onResult?.(result);
  }
  const count = (s: ScenarioStatus) => results.filter((r) => r.status === s).length;
  return {
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    seed: options.seed,
    durationMs: Date.now() - started,
    target: options.target.name,
    consumer: kind,
    scenarios: results,
  };
}
