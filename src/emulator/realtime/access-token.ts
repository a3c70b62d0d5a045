/**
 * Access Tokens for the client SDKs: the JWTs `twilio.jwt.AccessToken` makes with a `ChatGrant`, verified against
 * the account's API keys and the emulator's clock, and minted for tests (`emulator.clientToken`, `tce token`).
 * The SDK never reads its token; everything here is the server's side of it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Database } from '../store/database.js';

/** what `twilio.jwt.AccessToken` may sign with (its `algorithm` option) */
const ALGORITHMS = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' } as const;
type Algorithm = keyof typeof ALGORITHMS;

/** a token is a few hundred bytes; far longer is not one (and must not cost a big HMAC) */
const MAX_TOKEN_LENGTH = 16 * 1024;

/** Who a verified token speaks for. */
export interface ClientIdentity {
  accountSid: string;
  /** the API key (SK…) that signed it */
  keySid: string;
  identity: string;
  /** the Conversation Service its chat grant names */
  serviceSid: string;
  /** epoch ms */
  expiresAt: number;
  /** the chat grant's push credential (CR…), which push registrations (setPushRegistrationId) bind to */
  pushCredentialSid?: string;
}

/**
 * Twilio's Access Token error codes (twilio.com/docs/api/errors 2010x). `status` is what twilsock replies with:
 * 401 for a token that does not prove anything, 403 for one that proves but grants nothing here.
 */
export class AccessTokenError extends Error {
  constructor(
    readonly code: 20101 | 20102 | 20103 | 20104 | 20105 | 20106 | 20107,
    message: string,
    readonly status: 401 | 403 = 401,
  ) {
    super(message);
  }
}

interface KeyRow {
  sid: string;
  accountSid: string;
  secret: string;
}

