/** Parameters of the 2010 API: form bodies and queries, repeated keys as arrays, '' as absent. */
import type { RawParams } from '../http/form.js';
import { invalidParameter } from '../wire/errors.js';

export type Params = RawParams;

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
