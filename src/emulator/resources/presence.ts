/**
 * Who is online, as the client-SDK hub of an emulator knows it, for the REST User's `is_online`. Resources know
 * only the database, so the hub registers itself per database (one per core); without a hub nobody is online.
 */
import type { Database } from '../store/database.js';

/** true: a client of the user is connected; false: none now, but one was; undefined: none ever (since start) */
export type PresenceOf = (userSid: string) => boolean | undefined;

const presences = new WeakMap<Database, PresenceOf>();

export function providePresence(db: Database, presence: PresenceOf): void {
  presences.set(db, presence);
}

export function presenceOf(db: Database, userSid: string): boolean | undefined {
  return presences.get(db)?.(userSid);
}
