/**
 * The router's twilio SDK client: API-key auth when TWILIO_API_KEY_SID / SECRET are given (preferred: a key can be
 * revoked alone), else the account's auth token; every request through TwilioHttpClient (deadline, retries,
 * bounded concurrency, and the emulator's origin in tests).
 */
import twilio from 'twilio';
import type { Logger } from 'pino';
import type { RouterConfig } from '../config-types.js';
import type { KeyValueStore } from '../store/types.js';
import { TwilioHttpClient, type RetryInfo } from './http-client.js';

export type TwilioClient = ReturnType<typeof twilio>;

export interface TwilioClientDeps {
  logger?: Logger;
  /** shared backoff across replicas (`twilio:backoff-until`) */
  backoffStore?: KeyValueStore;
  onRetry?: (info: RetryInfo) => void;
  /** backoff tuning (tests) */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface RouterTwilio {
  client: TwilioClient;
  http: TwilioHttpClient;
  /** 'api-key' or 'auth-token': what the client authenticates with */
  auth: 'api-key' | 'auth-token';
}

type TwilioConfig = Pick<RouterConfig, 'twilioUrl' | 'accountSid' | 'authToken' | 'apiKeySid' | 'apiKeySecret' | 'twilio'>;

export function createTwilioClient(config: TwilioConfig, deps: TwilioClientDeps = {}): RouterTwilio {
  const { accountSid, authToken, apiKeySid, apiKeySecret } = config;
  if (!accountSid) throw new Error('TWILIO_ACCOUNT_SID is required to call Twilio');
  if (!/^AC[0-9a-fA-F]{32}$/.test(accountSid)) throw new Error('TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits');
  if (Boolean(apiKeySid) !== Boolean(apiKeySecret)) {
    throw new Error('TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET go together: give both, or neither (then TWILIO_AUTH_TOKEN)');
  }
  if (apiKeySid && !/^SK[0-9a-fA-F]{32}$/.test(apiKeySid)) throw new Error('TWILIO_API_KEY_SID must be SK followed by 32 hex digits');
  if (!apiKeySid && !authToken) {
    throw new Error('no Twilio credentials: set TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET (preferred), or TWILIO_AUTH_TOKEN');
  }
  const http = new TwilioHttpClient({
    twilioUrl: config.twilioUrl,
    maxConcurrency: config.twilio.maxConcurrency,
    timeoutMs: config.twilio.timeoutMs,
    maxRetries: config.twilio.maxRetries,
    logger: deps.logger,
    backoffStore: deps.backoffStore,
    onRetry: deps.onRetry,
    baseDelayMs: deps.baseDelayMs,
    maxDelayMs: deps.maxDelayMs,
  });
  // autoRetry stays off: TwilioHttpClient retries, with the deadline and the concurrency bound in view
  const client = apiKeySid
    ? twilio(apiKeySid, apiKeySecret, { accountSid, httpClient: http })
    : twilio(accountSid, authToken, { accountSid, httpClient: http });
  return { client, http, auth: apiKeySid ? 'api-key' : 'auth-token' };
}
