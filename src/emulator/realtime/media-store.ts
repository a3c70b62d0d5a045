/**
 * Media the client SDKs upload (MCS): kept in memory, bounded by item size and total bytes (the oldest goes
 * first), gone at restart. A message names media by SID; its metadata is copied into the message row, so REST
 * and webhooks describe it even after the bytes are evicted.
 */
import type { RandomSource } from '../random.js';
import { newSid } from '../wire/sid.js';

/** Twilio's Conversations limit is 5 MB per attachment (Configuration media_attachment_size_limit_in_mb) */
export const MAX_MEDIA_BYTES = 5 * 1024 * 1024;
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

export interface StoredMedia {
  sid: string;
  accountSid: string;
  serviceSid: string;
  author: string;
  contentType: string;
  filename: string | null;
  category: string;
  bytes: Buffer;
  /** epoch ms */
  dateCreated: number;
}

export class MediaStore {
  private readonly items = new Map<string, StoredMedia>();
  private total = 0;

  constructor(private readonly random: RandomSource) {}

  add(media: Omit<StoredMedia, 'sid'>): StoredMedia {
    if (media.bytes.length > MAX_MEDIA_BYTES) throw new RangeError(`media is limited to ${MAX_MEDIA_BYTES} bytes, got ${media.bytes.length}`);
    const stored = { ...media, sid: newSid('ME', this.random) };
    while (this.total + stored.bytes.length > MAX_TOTAL_BYTES && this.items.size > 0) {
      const [sid, oldest] = this.items.entries().next().value as [string, StoredMedia];
      this.items.delete(sid);
      this.total -= oldest.bytes.length;
    }
    this.items.set(stored.sid, stored);
    this.total += stored.bytes.length;
    return stored;
  }

  get(sid: string): StoredMedia | undefined {
    return this.items.get(sid);
  }
}
