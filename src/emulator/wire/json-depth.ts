/**
 * How deep a user's JSON may nest: 64 levels of arrays and objects, everywhere JSON from a user is read (JSON
 * bodies on every route, Attributes, Participant, ContentVariables). Deeper JSON parses, but V8 then overflows its
 * stack writing it back (JSON.stringify) or walking it (String(), spread), which answered 500. Checked on the text,
 * before parsing, in one linear scan.
 */
import { twilioError, type TwilioError } from './errors.js';
import { jsonTooDeep as tooDeep } from '../../shared/json-depth.js';

export const MAX_JSON_DEPTH = 64;

/** Whether the JSON text opens more than MAX_JSON_DEPTH arrays/objects at once (strings do not count). */
export function jsonTooDeep(text: string): boolean {
  return tooDeep(text, MAX_JSON_DEPTH);
}

/** The 400 for JSON nested too deeply; `what` names it (`Conversation Attributes`, `The JSON body`). */
export function jsonTooDeepError(what: string): TwilioError {
  return twilioError('JsonTooDeep', { what, limit: MAX_JSON_DEPTH });
}
