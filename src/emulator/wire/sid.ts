/** SIDs: two uppercase letters plus 32 lowercase hex characters, as the spec's patterns and the real API. */
import type { RandomSource } from '../random.js';

export const SID_PATTERN = /^[A-Z]{2}[0-9a-fA-F]{32}$/;

export function newSid(prefix: string, random: RandomSource): string {
  return prefix + random.hex(32);
}

export function isSid(value: string, prefix?: string): boolean {
  return value.length === 34 && SID_PATTERN.test(value) && (prefix === undefined || value.startsWith(prefix));
}
