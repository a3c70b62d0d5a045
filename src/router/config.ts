/**
 * The router's configuration: flag, else environment, else `--config` TOML, else default. Credentials come from
 * the environment only. Every bad value throws a RouterConfigError naming where it came from.
 */
import type { RouterConfig } from './config-types.js';
import type { RouterFlags } from './config-args.js';
import { readConfigFile, type FileConfig } from './config-file.js';
import {
  RouterConfigError,
  parseBaseUrl,
  parseEnvBoolean,
  parseDatabaseUrl,
  parseHost,
  parseLogLevel,
  parseNonEmptyString,
  parsePort,
  parsePositiveInt,
  parseProxyAddress,
  parseRedisUrl,
  parseSchemaName,
  parseSid,
  parseWhatsappAddress,
  type Parser,
} from './config-values.js';

export { RouterConfigError } from './config-values.js';
export { parseRouterArgs, routerUsage, type RouterFlags, type RouterCommand } from './config-args.js';
export { parseConfigText } from './config-file.js';
export type { RouterConfig } from './config-types.js';

export type RouterEnv = Record<string, string | undefined>;

export function defaultRouterConfig(): RouterConfig {
  return {
    port: 4520,
    host: '127.0.0.1',
    db: '.tce/router.sqlite',
    databaseSchema: 'public',
    redisKeyPrefix: 'tce:router:',
    ingressOnly: false,
    trustProxy: false,
    paths: {
      webhook: '/twilio/conversations/webhook',
      preEvent: '/twilio/conversations/pre-event',
      inbound: '/twilio/messaging/inbound',
      status: '/twilio/messaging/status',
    },
    validateSignature: true,
    maxProcessingMs: 10_000,
    // 7 days: longer than any retry schedule of Twilio's or of a replaying proxy
    dedupeTtlSeconds: 604_800,
    compliance: {
      // Twilio's default opt-out keywords
      stopKeywords: ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'],
      startKeywords: ['START', 'YES', 'UNSTOP'],
      helpKeywords: ['HELP', 'INFO'],
      helpText: 'Reply STOP to unsubscribe, START to subscribe again.',
    },
    preEvent: { allowedIdentities: [], enforceTenant: false, piiPatterns: [] },
    fallback: { order: [] },
    worker: { concurrency: 16, leaseMs: 30_000, maxAttempts: 10, thread: false },
    twilio: { maxConcurrency: 16, timeoutMs: 10_000, maxRetries: 5 },
    logLevel: 'info',
  };
}

/** Paths the router serves itself: a webhook path may not shadow them. */
const RESERVED_PATHS = ['/healthz', '/readyz', '/metrics'];

/** One candidate source: a flag (checked even when empty) or an environment variable (empty counts as unset). */
type Source = { label: string; value: string | boolean | undefined; env?: boolean };

function pick<T>(sources: Source[], parse: Parser<T>, fromFile: T | undefined, fallback: T): T;
function pick<T>(sources: Source[], parse: Parser<T>, fromFile: T | undefined): T | undefined;
function pick<T>(sources: Source[], parse: Parser<T>, fromFile: T | undefined, fallback?: T): T | undefined {
  for (const s of sources) {
    if (s.value === undefined || (s.env && s.value === '')) continue;
    return parse(s.value, s.label);
  }
  return fromFile ?? fallback;
}

const flag = (label: string, value: string | boolean | undefined): Source => ({ label, value });
const envVar = (env: RouterEnv, name: string): Source => ({ label: name, value: env[name], env: true });

export interface ResolveOptions {
  /** `false` for commands that never talk to Twilio nor check signatures (`tce router replay`); default true */
  requireCredentials?: boolean;
}

