/**
 * JSON text of single values, exactly as JSON.stringify writes them as property values, for answers written
 * straight to text (list pages). Most strings on the wire (SIDs, dates, URLs, plain text) need no escaping:
 * one scan decides, and only the others go through JSON.stringify.
 */

/** Characters JSON.stringify escapes: controls, `"`, `\`, and surrogates (lone ones become `\udxxx`). */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** Whether `text` is written between quotes unchanged. */
export function isPlainJsonText(text: string): boolean {
  return !NEEDS_ESCAPE.test(text);
}

export function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/**
 * Thrown for a value whose JSON depends on where it stands (functions and symbols make JSON.stringify drop the
 * property, `toJSON` receives the key) or that JSON.stringify refuses (bigint): the caller writes that record
 * the slow way, with JSON.stringify itself.
 */
export class UnusualJsonValue extends Error {}

/** The JSON text of a property value; undefined is written as null (answers list every property). */
export function jsonValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'object':
      if (value === null) return 'null';
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') throw new UnusualJsonValue();
      return JSON.stringify(value);
    default:
      throw new UnusualJsonValue();
  }
}
