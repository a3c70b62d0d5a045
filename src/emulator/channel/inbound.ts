/**
 * What a handset sends (`POST /_emulator/inbound`), checked: `From` and `To` are `+E164` or `whatsapp:+E164` on
 * the same channel; `MediaUrl` (one or more) are http(s) URLs, with an optional `MediaContentType` each.
 * A `+` sent unencoded in a form body (`curl -d From=+1555…`) arrives as a space: refused with the fix.
 */
import { invalidParameter } from '../wire/errors.js';

export interface InboundMessage {
  from: string;
  to: string;
  channel: 'sms' | 'whatsapp';
  body: string;
  mediaUrls: string[];
  /** by position in mediaUrls; undefined: guessed from the URL */
  contentTypes: (string | undefined)[];
}

export function channelOf(address: string): 'sms' | 'whatsapp' {
  return address.startsWith('whatsapp:') ? 'whatsapp' : 'sms';
}

function list(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function address(value: unknown, name: 'From' | 'To'): string {
  const text = typeof value === 'string' ? value : '';
  const number = text.startsWith('whatsapp:') ? text.slice('whatsapp:'.length) : text;
  if (/^ \d/.test(number)) {
    throw invalidParameter(
      `${name} '${text}' starts with a space: a '+' sent unencoded in a form body arrives as a space. ` +
        `Encode it as %2B (curl: --data-urlencode '${name}=${text.replace(' ', '+')}') or send JSON`,
    );
  }
  return text;
}

function httpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

export function parseInbound(input: Record<string, unknown>): InboundMessage {
  const from = address(input.From, 'From');
  const to = address(input.To, 'To');
  if (!from || !to) throw invalidParameter('From and To are required');
  const channel = channelOf(from);
  if (channelOf(to) !== channel) throw invalidParameter('From and To must be on the same channel (both whatsapp: or both +E164)');
  const body = input.Body === undefined || input.Body === null ? '' : String(input.Body);
  const mediaUrls = list(input.MediaUrl);
  for (const url of mediaUrls) if (!httpUrl(url)) throw invalidParameter(`MediaUrl '${url}' is not an http(s) URL`);
  const types = list(input.MediaContentType);
  if (types.length > mediaUrls.length) throw invalidParameter('MediaContentType needs a MediaUrl for each value');
  return { from, to, channel, body, mediaUrls, contentTypes: mediaUrls.map((_, i) => types[i] || undefined) };
}
