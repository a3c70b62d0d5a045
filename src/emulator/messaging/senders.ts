/**
 * Which sender a Messaging Service picks. The emulator keeps no Messaging Service resource, so every `MG…` SID
 * has a default sender derived from it: the same number every time, `+1555` and seven digits (the fictional
 * 555 exchange), `whatsapp:`-prefixed for a WhatsApp recipient.
 */
import { createHash } from 'node:crypto';

export function defaultSender(messagingServiceSid: string, to: string): string {
  const digits = BigInt(`0x${createHash('sha256').update(`sender|${messagingServiceSid.toLowerCase()}`).digest('hex').slice(0, 12)}`) % 10_000_000n;
  const number = `+1555${digits.toString().padStart(7, '0')}`;
  return to.startsWith('whatsapp:') ? `whatsapp:${number}` : number;
}
