/**
 * The suppression list the router checks before every send: (address, sender) pairs, where the sender is the
 * number or Messaging Service the address opted out of (Twilio's opt-out is per sender). Kept in the key-value store
 * (SQLite, PostgreSQL or Redis) so every replica reads the same list; the log holds the audit trail of each change.
 */
import type { KeyValueStore } from '../store/types.js';

export interface Suppression {
  address: string;
  sender: string;
  reason: string;
  since: number;
}

const PREFIX = 'suppression:';
const keyOf = (address: string, sender: string) => `${PREFIX}${sender}|${address}`;

export class SuppressionList {
  constructor(private readonly kv: KeyValueStore) {}

  async add(entry: Suppression): Promise<void> {
    await this.kv.set(keyOf(entry.address, entry.sender), JSON.stringify(entry));
  }

  async lift(address: string, sender: string): Promise<void> {
    await this.kv.del(keyOf(address, sender));
  }

  /** the first suppression of `address` by any of `senders` (a participant's proxy number, its conversation's service) */
  async find(address: string, senders: ReadonlyArray<string | null | undefined>): Promise<Suppression | undefined> {
    for (const sender of senders) {
      if (!sender) continue;
      const value = await this.kv.get(keyOf(address, sender));
      if (value !== undefined) return JSON.parse(value) as Suppression;
    }
    return undefined;
  }

  async list(limit = 1_000): Promise<Suppression[]> {
    return (await this.kv.list(PREFIX, limit)).map((entry) => JSON.parse(entry.value) as Suppression);
  }
}
