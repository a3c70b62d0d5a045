/**
 * The registers derived state is made of. Each has a join that is commutative, associative and idempotent, so
 * docs built from the same set of events are equal whatever the order and however many duplicates. Every register
 * is plain JSON (docs are stored as JSON), keys sorted by `canonical()`.
 */
import { deliveryRank } from './delivery-rank.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Where a value comes from: the event's own time (ms) and its dedupe key as tie-break (never the log id). */
export interface Stamp {
  at: number;
  by: string;
}

/** A value with its stamp. `pri` orders two writes of the same ms before the tie-break (higher wins; default 0). */
export interface Lww extends Stamp {
  v: Json;
  pri?: number;
}

/** One receipt: the highest status wins (delivery-rank.ts), then the later stamp. */
export interface Receipt extends Stamp {
  status: string;
  code: number | null;
  channelMessageSid?: string;
}

/** Field kinds: how a register of a doc joins. */
export type RegisterKind =
  | 'lww' // last writer wins (Lww)
  | 'fww' // first writer wins (Lww): removal tombstones keep the first removal
  | 'max' // a number, grow-only
  | 'min' // a number, shrink-only
  | 'lwwMap' // Record<string, Lww>
  | 'maxMap' // Record<string, number>
  | 'receipt' // Receipt
  | 'receiptMap'; // Record<string, Receipt>

export type Schema = Readonly<Record<string, RegisterKind>>;
export type Registers = Record<string, Json>;

/** JSON with object keys sorted at every level: equal values serialise equally. */
export function canonical<T extends Json>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => canonical(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(value).sort()) {
      const v = value[key];
      if (v !== undefined) setOwn(out, key, canonical(v));
    }
    return out as T;
  }
  return value;
}

export const canonicalJson = (value: Json): string => JSON.stringify(canonical(value));

/** Sets an own property even for keys such as `__proto__` (map keys come from event fields). */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  // only `__proto__` is special on a plain object; defining is slower, so only then
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

export const hasOwn = (target: object, key: string): boolean => Object.prototype.hasOwnProperty.call(target, key);

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A total order on stamped values: stamp first, then the value itself, so even a tie is decided the same way. */
export function compareLww(a: Lww, b: Lww): number {
  return a.at - b.at || (a.pri ?? 0) - (b.pri ?? 0) || compareText(a.by, b.by) || compareText(canonicalJson(a.v), canonicalJson(b.v));
}

export function compareReceipt(a: Receipt, b: Receipt): number {
  return (
    (deliveryRank(a.status) ?? -1) - (deliveryRank(b.status) ?? -1) ||
    a.at - b.at ||
    compareText(a.by, b.by) ||
    compareText(canonicalJson(a as unknown as Json), canonicalJson(b as unknown as Json))
  );
}

function joinMap(a: Json, b: Json, join: (x: Json, y: Json) => Json): Json {
  const left = (a ?? {}) as Record<string, Json>;
  const right = (b ?? {}) as Record<string, Json>;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(left)) setOwn(out, key, value);
  for (const [key, value] of Object.entries(right)) setOwn(out, key, hasOwn(left, key) ? join(left[key]!, value) : value);
  return out;
}

/** The join of two registers of one kind; either may be absent (undefined). */
export function joinRegister(kind: RegisterKind, a: Json | undefined, b: Json | undefined): Json | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  switch (kind) {
    case 'lww':
      return compareLww(a as unknown as Lww, b as unknown as Lww) >= 0 ? a : b;
    case 'fww':
      return compareLww(a as unknown as Lww, b as unknown as Lww) <= 0 ? a : b;
    case 'max':
      return Math.max(a as number, b as number);
    case 'min':
      return Math.min(a as number, b as number);
    case 'receipt':
      return compareReceipt(a as unknown as Receipt, b as unknown as Receipt) >= 0 ? a : b;
    case 'lwwMap':
      return joinMap(a, b, (x, y) => joinRegister('lww', x, y)!);
    case 'maxMap':
      return joinMap(a, b, (x, y) => Math.max(x as number, y as number));
    case 'receiptMap':
      return joinMap(a, b, (x, y) => joinRegister('receipt', x, y)!);
  }
}

/** The join of two register sets under one schema (fields of `b` outside the schema are dropped). */
export function joinRegisters(schema: Schema, a: Registers | undefined, b: Registers): Registers {
  const out: Registers = { ...a };
  for (const [field, value] of Object.entries(b)) {
    const kind = schema[field];
    if (kind === undefined || !hasOwn(schema, field)) continue;
    out[field] = joinRegister(kind, hasOwn(out, field) ? out[field] : undefined, value)!;
  }
  return out;
}

export const lww = (v: Json, stamp: Stamp, pri?: number): Json =>
  (pri === undefined ? { v, at: stamp.at, by: stamp.by } : { v, at: stamp.at, by: stamp.by, pri }) as Json;

export const valueOf = (register: Json | undefined): Json | undefined => (register as Lww | undefined)?.v;
