import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  RouterConfigError,
  defaultRouterConfig,
  parseRouterArgs,
  resolveRouterConfig,
  routerUsage,
  type RouterFlags,
} from '../src/router/config.js';

const dir = mkdtempSync(join(tmpdir(), 'tce-router-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes a TOML file and returns its path (every error names it). */
function toml(text: string): string {
  const path = join(dir, `router-${++n}.toml`);
  writeFileSync(path, text);
  return path;
}

const AC = `AC${'0123456789abcdef'.repeat(2)}`;
const SK = `SK${'fedcba9876543210'.repeat(2)}`;
const creds = { TWILIO_ACCOUNT_SID: AC, TWILIO_AUTH_TOKEN: 'auth-token-1' };

async function errorOf(flags: RouterFlags, env: Record<string, string | undefined> = creds): Promise<string> {
  try {
    await resolveRouterConfig(flags, env);
  } catch (err) {
    expect(err).toBeInstanceOf(RouterConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a RouterConfigError');
}

describe('defaults', () => {
  it('with credentials only, the configuration is the defaults plus the credentials', async () => {
    const config = await resolveRouterConfig({}, creds);
    // a served router's worker gets a thread of its own; createRouter's default keeps it on the caller's thread
    const defaults = defaultRouterConfig();
    expect(defaults.worker.thread).toBe(false);
    expect(config).toEqual({ ...defaults, worker: { ...defaults.worker, thread: true }, accountSid: AC, authToken: 'auth-token-1' });
    expect(config.port).toBe(4520);
    expect(config.host).toBe('127.0.0.1');
    expect(config.db).toBe('.tce/router.sqlite');
    expect(config.logLevel).toBe('info');
    expect(config.dedupeTtlSeconds).toBe(604800);
    expect(config.validateSignature).toBe(true);
    expect(config.paths).toEqual({
      webhook: '/twilio/conversations/webhook',
      preEvent: '/twilio/conversations/pre-event',
      inbound: '/twilio/messaging/inbound',
      status: '/twilio/messaging/status',
    });
    expect(config.compliance.stopKeywords).toEqual(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
    expect(config.compliance.startKeywords).toEqual(['START', 'YES', 'UNSTOP']);
    expect(config.compliance.helpKeywords).toEqual(['HELP', 'INFO']);
    expect(config.compliance.stopConfirmationText).toBeUndefined();
    expect(config.twilioUrl).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
  });

  it('defaultRouterConfig() returns a fresh object each time', () => {
    const a = defaultRouterConfig();
    a.compliance.stopKeywords.push('X');
    expect(defaultRouterConfig().compliance.stopKeywords).not.toContain('X');
  });
});

describe('precedence: flag > environment > file > default', () => {
  const file = toml(`
[router]
port = 3333
host = "10.0.0.3"
db = "/var/lib/file.sqlite"
database_url = "postgres://file@db/file"
redis_url = "redis://file:6379"
public_url = "https://file.example.com"
twilio_url = "http://file-twilio:1"
log_level = "warn"
trust_proxy = false

[router.worker]
concurrency = 33
`);
  const env = {
    ...creds,
    TCE_ROUTER_PORT: '2222',
    TCE_ROUTER_HOST: '10.0.0.2',
    TCE_ROUTER_DB: '/var/lib/env.sqlite',
    DATABASE_URL: 'postgres://env@db/env',
    REDIS_URL: 'redis://env:6379',
    PUBLIC_WEBHOOK_BASE_URL: 'https://env.example.com',
    TCE_TWILIO_URL: 'http://env-twilio:1',
    LOG_LEVEL: 'debug',
    TCE_ROUTER_TRUST_PROXY: 'true',
    TCE_ROUTER_CONCURRENCY: '22',
  };
  const flags: RouterFlags = {
    port: '1111',
    host: '10.0.0.1',
    db: '/var/lib/flag.sqlite',
    databaseUrl: 'postgres://flag@db/flag',
    redisUrl: 'redis://flag:6379',
    publicUrl: 'https://flag.example.com',
    twilioUrl: 'http://flag-twilio:1',
    logLevel: 'error',
    trustProxy: true,
    concurrency: '11',
  };
  const pickOf = (c: Awaited<ReturnType<typeof resolveRouterConfig>>) => ({
    port: c.port,
    host: c.host,
    db: c.db,
    databaseUrl: c.databaseUrl,
    redisUrl: c.redisUrl,
    publicUrl: c.publicUrl,
    twilioUrl: c.twilioUrl,
    logLevel: c.logLevel,
    trustProxy: c.trustProxy,
    concurrency: c.worker.concurrency,
  });

  it('a flag beats the environment and the file', async () => {
    expect(pickOf(await resolveRouterConfig({ ...flags, config: file }, env))).toEqual({
      port: 1111,
      host: '10.0.0.1',
      db: '/var/lib/flag.sqlite',
      databaseUrl: 'postgres://flag@db/flag',
      redisUrl: 'redis://flag:6379',
      publicUrl: 'https://flag.example.com',
      twilioUrl: 'http://flag-twilio:1',
      logLevel: 'error',
      trustProxy: true,
      concurrency: 11,
    });
  });

  it('the environment beats the file', async () => {
    expect(pickOf(await resolveRouterConfig({ config: file }, env))).toEqual({
      port: 2222,
      host: '10.0.0.2',
      db: '/var/lib/env.sqlite',
      databaseUrl: 'postgres://env@db/env',
      redisUrl: 'redis://env:6379',
      publicUrl: 'https://env.example.com',
      twilioUrl: 'http://env-twilio:1',
      logLevel: 'debug',
      trustProxy: true,
      concurrency: 22,
    });
  });

  it('the file beats the defaults', async () => {
    expect(pickOf(await resolveRouterConfig({ config: file }, creds))).toEqual({
      port: 3333,
      host: '10.0.0.3',
      db: '/var/lib/file.sqlite',
      databaseUrl: 'postgres://file@db/file',
      redisUrl: 'redis://file:6379',
      publicUrl: 'https://file.example.com',
      twilioUrl: 'http://file-twilio:1',
      logLevel: 'warn',
      trustProxy: false,
      concurrency: 33,
    });
  });

  it('TCE_ROUTER_CONFIG names the file when --config does not, and --config beats it', async () => {
    const other = toml('[router]\nport = 4444\n');
    expect((await resolveRouterConfig({}, { ...creds, TCE_ROUTER_CONFIG: file })).port).toBe(3333);
    expect((await resolveRouterConfig({ config: other }, { ...creds, TCE_ROUTER_CONFIG: file })).port).toBe(4444);
  });

  it('an empty environment variable counts as unset; an empty flag is an error', async () => {
    expect((await resolveRouterConfig({ config: file }, { ...creds, TCE_ROUTER_PORT: '', REDIS_URL: '' })).port).toBe(3333);
    expect(await errorOf({ host: '' })).toBe('--host: expected a host name or IP address, got ""');
  });

  it('--api-token beats TCE_ROUTER_API_TOKEN; neither leaves the API closed', async () => {
    expect((await resolveRouterConfig({ apiToken: 'f' }, { ...creds, TCE_ROUTER_API_TOKEN: 'e' })).apiToken).toBe('f');
    expect((await resolveRouterConfig({}, { ...creds, TCE_ROUTER_API_TOKEN: 'e' })).apiToken).toBe('e');
    expect((await resolveRouterConfig({}, creds)).apiToken).toBeUndefined();
  });

  it('--database-schema, --redis-key-prefix and --ingress-only beat their environment variables', async () => {
    const env = { ...creds, TCE_ROUTER_DATABASE_SCHEMA: 'from_env', TCE_ROUTER_REDIS_KEY_PREFIX: 'env:', TCE_ROUTER_INGRESS_ONLY: 'true' };
    const fromEnv = await resolveRouterConfig({}, env);
    expect([fromEnv.databaseSchema, fromEnv.redisKeyPrefix, fromEnv.ingressOnly]).toEqual(['from_env', 'env:', true]);
    const fromFlags = await resolveRouterConfig({ databaseSchema: 'from_flag', redisKeyPrefix: 'flag:', ingressOnly: true }, creds);
    expect([fromFlags.databaseSchema, fromFlags.redisKeyPrefix, fromFlags.ingressOnly]).toEqual(['from_flag', 'flag:', true]);
    expect((await resolveRouterConfig({}, creds)).ingressOnly).toBe(false);
    // the worker thread: on by default, off by flag or environment
    expect((await resolveRouterConfig({}, creds)).worker.thread).toBe(true);
    expect((await resolveRouterConfig({ noWorkerThread: true }, creds)).worker.thread).toBe(false);
    expect((await resolveRouterConfig({}, { ...creds, TCE_ROUTER_WORKER_THREAD: 'false' })).worker.thread).toBe(false);
    expect(await errorOf({ databaseSchema: 'no spaces' })).toMatch(/^--database-schema: /);
  });
});

describe('Redis URL: --redis-url, else REDIS_URL, else SUPPRESSION_REDIS_URL, else the file', () => {
  const file = toml('[router]\nredis_url = "redis://file:6379"\n');
  const cases: Array<[string, RouterFlags, Record<string, string>, string | undefined]> = [
    ['REDIS_URL beats SUPPRESSION_REDIS_URL', {}, { REDIS_URL: 'redis://a:1', SUPPRESSION_REDIS_URL: 'redis://b:1' }, 'redis://a:1'],
    ['SUPPRESSION_REDIS_URL alone', {}, { SUPPRESSION_REDIS_URL: 'rediss://b:1' }, 'rediss://b:1'],
    ['SUPPRESSION_REDIS_URL beats the file', { config: file }, { SUPPRESSION_REDIS_URL: 'redis://b:1' }, 'redis://b:1'],
    ['the flag beats both', { redisUrl: 'redis://f:1' }, { REDIS_URL: 'redis://a:1', SUPPRESSION_REDIS_URL: 'redis://b:1' }, 'redis://f:1'],
    ['the file when no environment', { config: file }, {}, 'redis://file:6379'],
    ['none: no Redis', {}, {}, undefined],
  ];
  it.each(cases)('%s', async (_name, flags, env, expected) => {
    expect((await resolveRouterConfig(flags, { ...creds, ...env })).redisUrl).toBe(expected);
  });
});

describe('credentials and Twilio settings from the environment', () => {
  it('reads every variable', async () => {
    const config = await resolveRouterConfig({}, {
      ...creds,
      TWILIO_API_KEY_SID: SK,
      TWILIO_API_KEY_SECRET: 'key-secret',
      TWILIO_CONVERSATIONS_SERVICE_SID: `IS${'1'.repeat(32)}`,
      DEFAULT_PROXY_ADDRESS: '+15005550006',
      DEFAULT_WHATSAPP_PROXY: '+14155238886',
    });
    expect(config).toMatchObject({
      accountSid: AC,
      authToken: 'auth-token-1',
      apiKeySid: SK,
      apiKeySecret: 'key-secret',
      conversationsServiceSid: `IS${'1'.repeat(32)}`,
      defaultProxyAddress: '+15005550006',
      defaultWhatsappProxy: 'whatsapp:+14155238886',
    });
  });

  it('an API key with validate_signature off needs no auth token', async () => {
    const file = toml('[twilio_conversations.webhooks]\nvalidate_signature = false\n');
    const config = await resolveRouterConfig({ config: file }, { TWILIO_ACCOUNT_SID: AC, TWILIO_API_KEY_SID: SK, TWILIO_API_KEY_SECRET: 's' });
    expect(config.validateSignature).toBe(false);
    expect(config.authToken).toBeUndefined();
  });

  it('requireCredentials: false (replay) needs none', async () => {
    const config = await resolveRouterConfig({}, {}, { requireCredentials: false });
    expect(config.accountSid).toBeUndefined();
  });
});

describe('the TOML sections', () => {
  it('parses every section into the configuration', async () => {
    const file = toml(`
[router]
database_schema = "tenant_a"
redis_key_prefix = "a:"

[router.worker]
lease_ms = 90000
max_attempts = 3
thread = false

[router.twilio]
max_concurrency = 4
timeout_ms = 2500
max_retries = 0

[twilio_conversations.webhooks]
path = "/hooks/conv"
pre_event_path = "/hooks/pre"
inbound_path = "/hooks/sms"
status_path = "/hooks/status"
validate_signature = true
max_processing_ms = 4000

[twilio_conversations.idempotency]
ttl_seconds = 3600

[twilio_conversations.compliance]
stop_keywords = [" stop ", "Arret"]
start_keywords = ["start"]
help_keywords = ["aide"]
help_text = "Text STOP to opt out."
stop_confirmation_text = "You are unsubscribed."

[twilio_conversations.pre_event]
allowed_identities = ["acme:*", "support"]
enforce_tenant = true
pii_patterns = ['\\b\\d{3}-\\d{2}-\\d{4}\\b']

[twilio_conversations.fallback]
order = ["whatsapp", "task"]
whatsapp_template_sid = "HX${'a'.repeat(32)}"

[twilio_conversations.routing]
tenant = "acme"

[some_other_service]
anything = 1
`);
    const c = await resolveRouterConfig({ config: file }, creds);
    expect(c.databaseSchema).toBe('tenant_a');
    expect(c.redisKeyPrefix).toBe('a:');
    expect(c.worker).toEqual({ concurrency: 16, leaseMs: 90000, maxAttempts: 3, thread: false });
    expect(c.twilio).toEqual({ maxConcurrency: 4, timeoutMs: 2500, maxRetries: 0 });
    expect(c.paths).toEqual({ webhook: '/hooks/conv', preEvent: '/hooks/pre', inbound: '/hooks/sms', status: '/hooks/status' });
    expect(c.validateSignature).toBe(true);
    expect(c.maxProcessingMs).toBe(4000);
    expect(c.dedupeTtlSeconds).toBe(3600);
    expect(c.compliance).toEqual({
      stopKeywords: ['STOP', 'ARRET'],
      startKeywords: ['START'],
      helpKeywords: ['AIDE'],
      helpText: 'Text STOP to opt out.',
      stopConfirmationText: 'You are unsubscribed.',
    });
    expect(c.preEvent).toEqual({ allowedIdentities: ['acme:*', 'support'], enforceTenant: true, piiPatterns: ['\\b\\d{3}-\\d{2}-\\d{4}\\b'] });
    expect(new RegExp(c.preEvent.piiPatterns[0]!).test('ssn 123-45-6789')).toBe(true);
    expect(c.fallback).toEqual({ order: ['whatsapp', 'task'], whatsappTemplateSid: `HX${'a'.repeat(32)}` });
    expect(c.tenant).toBe('acme');
  });

  it('a section left out keeps its defaults; a partial section keeps the rest', async () => {
    const c = await resolveRouterConfig({ config: toml('[twilio_conversations.webhooks]\ninbound_path = "/sms"\n') }, creds);
    expect(c.paths).toEqual({ ...defaultRouterConfig().paths, inbound: '/sms' });
    expect(c.compliance).toEqual(defaultRouterConfig().compliance);
  });

  it('the example file (fixtures/router/router.example.toml, in the README) parses to the defaults', async () => {
    const example = new URL('../fixtures/router/router.example.toml', import.meta.url).pathname;
    expect(await resolveRouterConfig({ config: example }, creds)).toEqual(await resolveRouterConfig({}, creds));
  });

  it('a public URL keeps its port and path as written (signatures use it), dropping only a trailing /', async () => {
    expect((await resolveRouterConfig({ publicUrl: 'https://hooks.example.com:443/router/' }, creds)).publicUrl).toBe('https://hooks.example.com:443/router');
  });
});

describe('bad input: the error names the flag, the variable, or the file and key', () => {
  it('flags and environment variables', async () => {
    expect(await errorOf({ port: 'abc' })).toBe('--port: expected an integer 0-65535, got "abc"');
    expect(await errorOf({ port: '65536' })).toBe('--port: expected an integer 0-65535, got "65536"');
    expect(await errorOf({ port: '1e3' })).toBe('--port: expected an integer 0-65535, got "1e3"');
    expect(await errorOf({}, { ...creds, TCE_ROUTER_PORT: '-1' })).toBe('TCE_ROUTER_PORT: expected an integer 0-65535, got "-1"');
    expect(await errorOf({ concurrency: '0' })).toBe('--concurrency: expected a positive integer, got "0"');
    expect(await errorOf({ logLevel: 'loud' })).toBe('--log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"');
    expect(await errorOf({}, { ...creds, LOG_LEVEL: 'verbose' })).toBe('LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"');
    expect(await errorOf({}, { ...creds, TCE_ROUTER_TRUST_PROXY: 'maybe' })).toBe('TCE_ROUTER_TRUST_PROXY: expected true or false, got "maybe"');
  });

  it('URLs name the flag; database and Redis URLs are never echoed (passwords)', async () => {
    expect(await errorOf({ publicUrl: 'ftp://x' })).toBe('--public-url: expected an http:// or https:// URL, got "ftp://x"');
    expect(await errorOf({ publicUrl: 'not a url' })).toBe('--public-url: expected an http:// or https:// URL, got "not a url"');
    expect(await errorOf({ publicUrl: 'https://x.example.com/?a=1' })).toBe('--public-url: expected a base URL without query or fragment, got "https://x.example.com/?a=1"');
    expect(await errorOf({ twilioUrl: 'localhost:4510' })).toBe('--twilio-url: expected an http:// or https:// URL, got "localhost:4510"');
    expect(await errorOf({}, { ...creds, PUBLIC_WEBHOOK_BASE_URL: 'x' })).toBe('PUBLIC_WEBHOOK_BASE_URL: expected an http:// or https:// URL, got "x"');
    const db = await errorOf({ databaseUrl: 'mysql://user:hunter2@db/x' });
    expect(db).toBe('--database-url: expected a postgres:// or postgresql:// URL (the value is not shown: it may hold a password)');
    expect(await errorOf({}, { ...creds, DATABASE_URL: 'nope' })).toBe('DATABASE_URL: expected a postgres:// or postgresql:// URL (the value is not shown: it may hold a password)');
    expect(await errorOf({}, { ...creds, SUPPRESSION_REDIS_URL: 'http://u:hunter2@r' })).toBe(
      'SUPPRESSION_REDIS_URL: expected a redis:// or rediss:// URL (the value is not shown: it may hold a password)',
    );
  });

  it('a missing file names the path, and the flag or variable that named it', async () => {
    const missing = join(dir, 'nope.toml');
    expect(await errorOf({ config: missing })).toBe(`--config: cannot read "${missing}": no such file`);
    expect(await errorOf({}, { ...creds, TCE_ROUTER_CONFIG: missing })).toBe(`TCE_ROUTER_CONFIG: cannot read "${missing}": no such file`);
    expect(await errorOf({ config: dir })).toBe(`--config: cannot read "${dir}": is a directory`);
  });

  it('a TOML syntax error names the file and the line', async () => {
    const file = toml('[twilio_conversations.idempotency]\nttl_seconds = 10\nvalidate = \n');
    expect(await errorOf({ config: file })).toBe(`${file}: line 3: invalid value`);
  });

  it('a bad value names the file and the dotted key', async () => {
    const cases: Array<[string, string]> = [
      ['[twilio_conversations.idempotency]\nttl_seconds = -1', 'twilio_conversations.idempotency.ttl_seconds: expected a positive integer, got -1'],
      ['[twilio_conversations.idempotency]\nttl_seconds = "7d"', 'twilio_conversations.idempotency.ttl_seconds: expected a positive integer, got "7d"'],
      ['[twilio_conversations.idempotency]\nttl_seconds = 1.5', 'twilio_conversations.idempotency.ttl_seconds: expected a positive integer, got 1.5'],
      ['[twilio_conversations.webhooks]\nvalidate_signature = "yes"', 'twilio_conversations.webhooks.validate_signature: expected true or false, got "yes"'],
      ['[twilio_conversations.webhooks]\npath = "hooks"', 'twilio_conversations.webhooks.path: expected a path starting with / (no query, no whitespace), got "hooks"'],
      ['[twilio_conversations.webhooks]\nstatus_path = "/s?x=1"', 'twilio_conversations.webhooks.status_path: expected a path starting with / (no query, no whitespace), got "/s?x=1"'],
      ['[twilio_conversations.compliance]\nstop_keywords = "STOP"', 'twilio_conversations.compliance.stop_keywords: expected an array of strings, got "STOP"'],
      ['[twilio_conversations.compliance]\nstop_keywords = ["STOP", " "]', 'twilio_conversations.compliance.stop_keywords[1]: expected a non-empty string, got " "'],
      ['[twilio_conversations.pre_event]\npii_patterns = ["ok", "("]', 'twilio_conversations.pre_event.pii_patterns[1]: not a valid regular expression: Invalid regular expression: /(/: Unterminated group'],
      ['[twilio_conversations.fallback]\norder = ["whatsapp", "fax"]', 'twilio_conversations.fallback.order[1]: expected whatsapp, sms, task, got "fax"'],
      ['[twilio_conversations.fallback]\norder = ["sms", "sms"]', 'twilio_conversations.fallback.order: "sms" appears twice'],
      ['[twilio_conversations.fallback]\nwhatsapp_template_sid = "HX1"', 'twilio_conversations.fallback.whatsapp_template_sid: expected HX followed by 32 hex digits, got "HX1"'],
      ['[twilio_conversations.routing]\ntenant = "a:b"', 'twilio_conversations.routing.tenant: expected letters, digits, _ . - (1-64 characters), got "a:b"'],
      ['[router]\nport = 70000', 'router.port: expected an integer 0-65535, got 70000'],
      ['[router]\ndatabase_schema = "x; drop table y"', 'router.database_schema: expected a PostgreSQL identifier (letters, digits, _), got "x; drop table y"'],
      ['[router.twilio]\nmax_retries = -1', 'router.twilio.max_retries: expected an integer ≥ 0, got -1'],
      ['[router]\nworker = 3', 'router.worker: expected a table, got 3'],
      ['twilio_conversations = 1', 'twilio_conversations: expected a table, got 1'],
    ];
    for (const [text, message] of cases) {
      const file = toml(text);
      expect(await errorOf({ config: file }).catch((e: Error) => `${text}: ${e.message}`)).toBe(`${file}: ${message}`);
    }
  });

  it('an unknown key or section in a known section is an error naming it and the known ones', async () => {
    let file = toml('[twilio_conversations.webhooks]\npathh = "/x"\n');
    expect(await errorOf({ config: file })).toBe(
      `${file}: twilio_conversations.webhooks.pathh: unknown key (known: path, pre_event_path, inbound_path, status_path, validate_signature, max_processing_ms)`,
    );
    file = toml('[twilio_conversations.webhook]\npath = "/x"\n');
    expect(await errorOf({ config: file })).toBe(
      `${file}: twilio_conversations.webhook: unknown key (known: [twilio_conversations.webhooks], [twilio_conversations.idempotency], [twilio_conversations.compliance], [twilio_conversations.pre_event], [twilio_conversations.fallback], [twilio_conversations.routing])`,
    );
    file = toml('[router]\napi_token = "t"\n');
    expect(await errorOf({ config: file })).toMatch(new RegExp(`^${file}: router\\.api_token: unknown key \\(known: port, host, db, `));
  });

  it('rules across keys name the file and both keys', async () => {
    let file = toml('[twilio_conversations.webhooks]\ninbound_path = "/twilio/conversations/webhook"\n');
    expect(await errorOf({ config: file })).toBe(
      `${file}: twilio_conversations.webhooks.inbound_path: "/twilio/conversations/webhook" is already the path of twilio_conversations.webhooks.path`,
    );
    file = toml('[twilio_conversations.webhooks]\nstatus_path = "/metrics"\n');
    expect(await errorOf({ config: file })).toBe(`${file}: twilio_conversations.webhooks.status_path: "/metrics" is one of the router's own paths (/healthz, /readyz, /metrics, /api/…)`);
    file = toml('[twilio_conversations.compliance]\nstart_keywords = ["START", "stop"]\n');
    expect(await errorOf({ config: file })).toBe(`${file}: twilio_conversations.compliance: "STOP" is in both stop_keywords and start_keywords`);
    file = toml('[twilio_conversations.webhooks]\nmax_processing_ms = 30000\n');
    expect(await errorOf({ config: file })).toBe(
      `${file}: router.worker.lease_ms (30000) must be greater than twilio_conversations.webhooks.max_processing_ms (30000): a handler still running when its lease ends would run twice`,
    );
  });

  it('credentials', async () => {
    expect(await errorOf({}, { TWILIO_AUTH_TOKEN: 't' })).toBe('TWILIO_ACCOUNT_SID is required');
    expect(await errorOf({}, { TWILIO_ACCOUNT_SID: 'AC123', TWILIO_AUTH_TOKEN: 't' })).toBe('TWILIO_ACCOUNT_SID: expected AC followed by 32 hex digits, got "AC123"');
    expect(await errorOf({}, { TWILIO_ACCOUNT_SID: AC, TWILIO_API_KEY_SID: SK, TWILIO_API_KEY_SECRET: 's' })).toBe(
      'TWILIO_AUTH_TOKEN is required to check webhook signatures (twilio_conversations.webhooks.validate_signature is on)',
    );
    expect(await errorOf({}, { ...creds, TWILIO_API_KEY_SID: SK })).toBe('TWILIO_API_KEY_SECRET is required with TWILIO_API_KEY_SID');
    expect(await errorOf({}, { ...creds, TWILIO_API_KEY_SECRET: 's' })).toBe('TWILIO_API_KEY_SID is required with TWILIO_API_KEY_SECRET');
    expect(await errorOf({}, { ...creds, TWILIO_API_KEY_SID: 'SKnope', TWILIO_API_KEY_SECRET: 's' })).toBe('TWILIO_API_KEY_SID: expected SK followed by 32 hex digits, got "SKnope"');
    const off = toml('[twilio_conversations.webhooks]\nvalidate_signature = false\n');
    expect(await errorOf({ config: off }, { TWILIO_ACCOUNT_SID: AC })).toBe('TWILIO_API_KEY_SID + TWILIO_API_KEY_SECRET, or TWILIO_AUTH_TOKEN, is required to call Twilio');
    expect(await errorOf({}, { ...creds, TWILIO_CONVERSATIONS_SERVICE_SID: 'CH1' })).toBe('TWILIO_CONVERSATIONS_SERVICE_SID: expected IS followed by 32 hex digits, got "CH1"');
    expect(await errorOf({}, { ...creds, DEFAULT_PROXY_ADDRESS: '555-1234' })).toBe('DEFAULT_PROXY_ADDRESS: expected an E.164 number (+15551234567), a short code or an MG… SID, got "555-1234"');
    expect(await errorOf({}, { ...creds, DEFAULT_WHATSAPP_PROXY: 'whatsapp:1415' })).toBe('DEFAULT_WHATSAPP_PROXY: expected whatsapp:+<E.164 number>, got "whatsapp:1415"');
  });
});

describe('parseRouterArgs', () => {
  it('a command and its flags', () => {
    expect(
      parseRouterArgs(['serve', '--port', '5000', '--host=0.0.0.0', '--trust-proxy', '--redis-url', 'redis://r', '--database-url', 'postgres://p', '--public-url', 'https://p', '--twilio-url', 'http://t', '--config', 'r.toml', '--api-token', 'a', '--log-level', 'debug', '--concurrency', '8', '--db', ':memory:']),
    ).toEqual({
      command: 'serve',
      flags: {
        port: '5000',
        host: '0.0.0.0',
        trustProxy: true,
        redisUrl: 'redis://r',
        databaseUrl: 'postgres://p',
        publicUrl: 'https://p',
        twilioUrl: 'http://t',
        config: 'r.toml',
        apiToken: 'a',
        logLevel: 'debug',
        concurrency: '8',
        db: ':memory:',
      },
    });
    expect(parseRouterArgs(['replay', '--db', 'x.sqlite'])).toEqual({ command: 'replay', flags: { db: 'x.sqlite' } });
  });

  it('no command, help, --help and -h give help', () => {
    expect(parseRouterArgs([]).command).toBe('help');
    expect(parseRouterArgs(['help']).command).toBe('help');
    expect(parseRouterArgs(['serve', '--help']).command).toBe('help');
    expect(parseRouterArgs(['-h']).command).toBe('help');
  });

  it('errors name the flag or argument', () => {
    const err = (argv: string[]) => {
      try {
        parseRouterArgs(argv);
      } catch (e) {
        expect(e).toBeInstanceOf(RouterConfigError);
        return (e as Error).message;
      }
      throw new Error('expected a RouterConfigError');
    };
    expect(err(['serve', '--prot', '1'])).toBe('unknown flag --prot (tce router help lists them)');
    expect(err(['serve', '-p', '1'])).toBe('unknown flag -p (tce router help lists them)');
    expect(err(['serve', '--port'])).toBe('--port: expected a value');
    expect(err(['serve', '--port', '--host', 'x'])).toBe('--port: expected a value');
    expect(err(['serve', '--trust-proxy=yes'])).toBe('--trust-proxy: takes no value');
    expect(err(['start'])).toBe('unknown command "start": expected serve, replay or help');
    expect(err(['serve', 'now'])).toBe('unexpected argument "now"');
  });

  it('the parsed flags resolve: --port abc from argv fails naming --port', async () => {
    const { flags } = parseRouterArgs(['serve', '--port', 'abc']);
    expect(await errorOf(flags)).toBe('--port: expected an integer 0-65535, got "abc"');
  });
});

describe('routerUsage', () => {
  it('lists every flag with its environment fallback', () => {
    const pairs: Array<[string, string | null]> = [
      ['--port', 'TCE_ROUTER_PORT'],
      ['--host', 'TCE_ROUTER_HOST'],
      ['--db', 'TCE_ROUTER_DB'],
      ['--database-url', 'DATABASE_URL'],
      ['--redis-url', 'SUPPRESSION_REDIS_URL'],
      ['--public-url', 'PUBLIC_WEBHOOK_BASE_URL'],
      ['--trust-proxy', 'TCE_ROUTER_TRUST_PROXY'],
      ['--twilio-url', 'TCE_TWILIO_URL'],
      ['--config', 'TCE_ROUTER_CONFIG'],
      ['--api-token', 'TCE_ROUTER_API_TOKEN'],
      ['--log-level', 'LOG_LEVEL'],
      ['--concurrency', 'TCE_ROUTER_CONCURRENCY'],
      ['--database-schema', 'TCE_ROUTER_DATABASE_SCHEMA'],
      ['--redis-key-prefix', 'TCE_ROUTER_REDIS_KEY_PREFIX'],
      ['--ingress-only', 'TCE_ROUTER_INGRESS_ONLY'],
      ['--no-worker-thread', 'TCE_ROUTER_WORKER_THREAD'],
      ['--check', ''],
    ];
    for (const [flag, env] of pairs) {
      expect(routerUsage).toContain(`  ${flag} `);
      if (env) expect(routerUsage).toContain(env);
    }
    for (const v of ['TWILIO_ACCOUNT_SID', 'TWILIO_API_KEY_SID', 'TWILIO_API_KEY_SECRET', 'TWILIO_AUTH_TOKEN', 'TWILIO_CONVERSATIONS_SERVICE_SID', 'DEFAULT_PROXY_ADDRESS', 'DEFAULT_WHATSAPP_PROXY']) {
      expect(routerUsage).toContain(v);
    }
    // every flag parseRouterArgs accepts is in the text, and nothing else
    const listed = [...routerUsage.matchAll(/^\s+(?:-h, )?(--[a-z-]+)/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...pairs.map(([f]) => f), '--help'].sort());
  });
});
