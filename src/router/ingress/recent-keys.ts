/**
 * The dedupe keys this process accepted lately, so a Twilio retry of one is answered without a store round trip.
 * The store's unique key decides everything else (another replica's keys, older ones): this only saves work, so a
 * bounded memory of this process is enough. It replaced a Redis check that cost two commands per event, duplicate or
 * not (bench/router.js). Only accepted keys are kept, with the whole window: a key the store called a duplicate may
 * be near the end of its window, and must not outlive it here.
 */
import { LRUCache } from 'lru-cache';

export class RecentKeys {
  private readonly keys: LRUCache<string, true>;

  constructor(windowSeconds: number, max = 50_000) {
    this.keys = new LRUCache<string, true>({ max, ttl: windowSeconds * 1000 });
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  accepted(key: string): void {
    this.keys.set(key, true);
  }
}
