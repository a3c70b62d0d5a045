/** Parameters of the 2010 API: form bodies and queries, repeated keys as arrays, '' as absent. */
import { invalidParameter } from '../wire/errors.js';

export type Params = Record<string, string | string[]>;

/** Form bodies arrive decoded by the parser; JSON bodies (handy for curl) are flattened to text values. */
export function paramsOf(value: unknown): Params {
  if (value === null || value === undefined || typeof value !== 'object') return {};
  const out: Params = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    out[key] = Array.isArray(v) ? v.map(String) : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

/** A single-valued parameter: the last one when repeated; '' counts as absent. */
export function one(params: Params, name: string): string | undefined {
  const v = params[name];
  const value = Array.isArray(v) ? v[v.length - 1] : v;
  return value === undefined || value === '' ? undefined : value;
}

export function many(params: Params, name: string): string[] {
  const v = params[name];
  return (v === undefined ? [] : Array.isArray(v) ? v : [v]).filter((s) => s !== '');
}

export function integerParam(params: Params, name: string): number | undefined {
  const raw = one(params, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw invalidParameter(`Invalid ${name}: ${raw}. ${name} must be a non-negative integer`);
  return Number(raw);
}
