/**
 * Injected webhook faults (`/_emulator/faults/webhooks`): rules checked in order, the first that matches a
 * delivery acts on it. Decisions are made when the delivery is enqueued, from the emulator's seeded random source,
 * so a `--seed` makes every draw (which deliveries, how long a delay, which shuffle) repeat run after run.
 */
import type { RandomSource } from '../random.js';
import { invalidParameter } from '../wire/errors.js';
import { drawDelayMs, parseDelayMs, parseDelay, parseRuleEnvelopes, type DelaySpec } from '../fault-common.js';

export type FaultAction =
  | { type: 'duplicate'; count: number }
  | { type: 'reorder'; window: number; ms: number }
  | ({ type: 'delay' } & DelaySpec)
  | { type: 'drop' }
  | { type: 'fail'; status: number };

export interface FaultRule {
  match: { eventType?: string; url?: string; conversationSid?: string; accountSid?: string };
  probability: number;
  /** remaining uses; undefined: unlimited */
  times?: number;
  action: FaultAction;
}

export interface FaultSubject {
  accountSid?: string;
  eventType: string;
  url: string;
  conversationSid: string | null;
}

type Json = Record<string, unknown>;

function positiveNumber(value: unknown, name: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw invalidParameter(`${name} must be a number >= 0`);
  return n;
}

/** a reorder window is held in memory: at most this many deliveries */
const MAX_REORDER_WINDOW = 1000;

function reorderWindow(value: unknown): number {
  const n = Math.max(2, Math.round(positiveNumber(value, 'action.window', 5)));
  if (n > MAX_REORDER_WINDOW) throw invalidParameter(`action.window must be from 2 to ${MAX_REORDER_WINDOW}, got ${String(value)}`);
  return n;
}

function parseAction(raw: unknown): FaultAction {
  const a = (raw ?? {}) as Json;
  switch (a.type) {
    case 'duplicate':
      return { type: 'duplicate', count: Math.max(1, Math.round(positiveNumber(a.count, 'action.count', 1))) };
    case 'reorder':
      return { type: 'reorder', window: reorderWindow(a.window), ms: a.ms === undefined ? 1000 : parseDelayMs(a.ms, 'action.ms') };
    case 'delay':
      return { type: 'delay', ...parseDelay(a) };
    case 'drop':
      return { type: 'drop' };
    case 'fail':
    case 'retry': {
      const status = Math.round(positiveNumber(a.status, 'action.status', 500));
      if (status < 400 || status > 599) throw invalidParameter('action.status must be a 4xx or 5xx status');
      return { type: 'fail', status };
    }
    default:
      throw invalidParameter(`unknown action type ${String(a.type)}: duplicate, reorder, delay, drop or fail`);
  }
}

/** Validate a PUT body's rules. */
export function parseRules(body: unknown): FaultRule[] {
  const text = (v: unknown) => (v === undefined ? undefined : String(v));
  return parseRuleEnvelopes(body, ['eventType', 'url', 'conversationSid', 'accountSid'], 'webhook').map((r) => ({
    match: { eventType: text(r.match.eventType), url: text(r.match.url), conversationSid: text(r.match.conversationSid), accountSid: text(r.match.accountSid) },
    probability: r.probability,
    times: r.times,
    action: parseAction(r.action),
  }));
}

export class FaultRules {
  rules: FaultRule[] = [];

  constructor(private readonly random: RandomSource) {}

  /** The action for this delivery, if a rule matches and its draw says so. */
  decide(subject: FaultSubject): FaultAction | undefined {
    for (const rule of this.rules) {
      const m = rule.match;
      if (m.eventType && m.eventType !== subject.eventType) continue;
      if (m.url && !subject.url.startsWith(m.url)) continue;
      if (m.conversationSid && m.conversationSid !== subject.conversationSid) continue;
      if (m.accountSid && m.accountSid !== subject.accountSid) continue;
      if (rule.times !== undefined && rule.times <= 0) continue;
      if (rule.probability < 1 && this.random.next() >= rule.probability) return undefined;
      if (rule.times !== undefined) rule.times--;
      return rule.action;
    }
    return undefined;
  }

  delayMs(action: Extract<FaultAction, { type: 'delay' }>): number {
    return drawDelayMs(this.random, action);
  }

  /** A seeded shuffle (Fisher-Yates). */
  shuffle<T>(items: T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.random.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}
