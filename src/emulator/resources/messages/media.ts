/**
 * A message's media, in the two casings Twilio writes it (twilio-facts.md §9): REST `media[]` items are snake_case
 * (`sid`, `size`, `content_type`, `filename`, `category: "media"`); webhook `Media` is a JSON string of the same
 * items in PascalCase (`Sid`, `Size`, `ContentType`, `Filename`, `Category`), as public Flex channel handlers read it.
 * Stored once, REST-shaped, in `messages.media`. There is no Media service: a `MediaSid` gets placeholder metadata,
 * an inbound MMS gets what its URL tells (file name, content type by extension, size 0).
 */
import type { RandomSource } from '../../random.js';
import { newSid } from '../../wire/sid.js';

export interface MediaItem {
  sid: string;
  size: number;
  content_type: string;
  filename: string | null;
  category: string;
}

const OCTET_STREAM = 'application/octet-stream';

/** The content types Twilio accepts for MMS, by file extension (anything else is octet-stream). */
const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', bmp: 'image/bmp',
  mp3: 'audio/mpeg', ogg: 'audio/ogg', amr: 'audio/amr', wav: 'audio/wav', m4a: 'audio/mp4',
  mp4: 'video/mp4', '3gp': 'video/3gpp', mov: 'video/quicktime',
  pdf: 'application/pdf', vcf: 'text/vcard', txt: 'text/plain', csv: 'text/csv',
};

/** The item a message made with `MediaSid` stores. */
export function mediaOfSid(sid: string): MediaItem[] {
  return [{ sid, size: 0, content_type: OCTET_STREAM, filename: null, category: 'media' }];
}

function fileName(url: string): string {
  const last = new URL(url).pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** A media URL's content type: the one given, else guessed from its file name's extension. */
export function contentTypeOf(url: string, given: string | undefined): string {
  const name = fileName(url);
  const extension = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  return given ?? CONTENT_TYPES[extension] ?? OCTET_STREAM;
}

/** The items an inbound MMS stores: one per `MediaUrl`, its type given or guessed from the URL's extension. */
export function mediaOfUrls(urls: string[], contentTypes: (string | undefined)[], random: RandomSource): MediaItem[] {
  return urls.map((url, i) => ({
    sid: newSid('ME', random),
    size: 0,
    content_type: contentTypeOf(url, contentTypes[i]),
    filename: fileName(url) || null,
    category: 'media',
  }));
}

function items(stored: unknown): MediaItem[] | null {
  if (stored === null || stored === undefined) return null;
  return JSON.parse(String(stored)) as MediaItem[];
}

/** REST `media`: the stored items, each with its `category` (rows stored before it existed get "media"). */
export function restMedia(stored: unknown): MediaItem[] | null {
  return items(stored)?.map((m) => ({ ...m, category: m.category ?? 'media' })) ?? null;
}

/** Webhook `Media`: a JSON string of PascalCase items, or undefined when the message has none. */
export function webhookMedia(stored: unknown): string | undefined {
  const list = restMedia(stored);
  if (!list) return undefined;
  return JSON.stringify(list.map((m) => ({ Sid: m.sid, Filename: m.filename, ContentType: m.content_type, Size: m.size, Category: m.category })));
}