export async function resolveRouterConfig(flags: RouterFlags, env: RouterEnv, options: ResolveOptions = {}): Promise<RouterConfig> {
  const d = defaultRouterConfig();
  const configSource = [flag('--config', flags.config), envVar(env, 'TCE_ROUTER_CONFIG')].find((s) => s.value !== undefined && !(s.env && s.value === ''));
  const fileConfig: FileConfig | undefined = configSource ? await readConfigFile(parseNonEmptyString(configSource.value, configSource.label), configSource.label) : undefined;
  const f = fileConfig?.values ?? {};
  const where = fileConfig?.file ?? 'configuration';

  const secret = (name: string, parse: Parser<string> = parseNonEmptyString) => pick([envVar(env, name)], parse, undefined);
  const config: RouterConfig = {
    port: pick([flag('--port', flags.port), envVar(env, 'TCE_ROUTER_PORT')], parsePort, f.port, d.port),
    host: pick([flag('--host', flags.host), envVar(env, 'TCE_ROUTER_HOST')], parseHost, f.host, d.host),
    db: pick([flag('--db', flags.db), envVar(env, 'TCE_ROUTER_DB')], parseNonEmptyString, f.db, d.db),
    databaseUrl: pick([flag('--database-url', flags.databaseUrl), envVar(env, 'DATABASE_URL')], parseDatabaseUrl, f.databaseUrl),
    databaseSchema: pick([flag('--database-schema', flags.databaseSchema), envVar(env, 'TCE_ROUTER_DATABASE_SCHEMA')], parseSchemaName, f.databaseSchema, d.databaseSchema),
    redisUrl: pick([flag('--redis-url', flags.redisUrl), envVar(env, 'REDIS_URL'), envVar(env, 'SUPPRESSION_REDIS_URL')], parseRedisUrl, f.redisUrl),
    redisKeyPrefix: pick([flag('--redis-key-prefix', flags.redisKeyPrefix), envVar(env, 'TCE_ROUTER_REDIS_KEY_PREFIX')], parseNonEmptyString, f.redisKeyPrefix, d.redisKeyPrefix),
    ingressOnly: pick([flag('--ingress-only', flags.ingressOnly || undefined), envVar(env, 'TCE_ROUTER_INGRESS_ONLY')], parseEnvBoolean, undefined, d.ingressOnly),
    publicUrl: pick([flag('--public-url', flags.publicUrl), envVar(env, 'PUBLIC_WEBHOOK_BASE_URL')], parseBaseUrl, f.publicUrl),
    // a boolean flag cannot say "false": absent means "ask the environment"
    trustProxy: pick([flag('--trust-proxy', flags.trustProxy || undefined), envVar(env, 'TCE_ROUTER_TRUST_PROXY')], parseEnvBoolean, f.trustProxy, d.trustProxy),
    twilioUrl: pick([flag('--twilio-url', flags.twilioUrl), envVar(env, 'TCE_TWILIO_URL')], parseBaseUrl, f.twilioUrl),
    accountSid: secret('TWILIO_ACCOUNT_SID', parseSid('AC')),
    authToken: secret('TWILIO_AUTH_TOKEN'),
    apiKeySid: secret('TWILIO_API_KEY_SID', parseSid('SK')),
    apiKeySecret: secret('TWILIO_API_KEY_SECRET'),
    conversationsServiceSid: secret('TWILIO_CONVERSATIONS_SERVICE_SID', parseSid('IS')),
    defaultProxyAddress: secret('DEFAULT_PROXY_ADDRESS', parseProxyAddress),
    defaultWhatsappProxy: secret('DEFAULT_WHATSAPP_PROXY', parseWhatsappAddress),
    apiToken: pick([flag('--api-token', flags.apiToken), envVar(env, 'TCE_ROUTER_API_TOKEN')], parseNonEmptyString, undefined),
    paths: { ...d.paths, ...f.paths },
    validateSignature: f.validateSignature ?? d.validateSignature,
    maxProcessingMs: f.maxProcessingMs ?? d.maxProcessingMs,
    dedupeTtlSeconds: f.dedupeTtlSeconds ?? d.dedupeTtlSeconds,
    compliance: { ...d.compliance, ...f.compliance },
    preEvent: { ...d.preEvent, ...f.preEvent },
    tenant: f.tenant,
    fallback: { ...d.fallback, ...f.fallback },
    worker: {
      ...d.worker,
      ...f.worker,
      concurrency: pick([flag('--concurrency', flags.concurrency), envVar(env, 'TCE_ROUTER_CONCURRENCY')], parsePositiveInt, f.worker?.concurrency, d.worker.concurrency),
      // a served router gets a thread of its own by default; createRouter's default (defaultRouterConfig) is the caller's
      // thread, which starts in a fraction of the time (tests, scenario runs, embedding)
      thread: pick([flag('--no-worker-thread', flags.noWorkerThread ? 'false' : undefined), envVar(env, 'TCE_ROUTER_WORKER_THREAD')], parseEnvBoolean, f.worker?.thread, true),
    },
    twilio: { ...d.twilio, ...f.twilio },
    logLevel: pick([flag('--log-level', flags.logLevel), envVar(env, 'LOG_LEVEL')], parseLogLevel, f.logLevel, d.logLevel),
  };
  for (const k of Object.keys(config) as Array<keyof RouterConfig>) if (config[k] === undefined) delete config[k];

  checkConsistency(config, where);
  if (options.requireCredentials !== false) checkCredentials(config);
  return config;
}

