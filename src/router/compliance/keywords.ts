/**
 * Opt-out keywords, matched as Twilio matches them: the whole message, trimmed, case-insensitive
 * ("STOP please" is not a STOP).
 */
export type KeywordKind = 'stop' | 'start' | 'help';

export interface KeywordLists {
  stopKeywords: readonly string[];
  startKeywords: readonly string[];
  helpKeywords: readonly string[];
}

export function keywordOf(body: string | undefined, lists: KeywordLists): KeywordKind | undefined {
  if (body === undefined) return undefined;
  const word = body.trim().toUpperCase();
  if (word === '') return undefined;
  const has = (list: readonly string[]) => list.some((k) => k.trim().toUpperCase() === word);
  if (has(lists.stopKeywords)) return 'stop';
  if (has(lists.startKeywords)) return 'start';
  if (has(lists.helpKeywords)) return 'help';
  return undefined;
}
