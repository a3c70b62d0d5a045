/**
 * What webhook and REST fault rules share: the rule envelope (`match`, `probability`, `times`, `action`) and
 * latency as rules describe it — a fixed `ms`, `uniform: [lo, hi]` or `lognormal: {medianMs, sigma}` — drawn
 * from the emulator's seeded random source so a `--seed` repeats them. Every delay is at most MAX_DELAY_MS:
 * a larger `ms`, bound or median is refused (400 naming the field), a lognormal draw is capped at it.
 */
import type { RandomSource } from './random.js';
import { invalidParameter } from './wire/errors.js';

export interface DelaySpec {
  ms?: number;
  uniform?: [number, number];
  lognormal?: { medianMs: number; sigma: number };
}

/** The longest injected delay: 10 minutes (setTimeout itself cannot wait past 2^31 ms). */
export const MAX_DELAY_MS = 600_000;

function nonNegative(value: unknown, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw invalidParameter(`${name} must be a number >= 0`);
  return n;
}

/** A delay in milliseconds, 0..MAX_DELAY_MS; `name` is the field the message names. */
export function parseDelayMs(value: unknown, name: string): number {
  const n = Number(value);
  if (typeof value === 'boolean' || value === null || value === '' || !Number.isFinite(n) || n < 0 || n > MAX_DELAY_MS) {
    throw invalidParameter(`${name} must be a delay in milliseconds from 0 to ${MAX_DELAY_MS}, got ${String(value)}`);
  }
  return n;
}

/** Validate the delay fields of an action (`action.ms`, `action.uniform`, `action.lognormal`). */
export function parseDelay(a: Record<string, unknown>): DelaySpec {
  if (a.ms !== undefined) return { ms: parseDelayMs(a.ms, 'action.ms') };
  if (Array.isArray(a.uniform) && a.uniform.length === 2) {
    const [lo, hi] = a.uniform.map((v, i) => parseDelayMs(v, `action.uniform[${i}]`));
    if (hi < lo) throw invalidParameter('action.uniform must be [low, high]');
    return { uniform: [lo, hi] };
  }
  if (a.lognormal && typeof a.lognormal === 'object') {
    const l = a.lognormal as Record<string, unknown>;
    return { lognormal: { medianMs: parseDelayMs(l.medianMs, 'action.lognormal.medianMs'), sigma: nonNegative(l.sigma, 'action.lognormal.sigma') } };
  }
  throw invalidParameter('a delay action needs ms, uniform [low, high] or lognormal {medianMs, sigma}');
}

export function drawDelayMs(random: RandomSource, spec: DelaySpec): number {
  if (spec.ms !== undefined) return spec.ms;
  if (spec.uniform) return spec.uniform[0] + random.next() * (spec.uniform[1] - spec.uniform[0]);
  const { medianMs, sigma } = spec.lognormal as { medianMs: number; sigma: number };
  // Box-Muller from two seeded draws
  const u = Math.max(random.next(), 1e-12);
  const v = random.next();
  return Math.min(MAX_DELAY_MS, medianMs * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)));
}

export interface RuleEnvelope {
  match: Record<string, unknown>;
  probability: number;
  times?: number;
  action: unknown;
}

/** Validate `{"rules": [...]}`: match keys from `matchKeys`, probability 0..1, times >= 0. */
export function parseRuleEnvelopes(body: unknown, matchKeys: string[], kind: string): RuleEnvelope[] {
  const rules = (body as Record<string, unknown> | undefined)?.rules;
  if (!Array.isArray(rules)) throw invalidParameter('the body must be {"rules": [...]}');
  return rules.map((raw, i) => {
    const r = (raw ?? {}) as Record<string, unknown>;
    const match = (r.match ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(match)) {
      if (!matchKeys.includes(key)) throw invalidParameter(`rules[${i}].match.${key} is not a ${kind} match key`);
    }
    const probability = r.probability === undefined ? 1 : Number(r.probability);
    if (!(probability >= 0 && probability <= 1)) throw invalidParameter(`rules[${i}].probability must be between 0 and 1`);
    const times = r.times === undefined ? undefined : Math.round(nonNegative(r.times, `rules[${i}].times`));
    return { match, probability, times, action: r.action };
  });
}
