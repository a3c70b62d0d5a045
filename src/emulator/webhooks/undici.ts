/**
 * undici, loaded on first use: importing it costs ~100 ms, which `tce serve` and `createEmulator()` must not pay
 * at start-up (most runs send their first webhook much later, if at all). require() keeps callers synchronous.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

let loaded: typeof Undici | undefined;

export function undici(): typeof Undici {
  loaded ??= createRequire(import.meta.url)('undici') as typeof Undici;
  return loaded;
}
