/**
 * How deep a user's JSON may nest: 64 levels of arrays and objects, everywhere JSON from a user is read (JSON
 * bodies on every route, Attributes, Participant, ContentVariables). Deeper JSON parses, but V8 then overflows its
 * stack writing it back (JSON.stringify) or walking it (String(), spread), which answered 500. Checked on the text,
 * before parsing, in one linear scan.
 */
import { twilioError, type TwilioError } from './errors.js';

export const MAX_JSON_DEPTH = 64;

/** Whether the JSON text opens more than `limit` arrays/objects at once (brackets inside strings do not count). */
export function jsonTooDeep(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The 400 for JSON nested too deeply; `what` names it (`Conversation Attributes`, `The JSON body`). */
export function jsonTooDeepError(what: string): TwilioError {
  return twilioError('JsonTooDeep', { what, limit: MAX_JSON_DEPTH });
}
