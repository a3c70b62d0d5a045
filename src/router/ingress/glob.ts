/**
 * Identity globs for the pre-event allow list: `*` matches any run of characters (`:` included), everything else is
 * literal. Matched without regular expressions, so an identity chosen by a caller cannot make matching slow: the
 * pieces between stars must appear in order, and taking each at its leftmost place is never worse than a later one,
 * so one forward `indexOf` per piece decides (linear in identity × pattern, no backtracking).
 */
export type GlobMatcher = (text: string) => boolean;

export function compileGlob(pattern: string): GlobMatcher {
  const pieces = pattern.split('*');
  if (pieces.length === 1) return (text) => text === pattern;
  const first = pieces[0];
  const last = pieces[pieces.length - 1];
  const inner = pieces.slice(1, -1).filter((piece) => piece.length > 0);
  return (text) => {
    if (text.length < first.length + last.length) return false;
    if (!text.startsWith(first) || !text.endsWith(last)) return false;
    const end = text.length - last.length;
    let from = first.length;
    for (const piece of inner) {
      const at = text.indexOf(piece, from);
      if (at < 0 || at + piece.length > end) return false;
      from = at + piece.length;
    }
    return true;
  };
}

/** True when any pattern matches. */
export function matchesAny(matchers: readonly GlobMatcher[], text: string): boolean {
  return matchers.some((match) => match(text));
}
