/**
 * `--config <file.toml>`: read, parse (smol-toml) and check every key of the sections the router owns.
 * `[router]` and `[twilio_conversations]` are checked strictly (an unknown key or sub-section is an error naming
 * it); other top-level tables are left alone, so one file can also configure other services.
 */
import { readFile } from 'node:fs/promises';
import { parse, TomlError } from 'smol-toml';
import type { RouterConfig } from './config-types.js';
import {
  RouterConfigError,
  fail,
  parseBaseUrl,
  parseBoolean,
  parseDatabaseUrl,
  parseFallbackOrder,
  parseHost,
  parseKeyword,
  parseLogLevel,
  parseNonEmptyString,
  parseNonNegativeInt,
  parsePath,
  parsePort,
  parsePositiveInt,
  parseRedisUrl,
  parseRegex,
  parseSchemaName,
  parseSid,
  parseStringList,
  parseTenant,
  type Parser,
} from './config-values.js';

interface Section {
  keys: Record<string, Parser<unknown>>;
  sections?: Record<string, Section>;
}

const SCHEMA: Record<'router' | 'twilio_conversations', Section> = {
  router: {
    keys: {
      port: parsePort,
      host: parseHost,
      db: parseNonEmptyString,
      database_url: parseDatabaseUrl,
      database_schema: parseSchemaName,
      redis_url: parseRedisUrl,
      redis_key_prefix: parseNonEmptyString,
      public_url: parseBaseUrl,
      trust_proxy: parseBoolean,
      twilio_url: parseBaseUrl,
      log_level: parseLogLevel,
    },
    sections: {
      worker: { keys: { concurrency: parsePositiveInt, lease_ms: parsePositiveInt, max_attempts: parsePositiveInt, thread: parseBoolean } },
      twilio: { keys: { max_concurrency: parsePositiveInt, timeout_ms: parsePositiveInt, max_retries: parseNonNegativeInt } },
    },
  },
  twilio_conversations: {
    keys: {},
    sections: {
      webhooks: {
        keys: {
          path: parsePath,
          pre_event_path: parsePath,
          inbound_path: parsePath,
          status_path: parsePath,
          validate_signature: parseBoolean,
          max_processing_ms: parsePositiveInt,
        },
      },
      idempotency: { keys: { ttl_seconds: parsePositiveInt } },
      compliance: {
        keys: {
          stop_keywords: parseStringList(parseKeyword),
          start_keywords: parseStringList(parseKeyword),
          help_keywords: parseStringList(parseKeyword),
          help_text: parseNonEmptyString,
          stop_confirmation_text: parseNonEmptyString,
        },
      },
      pre_event: {
        keys: {
          allowed_identities: parseStringList(parseNonEmptyString),
          enforce_tenant: parseBoolean,
          pii_patterns: parseStringList(parseRegex),
        },
      },
      fallback: { keys: { order: parseFallbackOrder, whatsapp_template_sid: parseSid('HX') } },
      routing: { keys: { tenant: parseTenant } },
    },
  },
};

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Checks one table against its schema; returns the same shape with parsed values. */
function check(table: Table, schema: Section, file: string, path: string): Table {
  const out: Table = {};
  const subsections = schema.sections ?? {};
  for (const [key, value] of Object.entries(table)) {
    const name = `${path}.${key}`;
    const label = `${file}: ${name}`;
    const parser = schema.keys[key];
    const sub = subsections[key];
    if (parser) out[key] = parser(value, label);
    else if (sub) {
      if (!isTable(value)) fail(label, 'a table', value);
      out[key] = check(value, sub, file, name);
    } else {
      const known = [...Object.keys(schema.keys), ...Object.keys(subsections).map((s) => `[${path}.${s}]`)];
      throw new RouterConfigError(`${label}: unknown key (known: ${known.join(', ')})`);
    }
  }
  return out;
}

/** What a configuration file sets; every field optional, already checked. */
export interface FileConfig {
  /** the path as given: every error names it */
  file: string;
  values: Partial<Omit<RouterConfig, 'paths' | 'compliance' | 'preEvent' | 'fallback' | 'worker' | 'twilio'>> & {
    paths?: Partial<RouterConfig['paths']>;
    compliance?: Partial<RouterConfig['compliance']>;
    preEvent?: Partial<RouterConfig['preEvent']>;
    fallback?: Partial<RouterConfig['fallback']>;
    worker?: Partial<RouterConfig['worker']>;
    twilio?: Partial<RouterConfig['twilio']>;
  };
}

