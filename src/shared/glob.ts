/**
 * Shared by the emulator (REST fault rules, the request log) and the router (pre-event identity allow lists).
 * Globs with `*` (any run of characters, `/` included) and nothing else, as REST fault rules match paths. Matched
 * without regular expressions: a `*`-only glob is its literal pieces in order, so the first piece is a prefix, the
 * last a suffix, and each middle one is taken at its leftmost place after the previous (taking it later never helps).
 * That is one indexOf scan per piece, never going back: at worst text × pattern steps, no backtracking (`*a*a*…*b`
 * took a regex minutes). picomatch and micromatch compile to regexes and treat `/` specially, so neither fits.
 */
export type Glob = (text: string) => boolean;

export function compileGlob(pattern: string): Glob {
  const pieces = pattern.split('*');
  if (pieces.length === 1) return (text) => text === pattern;
  const head = pieces[0];
  const tail = pieces[pieces.length - 1];
  const middle = pieces.slice(1, -1).filter((p) => p !== '');
  const fixed = head.length + tail.length;
  return (text) => {
    if (text.length < fixed || !text.startsWith(head) || !text.endsWith(tail)) return false;
    let at = head.length;
    const end = text.length - tail.length;
    for (const piece of middle) {
      const found = text.indexOf(piece, at);
      if (found < 0 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}
