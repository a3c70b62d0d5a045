/**
 * Which sender a Messaging Service picks. The emulator keeps no Messaging Service resource: any `MG…` SID sends.
 * Its sender pool is set through the control plane (`PUT /_emulator/messaging-services/{MG}/senders`); the service
 * picks the first sender of its pool on the recipient's channel (`whatsapp:` or not), the same one every time, as
 * Twilio's sticky sender keeps one sender per recipient. A service with none on that channel has a default sender
 * derived from its SID: `+1555` and seven digits (the fictional 555 exchange), `whatsapp:`-prefixed for WhatsApp.
 */
import { createHash } from 'node:crypto';
import type { Database } from '../store/database.js';
import { invalidParameter } from '../wire/errors.js';
import { isSid } from '../wire/sid.js';
import { validSender } from './addresses.js';

export const MAX_POOL_SIZE = 400;

export function defaultSender(messagingServiceSid: string, to: string): string {
  const digits = BigInt(`0x${createHash('sha256').update(`sender|${messagingServiceSid.toLowerCase()}`).digest('hex').slice(0, 12)}`) % 10_000_000n;
  const number = `+1555${digits.toString().padStart(7, '0')}`;
  return to.startsWith('whatsapp:') ? `whatsapp:${number}` : number;
}

export interface SenderPool {
  messagingServiceSid: string;
  senders: string[];
}

/** The pools, kept in the database (reset keeps them, as it keeps accounts: they are configuration). */
export class SenderPools {
  constructor(private readonly db: Database) {}

  get(messagingServiceSid: string): SenderPool {
    const sid = checkedSid(messagingServiceSid);
    const senders = this.db.all('SELECT sender FROM messaging_service_senders WHERE service_sid = ? ORDER BY position', sid).map((r) => r.sender as string);
    return { messagingServiceSid: sid, senders };
  }

  /** Replace a service's pool (an empty list: back to the default sender). */
  set(messagingServiceSid: string, body: unknown): SenderPool {
    const sid = checkedSid(messagingServiceSid);
    const given = (body as { senders?: unknown } | null)?.senders;
    // a form body with one `senders` field decodes to a string
    const senders = typeof given === 'string' ? [given] : given;
    if (!Array.isArray(senders) || senders.some((s) => typeof s !== 'string')) throw invalidParameter('senders must be an array of strings');
    if (senders.length > MAX_POOL_SIZE) throw invalidParameter(`senders holds at most ${MAX_POOL_SIZE} senders`);
    const bad = (senders as string[]).find((s) => !validSender(s));
    if (bad !== undefined) throw invalidParameter(`Invalid sender ${bad}: use +E164, whatsapp:+E164, a short code or an alphanumeric sender ID`);
    const unique = [...new Set(senders as string[])];
    this.db.transaction(() => {
      this.db.run('DELETE FROM messaging_service_senders WHERE service_sid = ?', sid);
      unique.forEach((sender, position) => this.db.run('INSERT INTO messaging_service_senders (service_sid, position, sender) VALUES (?, ?, ?)', sid, position, sender));
    });
    return { messagingServiceSid: sid, senders: unique };
  }

  /** The sender the service sends to `to` from. */
  pick(messagingServiceSid: string, to: string): string {
    const whatsapp = to.startsWith('whatsapp:');
    const pooled = this.db.get(
      `SELECT sender FROM messaging_service_senders WHERE service_sid = ? AND (sender LIKE 'whatsapp:%') = ? ORDER BY position LIMIT 1`,
      messagingServiceSid, whatsapp ? 1 : 0,
    );
    return (pooled?.sender as string | undefined) ?? defaultSender(messagingServiceSid, to);
  }
}

function checkedSid(value: string): string {
  if (!isSid(value, 'MG')) throw invalidParameter(`Invalid MessagingServiceSid: ${value}. It must be MG followed by 32 hex characters`);
  return value;
}
