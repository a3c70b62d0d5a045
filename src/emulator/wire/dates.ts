/** Dates on the wire: REST JSON uses `YYYY-MM-DDTHH:MM:SSZ` (UTC, to the second); webhooks add milliseconds. */

// Rows written together share their second: remember the last two answers (hot in list pages).
let cachedSecond = NaN;
let cachedText = '';
let previousSecond = NaN;
let previousText = '';

export function isoSeconds(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second === cachedSecond) return cachedText;
  if (second === previousSecond) return previousText;
  const text = new Date(second * 1000).toISOString().slice(0, 19) + 'Z';
  previousSecond = cachedSecond;
  previousText = cachedText;
  cachedSecond = second;
  cachedText = text;
  return text;
}

// Webhook payloads and journal attempts format the same millisecond many times in a row.
let cachedMillis = NaN;
let cachedMillisText = '';

export function isoMillis(epochMs: number): string {
  if (epochMs !== cachedMillis) {
    cachedMillisText = new Date(epochMs).toISOString();
    cachedMillis = epochMs;
  }
  return cachedMillisText;
}

/** Parse an ISO-8601 date-time as Twilio accepts it in form fields; undefined when it is not one. */
export function parseDateTime(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return undefined;
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * ISO-8601 durations as Conversation timers take them (`PT1M`, `P1DT2H`, `PT90S`). Returns milliseconds,
 * or undefined when the text is not a duration. Years and months are refused: their length is ambiguous.
 */
export function parseDuration(value: string): number | undefined {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  if (!m || value === 'P' || value.endsWith('T')) return undefined;
  const [, w, d, h, min, s] = m;
  const seconds =
    Number(w ?? 0) * 604800 + Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
  return Math.round(seconds * 1000);
}