function apiKey(db: Database, sid: string): KeyRow | undefined {
  const row = db.get('SELECT sid, account_sid, secret FROM api_keys WHERE sid = ?', sid);
  return row ? { sid: row.sid as string, accountSid: row.account_sid as string, secret: row.secret as string } : undefined;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function decodePart(part: string, what: string, code: 20101 | 20102): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new AccessTokenError(code, `Invalid Access Token: its ${what} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AccessTokenError(code, `Invalid Access Token: its ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function signature(algorithm: Algorithm, secret: string, signingInput: string): Buffer {
  return createHmac(ALGORITHMS[algorithm], secret).update(signingInput).digest();
}

/** The chat grant (`chat`, or the older `ip_messaging` of Twilio's docs example) and the identity. */
function grantsOf(payload: Record<string, unknown>): { identity: string; serviceSid: string; pushCredentialSid?: string } {
  const grants = payload.grants;
  if (typeof grants !== 'object' || grants === null) throw new AccessTokenError(20106, 'Invalid Access Token grants: the token has no grants', 403);
  const g = grants as Record<string, unknown>;
  const identity = g.identity;
  if (typeof identity !== 'string' || identity === '') {
    throw new AccessTokenError(20106, 'Invalid Access Token grants: grants.identity is missing (AccessToken option identity)', 403);
  }
  const chat = (g.chat ?? g.ip_messaging) as Record<string, unknown> | undefined;
  if (typeof chat !== 'object' || chat === null) {
    throw new AccessTokenError(20106, 'Invalid Access Token grants: no chat grant (add a ChatGrant to the AccessToken)', 403);
  }
  const serviceSid = chat.service_sid;
  if (typeof serviceSid !== 'string' || serviceSid === '') {
    throw new AccessTokenError(20106, 'Invalid Access Token grants: the chat grant has no service_sid (ChatGrant serviceSid)', 403);
  }
  const push = chat.push_credential_sid;
  return { identity, serviceSid, ...(typeof push === 'string' && push !== '' ? { pushCredentialSid: push } : {}) };
}

/**
 * The identity a token proves at `now` (epoch ms), or an AccessTokenError saying why not: malformed, unknown key,
 * key of another account, bad signature, expired, not yet valid, no chat grant, or a service the account lacks.
 */
export function verifyAccessToken(db: Database, token: unknown, now: number): ClientIdentity {
  if (typeof token !== 'string' || token === '') throw new AccessTokenError(20101, 'Invalid Access Token: no token given');
  if (token.length > MAX_TOKEN_LENGTH) throw new AccessTokenError(20101, `Invalid Access Token: longer than ${MAX_TOKEN_LENGTH} characters`);
  const parts = token.split('.');
  if (parts.length !== 3) throw new AccessTokenError(20101, 'Invalid Access Token: a JWT has three dot-separated parts');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodePart(headerPart, 'header', 20102);
  const algorithm = header.alg;
  if (typeof algorithm !== 'string' || !(algorithm in ALGORITHMS)) {
    throw new AccessTokenError(20102, `Invalid Access Token header: alg must be HS256, HS384 or HS512, got ${String(algorithm)}`);
  }
  const payload = decodePart(payloadPart, 'payload', 20101);
  const keySid = payload.iss;
  const accountSid = payload.sub;
  if (typeof keySid !== 'string' || typeof accountSid !== 'string') {
    throw new AccessTokenError(20103, 'Invalid Access Token issuer/subject: iss must be an API key SID (SK…) and sub an Account SID (AC…)');
  }
  const key = apiKey(db, keySid);
  if (!key) throw new AccessTokenError(20103, `Invalid Access Token issuer/subject: API key ${keySid} does not exist`);
  if (key.accountSid !== accountSid) {
    throw new AccessTokenError(20103, `Invalid Access Token issuer/subject: API key ${keySid} does not belong to account ${accountSid}`);
  }
  const expected = signature(algorithm as Algorithm, key.secret, `${headerPart}.${payloadPart}`);
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AccessTokenError(20107, `Invalid Access Token signature: not signed with the secret of API key ${keySid}`);
  }
  const exp = payload.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new AccessTokenError(20104, 'Access Token expired or expiration date invalid: exp is missing');
  if (exp * 1000 <= now) {
    throw new AccessTokenError(20104, `Access Token expired or expiration date invalid: it expired at ${new Date(exp * 1000).toISOString()}, the emulator's clock says ${new Date(now).toISOString()}`);
  }
  const nbf = payload.nbf;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf * 1000 > now)) {
    throw new AccessTokenError(20105, `Access Token not yet valid: nbf is ${typeof nbf === 'number' ? new Date(nbf * 1000).toISOString() : String(nbf)}, the emulator's clock says ${new Date(now).toISOString()}`);
  }
  const { identity, serviceSid, pushCredentialSid } = grantsOf(payload);
  if (!db.get('SELECT 1 FROM services WHERE sid = ? AND account_sid = ?', serviceSid, accountSid)) {
    throw new AccessTokenError(20106, `Invalid Access Token grants: Conversation Service ${serviceSid} does not exist in account ${accountSid}`, 403);
  }
  return { accountSid, keySid, identity, serviceSid, expiresAt: exp * 1000, ...(pushCredentialSid ? { pushCredentialSid } : {}) };
}

export interface MintOptions {
  identity: string;
  serviceSid: string;
  /** seconds (default 3600, as twilio.jwt.AccessToken) */
  ttl?: number;
  /** epoch ms the token is issued at: the emulator's clock, so a manual clock gets tokens valid for it */
  now: number;
  /** the ChatGrant's pushCredentialSid (push registrations bind to it) */
  pushCredentialSid?: string;
}

/** The token `twilio.jwt.AccessToken` would make with this key and a ChatGrant, issued at the emulator's time. */
export function mintAccessToken(key: KeyRow, options: MintOptions): string {
  const ttl = options.ttl ?? 3600;
  if (!Number.isInteger(ttl) || ttl <= 0) throw new RangeError(`ttl must be a whole number of seconds > 0, got ${ttl}`);
  if (options.identity === '') throw new RangeError('identity must not be empty');
  const iat = Math.floor(options.now / 1000);
  const header = { typ: 'JWT', alg: 'HS256', cty: 'twilio-fpa;v=1' };
  const payload = {
    jti: `${key.sid}-${iat}`,
    grants: { identity: options.identity, chat: { service_sid: options.serviceSid, ...(options.pushCredentialSid ? { push_credential_sid: options.pushCredentialSid } : {}) } },
    iat,
    exp: iat + ttl,
    iss: key.sid,
    sub: key.accountSid,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  return `${signingInput}.${base64url(signature('HS256', key.secret, signingInput))}`;
}
