/**
 * Messaging bindings: how a non-chat participant is reached. Addresses are checked with libphonenumber-js
 * (a real phone-number library): E.164 as written, and a possible number for its country.
 * `whatsapp:+E164` selects the WhatsApp channel; a bare `+E164` is SMS.
 */
import { createRequire } from 'node:module';
import type { PhoneNumber } from 'libphonenumber-js';
import type { ErrorName } from '../../wire/errors.js';
import { twilioError } from '../../wire/errors.js';

export type Channel = 'sms' | 'whatsapp';

export interface ParsedAddress {
  channel: Channel;
  /** the E.164 number without channel prefix */
  number: string;
}

const MAX_ADDRESS = 256;

type Parse = (text: string) => PhoneNumber | undefined;
let parsePhoneNumber: Parse | undefined;

/**
 * libphonenumber-js costs ~40 ms to load: loaded on first use (and warmed after start-up by `preloadPhoneNumbers`)
 * rather than on the emulator's start-up path. require() keeps the call synchronous.
 */
function parser(): Parse {
  parsePhoneNumber ??= (createRequire(import.meta.url)('libphonenumber-js/min') as { parsePhoneNumberFromString: Parse })
    .parsePhoneNumberFromString;
  return parsePhoneNumber;
}

/** A number as its country writes it (`(415) 555-0100` in the US): the default FriendlyName of a phone number. */
export function nationalFormat(number: string): string {
  return parser()(number)?.formatNational() ?? number;
}

export function preloadPhoneNumbers(): void {
  parser();
}

export function e164Problem(number: string): string | undefined {
  if (!number.startsWith('+')) return `${number} is not in E.164 format (it must start with +)`;
  const phone = parser()(number);
  if (!phone || phone.number !== number) return `${number} is not in E.164 format`;
  if (!phone.isPossible()) return `${number} is not a possible phone number`;
  return undefined;
}

export function parseAddress(value: string, error: ErrorName): ParsedAddress {
  if (value.length > MAX_ADDRESS) throw twilioError(error, { reason: `longer than ${MAX_ADDRESS} characters` });
  const whatsapp = value.startsWith('whatsapp:');
  const number = whatsapp ? value.slice('whatsapp:'.length) : value;
  const problem = e164Problem(number);
  if (problem) throw twilioError(error, { reason: problem });
  return { channel: whatsapp ? 'whatsapp' : 'sms', number };
}