function defined<T extends object>(o: T): Partial<T> | undefined {
  const entries = Object.entries(o).filter(([, v]) => v !== undefined);
  return entries.length ? (Object.fromEntries(entries) as Partial<T>) : undefined;
}

/** Parses and checks TOML text; `file` labels every error. */
export function parseConfigText(text: string, file: string): FileConfig {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (err) {
    if (err instanceof TomlError) {
      // smol-toml's message is "Invalid TOML document: <what>\n\n<code block>": keep the what, give the line
      const what = err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new RouterConfigError(`${file}: line ${err.line}: ${what}`);
    }
    throw err;
  }
  const checked: Table = {};
  for (const name of ['router', 'twilio_conversations'] as const) {
    const table = doc[name];
    if (table === undefined) continue;
    if (!isTable(table)) fail(`${file}: ${name}`, 'a table', table);
    checked[name] = check(table, SCHEMA[name], file, name);
  }
  const r = (checked.router ?? {}) as Table;
  const tc = (checked.twilio_conversations ?? {}) as Table;
  const sec = (t: Table, k: string) => (t[k] ?? {}) as Table;
  const [worker, twilio] = [sec(r, 'worker'), sec(r, 'twilio')];
  const [hooks, idem, comp, pre, fb, routing] = ['webhooks', 'idempotency', 'compliance', 'pre_event', 'fallback', 'routing'].map((k) => sec(tc, k)) as [Table, Table, Table, Table, Table, Table];
  const values: FileConfig['values'] = {
    port: r.port as number | undefined,
    host: r.host as string | undefined,
    db: r.db as string | undefined,
    databaseUrl: r.database_url as string | undefined,
    databaseSchema: r.database_schema as string | undefined,
    redisUrl: r.redis_url as string | undefined,
    redisKeyPrefix: r.redis_key_prefix as string | undefined,
    publicUrl: r.public_url as string | undefined,
    trustProxy: r.trust_proxy as boolean | undefined,
    twilioUrl: r.twilio_url as string | undefined,
    logLevel: r.log_level as string | undefined,
    validateSignature: hooks.validate_signature as boolean | undefined,
    maxProcessingMs: hooks.max_processing_ms as number | undefined,
    dedupeTtlSeconds: idem.ttl_seconds as number | undefined,
    tenant: routing.tenant as string | undefined,
    paths: defined({
      webhook: hooks.path as string | undefined,
      preEvent: hooks.pre_event_path as string | undefined,
      inbound: hooks.inbound_path as string | undefined,
      status: hooks.status_path as string | undefined,
    }),
    compliance: defined({
      stopKeywords: comp.stop_keywords as string[] | undefined,
      startKeywords: comp.start_keywords as string[] | undefined,
      helpKeywords: comp.help_keywords as string[] | undefined,
      helpText: comp.help_text as string | undefined,
      stopConfirmationText: comp.stop_confirmation_text as string | undefined,
    }),
    preEvent: defined({
      allowedIdentities: pre.allowed_identities as string[] | undefined,
      enforceTenant: pre.enforce_tenant as boolean | undefined,
      piiPatterns: pre.pii_patterns as string[] | undefined,
    }),
    fallback: defined({
      order: fb.order as RouterConfig['fallback']['order'] | undefined,
      whatsappTemplateSid: fb.whatsapp_template_sid as string | undefined,
    }),
    worker: defined({
      concurrency: worker.concurrency as number | undefined,
      leaseMs: worker.lease_ms as number | undefined,
      maxAttempts: worker.max_attempts as number | undefined,
      thread: worker.thread as boolean | undefined,
    }),
    twilio: defined({
      maxConcurrency: twilio.max_concurrency as number | undefined,
      timeoutMs: twilio.timeout_ms as number | undefined,
      maxRetries: twilio.max_retries as number | undefined,
    }),
  };
  return { file, values: defined(values) ?? {} };
}

/** Reads and checks a configuration file; `source` is what named it (`--config`, `TCE_ROUTER_CONFIG`). */
export async function readConfigFile(path: string, source: string): Promise<FileConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new RouterConfigError(`${source}: cannot read ${JSON.stringify(path)}: ${why}`);
  }
  return parseConfigText(text, path);
}
