/**
 * One linear scan of JSON text for its nesting depth, before parsing: deeper JSON parses, but V8 then overflows its
 * stack writing it back or walking it. Shared by the emulator (every user JSON) and the router (JSON webhook bodies).
 */
/** Whether the JSON text opens more than `limit` arrays/objects at once (brackets inside strings do not count). */
export function jsonTooDeep(text: string, limit: number): boolean {
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
