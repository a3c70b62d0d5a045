/** Checks shared by the key-value stores. */
import { checkTtl } from './event-rows.js';

export function checkKvTtl(ttlSeconds: number | undefined): void {
  if (ttlSeconds !== undefined) checkTtl(ttlSeconds, 'a key-value ttl');
}

export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`list limit must be a non-negative integer, got ${limit}`);
}

/** `prefix` as a LIKE pattern matching itself literally, with `\` as the escape character */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** `prefix` as a GLOB pattern matching itself literally (SQLite's GLOB is case-sensitive, unlike its LIKE) */
export function globPrefix(prefix: string): string {
  return `${prefix.replace(/[*?[]/g, (c) => `[${c}]`)}*`;
}