/** Rules across keys; only the file can break them (the defaults keep them), so `where` names it. */
function checkConsistency(c: RouterConfig, where: string): void {
  const hooks = 'twilio_conversations.webhooks';
  const pathKeys = { webhook: 'path', preEvent: 'pre_event_path', inbound: 'inbound_path', status: 'status_path' } as const;
  const seen = new Map<string, string>();
  for (const [field, key] of Object.entries(pathKeys) as Array<[keyof typeof pathKeys, string]>) {
    const p = c.paths[field];
    if (RESERVED_PATHS.includes(p) || p === '/api' || p.startsWith('/api/')) throw new RouterConfigError(`${where}: ${hooks}.${key}: ${JSON.stringify(p)} is one of the router's own paths (/healthz, /readyz, /metrics, /api/…)`);
    const other = seen.get(p);
    if (other) throw new RouterConfigError(`${where}: ${hooks}.${key}: ${JSON.stringify(p)} is already the path of ${hooks}.${other}`);
    seen.set(p, key);
  }
  const { stopKeywords, startKeywords, helpKeywords } = c.compliance;
  const lists: Array<[string, string[]]> = [['stop_keywords', stopKeywords], ['start_keywords', startKeywords], ['help_keywords', helpKeywords]];
  for (let i = 0; i < lists.length; i++) {
    for (let j = i + 1; j < lists.length; j++) {
      const both = lists[i]![1].find((w) => lists[j]![1].includes(w));
      if (both) throw new RouterConfigError(`${where}: twilio_conversations.compliance: ${JSON.stringify(both)} is in both ${lists[i]![0]} and ${lists[j]![0]}`);
    }
  }
  if (c.worker.leaseMs <= c.maxProcessingMs) {
    throw new RouterConfigError(
      `${where}: router.worker.lease_ms (${c.worker.leaseMs}) must be greater than ${hooks}.max_processing_ms (${c.maxProcessingMs}): a handler still running when its lease ends would run twice`,
    );
  }
}

function checkCredentials(c: RouterConfig): void {
  if (!c.accountSid) throw new RouterConfigError('TWILIO_ACCOUNT_SID is required');
  if (c.apiKeySid && !c.apiKeySecret) throw new RouterConfigError('TWILIO_API_KEY_SECRET is required with TWILIO_API_KEY_SID');
  if (c.apiKeySecret && !c.apiKeySid) throw new RouterConfigError('TWILIO_API_KEY_SID is required with TWILIO_API_KEY_SECRET');
  if (c.validateSignature && !c.authToken) {
    throw new RouterConfigError('TWILIO_AUTH_TOKEN is required to check webhook signatures (twilio_conversations.webhooks.validate_signature is on)');
  }
  if (!c.authToken && !c.apiKeySid) throw new RouterConfigError('TWILIO_API_KEY_SID + TWILIO_API_KEY_SECRET, or TWILIO_AUTH_TOKEN, is required to call Twilio');
}
