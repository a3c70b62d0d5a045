/** What the Messaging API accepts as a recipient and as a sender. */
import { e164Problem } from '../resources/participants/binding.js';

/** `+E164` is SMS, `whatsapp:+E164` WhatsApp; anything else is not an address the channel can reach. */
export function channelAddress(value: string): { channel: 'sms' | 'whatsapp'; problem?: string } {
  const whatsapp = value.startsWith('whatsapp:');
  const problem = value.length > 256 ? 'too long' : e164Problem(whatsapp ? value.slice('whatsapp:'.length) : value);
  return { channel: whatsapp ? 'whatsapp' : 'sms', problem };
}

/** A sender: an E.164 number (or whatsapp: one), a short code, or an alphanumeric sender ID. */
export function validSender(from: string): boolean {
  if (from.startsWith('whatsapp:') || from.startsWith('+')) return channelAddress(from).problem === undefined;
  if (/^\d{5,6}$/.test(from)) return true;
  return /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/.test(from);
}
