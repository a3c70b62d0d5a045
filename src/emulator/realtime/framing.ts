/**
 * Twilsock V3.0 framing: every WebSocket message is `TWILSOCK V3.0 <header bytes>\r\n<header JSON>\r\n<payload>`,
 * the header carrying `method`, `id` and `payload_size` (bytes). JSON payloads are parsed when `payload_type` is
 * absent or application/json, as the SDK's own parser does (twilsock src/parser.ts).
 */

const MAGIC = 'TWILSOCK V3.0 ';
/** the magic line is short; a frame whose first CRLF is further away is not twilsock */
const MAX_MAGIC_LENGTH = 32;
const CRLF = '\r\n';

export interface TwilsockHeader {
  method: string;
  id: string;
  payload_size?: number;
  payload_type?: string;
  [field: string]: unknown;
}

export interface TwilsockFrame {
  header: TwilsockHeader;
  /** the payload as text ('' when there is none) */
  text: string;
  /** the payload parsed, when it is JSON */
  json?: unknown;
}

/** A frame that breaks the protocol: the session closes with 406, as Twilio's server does. */
export class FramingError extends Error {}

function isJsonType(type: string | undefined): boolean {
  return type === undefined || type.startsWith('application/json');
}

export function decodeFrame(data: Buffer): TwilsockFrame {
  const end = data.indexOf(CRLF);
  if (end < 0 || end > MAX_MAGIC_LENGTH) throw new FramingError('not a twilsock frame: no "TWILSOCK V3.0 <n>" line');
  const magic = data.toString('latin1', 0, end);
  if (!magic.startsWith(MAGIC)) throw new FramingError(`unsupported protocol: "${magic}" (this server speaks TWILSOCK V3.0)`);
  const headerSize = Number(magic.slice(MAGIC.length));
  const headerStart = end + CRLF.length;
  if (!Number.isInteger(headerSize) || headerSize <= 0 || headerStart + headerSize > data.length) {
    throw new FramingError(`bad header size in "${magic}" for a frame of ${data.length} bytes`);
  }
  let header: unknown;
  try {
    header = JSON.parse(data.toString('utf8', headerStart, headerStart + headerSize));
  } catch {
    throw new FramingError('the frame header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new FramingError('the frame header is not a JSON object');
  const h = header as TwilsockHeader;
  if (typeof h.method !== 'string' || h.method === '') throw new FramingError('the frame header has no method');
  if (typeof h.id !== 'string' || h.id === '') throw new FramingError('the frame header has no id');
  const size = h.payload_size ?? 0;
  const payloadStart = headerStart + headerSize + CRLF.length;
  if (!Number.isInteger(size) || size < 0 || (size > 0 && payloadStart + size > data.length)) {
    throw new FramingError(`payload_size ${String(h.payload_size)} does not fit a frame of ${data.length} bytes`);
  }
  const text = size > 0 ? data.toString('utf8', payloadStart, payloadStart + size) : '';
  if (text === '' || !isJsonType(h.payload_type)) return { header: h, text };
  try {
    return { header: h, text, json: JSON.parse(text) };
  } catch {
    throw new FramingError(`the payload of ${h.method} ${h.id} is not the JSON its payload_type says`);
  }
}

/** A frame for the client; an object payload is sent as JSON. */
export function encodeFrame(header: Omit<TwilsockHeader, 'payload_size'>, payload?: unknown): Buffer {
  const text = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
  const full: TwilsockHeader = { ...header, payload_size: Buffer.byteLength(text) } as TwilsockHeader;
  if (text !== '' && typeof payload !== 'string' && full.payload_type === undefined) full.payload_type = 'application/json';
  const headerText = JSON.stringify(full);
  return Buffer.from(`${MAGIC}${Buffer.byteLength(headerText)}${CRLF}${headerText}${CRLF}${text}`, 'utf8');
}
