/**
 * Comparing one recorded answer with the emulator's: status, Twilio error code, field sets (recursively), JSON
 * types, date formats and enum values, never values in general (SIDs, dates and URLs differ between servers).
 * On the way it binds the recording's SID placeholders to the SIDs the emulator handed out at the same places.
 */
import { dateClass, isDatePlaceholder, WHOLE_SID_PLACEHOLDER } from './sanitize.js';

type Json = Record<string, unknown>;
export type Schema = Json | undefined;

/** placeholder → the emulator's SID */
export type Bindings = Map<string, string>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * The differences between a recorded answer and the emulator's, as text (without the `#n METHOD path: ` prefix).
 * `schema` is the spec's schema for the answer, where known (enums come from it). Binds placeholders in `bindings`.
 */
export function compareAnswer(
  recorded: { status: number; body: unknown },
  actual: { status: number; body: unknown },
  schema: Schema,
  bindings: Bindings,
): string[] {
  const out: string[] = [];
  if (recorded.status !== actual.status) out.push(`status ${recorded.status} ≠ ${actual.status}`);
  const recCode = errorCode(recorded.body);
  const actCode = errorCode(actual.body);
  if ((recorded.status >= 400 || actual.status >= 400) && recCode !== actCode) out.push(`error code ${recCode ?? 'none'} ≠ ${actCode ?? 'none'}`);
  // a different status answers with another kind of body: its fields say nothing more
  if (recorded.status !== actual.status) return out;
  compareValue(recorded.body, actual.body, '', schema, bindings, out);
  return out;
}

function errorCode(body: unknown): number | undefined {
  return isObject(body) && typeof body.code === 'number' ? body.code : undefined;
}

function compareValue(rec: unknown, act: unknown, at: string, schema: Schema, bindings: Bindings, out: string[]): void {
  const field = at === '' ? 'body' : at;
  if (typeof rec === 'string' && WHOLE_SID_PLACEHOLDER.test(rec)) {
    bindOrCheck(rec, act, field, bindings, out);
    return;
  }
  if (isDatePlaceholder(rec)) {
    const cls = typeof act === 'string' ? dateClass(act) : undefined;
    if (cls !== rec) out.push(`field ${field}: ${rec} ≠ ${typeof act === 'string' ? (cls ?? `a ${jsonType(act)} that is no date: ${JSON.stringify(act)}`) : jsonType(act)}`);
    return;
  }
  const rt = jsonType(rec);
  const tt = jsonType(act);
  if (rt !== tt) {
    out.push(`field ${field}: type ${rt} ≠ ${tt}`);
    return;
  }
  if (isObject(rec) && isObject(act)) {
    const props = isObject(schema?.properties) ? (schema.properties as Record<string, Json>) : undefined;
    for (const key of Object.keys(rec)) {
      const path = at === '' ? key : `${at}.${key}`;
      if (!(key in act)) out.push(`field ${path} missing`);
      else compareValue(rec[key], act[key], path, props?.[key], bindings, out);
    }
    for (const key of Object.keys(act)) if (!(key in rec)) out.push(`field ${at === '' ? key : `${at}.${key}`} extra`);
    return;
  }
  if (Array.isArray(rec) && Array.isArray(act)) {
    if (rec.length !== act.length) out.push(`field ${field}: ${rec.length} items ≠ ${act.length}`);
    const items = isObject(schema?.items) ? (schema.items as Json) : undefined;
    for (let i = 0; i < Math.min(rec.length, act.length); i++) compareValue(rec[i], act[i], `${at}[${i}]`, items, bindings, out);
    return;
  }
  if (typeof rec === 'string' && Array.isArray(schema?.enum) && rec !== act) out.push(`field ${field}: ${JSON.stringify(rec)} ≠ ${JSON.stringify(act)}`);
}

/** A recorded {CH1} binds to the emulator's SID at the same place; once bound, the emulator must name the same one. */
function bindOrCheck(placeholder: string, act: unknown, field: string, bindings: Bindings, out: string[]): void {
  if (typeof act !== 'string' || !/^[A-Z]{2}[0-9a-fA-F]{32}$/.test(act)) {
    out.push(`field ${field}: ${placeholder} (a SID) ≠ ${JSON.stringify(act)}`);
    return;
  }
  const prefix = WHOLE_SID_PLACEHOLDER.exec(placeholder)?.[1];
  if (!act.startsWith(prefix as string)) {
    out.push(`field ${field}: ${placeholder} ≠ ${act} (another kind of SID)`);
    return;
  }
  const bound = bindings.get(placeholder);
  if (bound === undefined) bindings.set(placeholder, act);
  else if (bound !== act) out.push(`field ${field}: ${placeholder} (${bound}) ≠ ${act}: refers to another resource`);
}
