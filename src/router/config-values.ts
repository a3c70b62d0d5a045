/**
 * One parser per kind of configuration value. Each takes the raw value (a string from a flag or the environment,
 * or whatever TOML produced) and the label of where it came from (`--port`, `TCE_ROUTER_PORT`,
 * `router.toml: router.port`), and either returns the typed value or throws a RouterConfigError naming that label.
 */

/** Bad configuration: the message names the flag, the environment variable, or the file and key. */
export class RouterConfigError extends Error {
  override name = 'RouterConfigError';
}

export type Parser<T> = (value: unknown, label: string) => T;

function got(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? JSON.stringify(value) : Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value === 'object' ? 'table' : typeof value}`;
}

export function fail(label: string, expected: string, value?: unknown): never {
  throw new RouterConfigError(`${label}: expected ${expected}${value === undefined ? '' : `, got ${got(value)}`}`);
}

function integer(value: unknown, label: string, min: number, max: number, expected: string): number {
  // flags and environment give strings; only plain decimal digits count (no "1e3", " 42", "0x10")
  const n = typeof value === 'string' && /^-?[0-9]+$/.test(value) ? Number(value) : typeof value === 'number' ? value : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(label, expected, value);
  return n;
}

export const parsePort: Parser<number> = (v, label) => integer(v, label, 0, 65535, 'an integer 0-65535');
export const parsePositiveInt: Parser<number> = (v, label) => integer(v, label, 1, Number.MAX_SAFE_INTEGER, 'a positive integer');
export const parseNonNegativeInt: Parser<number> = (v, label) => integer(v, label, 0, Number.MAX_SAFE_INTEGER, 'an integer ≥ 0');

/** TOML has real booleans: a string "yes" there is a mistake, not a true. */
export const parseBoolean: Parser<boolean> = (v, label) => {
  if (typeof v !== 'boolean') fail(label, 'true or false', v);
  return v;
};

/** The environment has only strings. */
export const parseEnvBoolean: Parser<boolean> = (v, label) => {
  if (typeof v === 'boolean') return v;
  const s = typeof v === 'string' ? v.toLowerCase() : '';
  if (s === 'true' || s === '1' || s === 'yes') return true;
  if (s === 'false' || s === '0' || s === 'no') return false;
  return fail(label, 'true or false', v);
};

export const parseNonEmptyString: Parser<string> = (v, label) => {
  if (typeof v !== 'string' || v.trim() === '') fail(label, 'a non-empty string', v);
  return v;
};

export const parseHost: Parser<string> = (v, label) => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9._:%-]+$/.test(v)) fail(label, 'a host name or IP address', v);
  return v;
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const parseLogLevel: Parser<string> = (v, label) => {
  if (typeof v !== 'string' || !(LOG_LEVELS as readonly string[]).includes(v)) fail(label, `one of ${LOG_LEVELS.join(', ')}`, v);
  return v;
};

/**
 * A base URL Twilio posts to, or the router calls. Kept as the operator wrote it (only a trailing `/` dropped):
 * signatures are computed over the exact URL, so `https://host:443` must not quietly become `https://host`.
 */
export const parseBaseUrl: Parser<string> = (v, label) => {
  let url: URL | undefined;
  try {
    url = typeof v === 'string' ? new URL(v) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) fail(label, 'an http:// or https:// URL', v);
  if (url.search !== '' || url.hash !== '' || (v as string).includes('?') || (v as string).includes('#')) fail(label, 'a base URL without query or fragment', v);
  return (v as string).replace(/\/+$/, '');
};

/** A database or Redis URL: its value is never echoed (it may hold a password). */
function secretUrl(protocols: string[]): Parser<string> {
  const expected = `a ${protocols.map((p) => `${p}//`).join(' or ')} URL (the value is not shown: it may hold a password)`;
  return (v, label) => {
    let url: URL | undefined;
    try {
      url = typeof v === 'string' ? new URL(v) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || !protocols.includes(url.protocol)) fail(label, expected);
    return v as string;
  };
}
export const parseDatabaseUrl = secretUrl(['postgres:', 'postgresql:']);
export const parseRedisUrl = secretUrl(['redis:', 'rediss:']);

/** Interpolated into SQL as an identifier: a plain one only. */
export const parseSchemaName: Parser<string> = (v, label) => {
  if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(v)) fail(label, 'a PostgreSQL identifier (letters, digits, _)', v);
  return v;
};

export function parseSid(prefix: string): Parser<string> {
  return (v, label) => {
    if (typeof v !== 'string' || !new RegExp(`^${prefix}[0-9a-fA-F]{32}$`).test(v)) fail(label, `${prefix} followed by 32 hex digits`, v);
    return v;
  };
}

/** A webhook path: absolute, no query, no fragment, no whitespace. */
export const parsePath: Parser<string> = (v, label) => {
  if (typeof v !== 'string' || !/^\/[^?#\s]*$/.test(v)) fail(label, 'a path starting with / (no query, no whitespace)', v);
  return v;
};

export function parseStringList(item: Parser<string>): Parser<string[]> {
  return (v, label) => {
    if (!Array.isArray(v)) fail(label, 'an array of strings', v);
    return v.map((x, i) => item(x, `${label}[${i}]`));
  };
}

/** STOP/START/HELP words: matched trimmed and case-insensitively, so kept trimmed and upper-cased. */
export const parseKeyword: Parser<string> = (v, label) => parseNonEmptyString(v, label).trim().toUpperCase();

export const parseRegex: Parser<string> = (v, label) => {
  const s = parseNonEmptyString(v, label);
  try {
    new RegExp(s);
  } catch (err) {
    throw new RouterConfigError(`${label}: not a valid regular expression: ${(err as Error).message}`);
  }
  return s;
};

/** Phone number (E.164), short code, or Messaging Service SID. */
export const parseProxyAddress: Parser<string> = (v, label) => {
  if (typeof v !== 'string' || !/^(\+[1-9][0-9]{1,14}|[0-9]{3,8}|MG[0-9a-fA-F]{32})$/.test(v)) fail(label, 'an E.164 number (+15551234567), a short code or an MG… SID', v);
  return v;
};

/** `whatsapp:+E164`; a bare `+E164` gets the prefix (Twilio's binding address needs it). */
export const parseWhatsappAddress: Parser<string> = (v, label) => {
  if (typeof v !== 'string' || !/^(whatsapp:)?\+[1-9][0-9]{1,14}$/.test(v)) fail(label, 'whatsapp:+<E.164 number>', v);
  return v.startsWith('whatsapp:') ? v : `whatsapp:${v}`;
};

/** Prefix of UniqueNames `<tenant>:sms:+E164`: no `:` of its own, so the name splits back unambiguously. */
export const parseTenant: Parser<string> = (v, label) => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(v)) fail(label, 'letters, digits, _ . - (1-64 characters)', v);
  return v;
};

export const FALLBACK_CHANNELS = ['whatsapp', 'sms', 'task'] as const;
export type FallbackChannel = (typeof FALLBACK_CHANNELS)[number];
export const parseFallbackOrder: Parser<FallbackChannel[]> = (v, label) => {
  const list = parseStringList((x, l) => {
    if (typeof x !== 'string' || !(FALLBACK_CHANNELS as readonly string[]).includes(x)) fail(l, FALLBACK_CHANNELS.join(', '), x);
    return x;
  })(v, label) as FallbackChannel[];
  const dup = list.find((x, i) => list.indexOf(x) !== i);
  if (dup) throw new RouterConfigError(`${label}: ${JSON.stringify(dup)} appears twice`);
  return list;
};
