/**
 * Injected REST faults (`/_emulator/faults/rest`): rules matching method, path (glob with `*`), operationId and
 * account, with a probability and an action — an error (status + Twilio code + message), latency (fixed, uniform
 * or lognormal), a dropped connection (`reset`) or an empty reply. The first matching rule acts; draws come from
 * the seeded random source. `X-Emulator-Fault: status=503;code=20503` (or `delay=200`, `reset`, `empty`) forces
 * one answer for one request. Faults act before the operation runs, so a faulted write is never half-applied.
 */
import type { RandomSource } from '../random.js';
import { invalidParameter } from '../wire/errors.js';
import { drawDelayMs, parseDelayMs, parseDelay, parseRuleEnvelopes, type DelaySpec } from '../fault-common.js';
import { compileGlob, type Glob } from '../../shared/glob.js';

export type RestFaultAction =
  | { type: 'error'; status: number; code: number; message?: string }
  | ({ type: 'delay' } & DelaySpec)
  | { type: 'reset' }
  | { type: 'empty'; status: number };

export interface RestFaultRule {
  match: { method?: string; path?: string; operation?: string; accountSid?: string };
  probability: number;
  times?: number;
  action: RestFaultAction;
}

type Json = Record<string, unknown>;

function number(value: unknown, name: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw invalidParameter(`${name} must be a number >= 0`);
  return n;
}

function status(value: unknown, name: string, fallback: number, lo: number, hi: number): number {
  const n = Math.round(number(value, name, fallback));
  if (n < lo || n > hi) throw invalidParameter(`${name} must be between ${lo} and ${hi}`);
  return n;
}

export function parseRestAction(raw: unknown): RestFaultAction {
  const a = (raw ?? {}) as Json;
  switch (a.type) {
    case 'error': {
      const s = status(a.status, 'action.status', 500, 400, 599);
      return { type: 'error', status: s, code: Math.round(number(a.code, 'action.code', s === 429 ? 20429 : s >= 500 ? 20500 : 20001)), message: a.message === undefined ? undefined : String(a.message) };
    }
    case 'delay':
      return { type: 'delay', ...parseDelay(a) };
    case 'reset':
      return { type: 'reset' };
    case 'empty':
      // a 1xx is not a final answer: the client would wait for one forever
      return { type: 'empty', status: status(a.status, 'action.status', 200, 200, 599) };
    default:
      throw invalidParameter(`unknown action type ${String(a.type)}: error, delay, reset or empty`);
  }
}

export function parseRestRules(body: unknown): RestFaultRule[] {
  const text = (v: unknown) => (v === undefined ? undefined : String(v));
  return parseRuleEnvelopes(body, ['method', 'path', 'operation', 'accountSid'], 'REST').map((r) => ({
    match: {
      method: text(r.match.method)?.toUpperCase(),
      path: text(r.match.path),
      operation: text(r.match.operation),
      accountSid: text(r.match.accountSid),
    },
    probability: r.probability,
    times: r.times,
    action: parseRestAction(r.action),
  }));
}

/** `status=503;code=20503;message=…`, `delay=200`, `reset`, `empty` (or `empty=204`). */
export function parseFaultHeader(header: string): RestFaultAction {
  const fields = new Map<string, string>();
  for (const part of header.split(';')) {
    const [key, ...rest] = part.split('=');
    if (key.trim()) fields.set(key.trim().toLowerCase(), rest.join('=').trim());
  }
  if (fields.has('reset')) return { type: 'reset' };
  if (fields.has('empty')) return { type: 'empty', status: status(fields.get('empty') || undefined, 'X-Emulator-Fault: empty', 200, 200, 599) };
  if (fields.has('delay')) return { type: 'delay', ms: parseDelayMs(fields.get('delay'), 'X-Emulator-Fault: delay') };
  if (fields.has('status') || fields.has('code')) {
    return parseRestAction({ type: 'error', status: fields.get('status'), code: fields.get('code'), message: fields.get('message') });
  }
  throw invalidParameter(`X-Emulator-Fault: ${header} is not understood; try status=503;code=20503, delay=200, reset or empty`);
}

export class RestFaults {
  private rulesList: RestFaultRule[] = [];
  private patterns: (Glob | undefined)[] = [];

  constructor(private readonly random: RandomSource) {}

  get rules(): RestFaultRule[] {
    return this.rulesList;
  }

  set rules(rules: RestFaultRule[]) {
    this.rulesList = rules;
    this.patterns = rules.map((r) => (r.match.path ? compileGlob(r.match.path) : undefined));
  }

  /** The first matching rule's action; path and operation are read only when a rule asks for them (hot path). */
  decide(subject: { method: string; accountSid?: string; path: () => string; operation: () => string | undefined }): RestFaultAction | undefined {
    let path: string | undefined;
    for (let i = 0; i < this.rulesList.length; i++) {
      const rule = this.rulesList[i];
      const m = rule.match;
      if (m.method && m.method !== subject.method) continue;
      if (m.accountSid && m.accountSid !== subject.accountSid) continue;
      if (m.operation && m.operation !== subject.operation()) continue;
      const pattern = this.patterns[i];
      if (pattern && !pattern((path ??= subject.path()))) continue;
      if (rule.times !== undefined && rule.times <= 0) continue;
      if (rule.probability < 1 && this.random.next() >= rule.probability) return undefined;
      if (rule.times !== undefined) rule.times--;
      return rule.action;
    }
    return undefined;
  }

  delayMs(action: Extract<RestFaultAction, { type: 'delay' }>): number {
    return drawDelayMs(this.random, action);
  }

  private readonly waiting = new Map<NodeJS.Timeout, () => void>();

  /** Hold a request for the action's delay, then `done`; release() ends every hold at once. */
  wait(action: Extract<RestFaultAction, { type: 'delay' }>, done: () => void): void {
    const timer = setTimeout(() => {
      this.waiting.delete(timer);
      done();
    }, this.delayMs(action));
    this.waiting.set(timer, done);
  }

  /** Shutting down: delayed requests go ahead now rather than keep the server open. */
  release(): void {
    const held = [...this.waiting];
    this.waiting.clear();
    for (const [timer, done] of held) {
      clearTimeout(timer);
      done();
    }
  }
}
