/**
 * `tce router <serve|replay|help> [flags]`: the argv half of the configuration. Flags stay raw strings here;
 * resolveRouterConfig checks them, so every error names the flag it came from.
 */
import { parseArgs } from 'node:util';
import { RouterConfigError } from './config-values.js';

/** Flags as given on the command line (unchecked; resolveRouterConfig checks them). */
export interface RouterFlags {
  port?: string;
  host?: string;
  db?: string;
  databaseUrl?: string;
  redisUrl?: string;
  publicUrl?: string;
  trustProxy?: boolean;
  twilioUrl?: string;
  config?: string;
  apiToken?: string;
  logLevel?: string;
  concurrency?: string;
  databaseSchema?: string;
  redisKeyPrefix?: string;
  ingressOnly?: boolean;
  noWorkerThread?: boolean;
  /** replay: compare only, exit 1 on a difference */
  check?: boolean;
}

export type RouterCommand = 'serve' | 'replay' | 'help';

export const routerUsage = `Usage:
  tce router serve [flags]     run the webhook router
  tce router replay [flags]    rebuild the derived state from the event log
  tce router help              this text

Flags (each falls back to the environment variable shown, then to --config, then to the default):
  --port <n>              port to listen on                       TCE_ROUTER_PORT (default 4520)
  --host <addr>           address to bind                         TCE_ROUTER_HOST (default 127.0.0.1)
  --db <file|:memory:>    SQLite database, when no database URL   TCE_ROUTER_DB (default .tce/router.sqlite)
  --database-url <url>    postgres://… : log, queue, state        DATABASE_URL
  --redis-url <url>       redis://… : dedupe, suppression         REDIS_URL, else SUPPRESSION_REDIS_URL
  --public-url <url>      base URL Twilio posts to (signatures)   PUBLIC_WEBHOOK_BASE_URL
  --trust-proxy           take the public URL from X-Forwarded-Proto/-Host (only behind your own proxy)
                                                                  TCE_ROUTER_TRUST_PROXY (true|false)
  --twilio-url <url>      Twilio's base URL (an emulator's URL in tests)
                                                                  TCE_TWILIO_URL (default real Twilio)
  --config <file.toml>    [router…] and [twilio_conversations.*] sections
                                                                  TCE_ROUTER_CONFIG
  --api-token <t>         Bearer token of /api/* (prefer the env: flags show in ps)
                                                                  TCE_ROUTER_API_TOKEN (unset: /api answers 401)
  --log-level <level>     fatal|error|warn|info|debug|trace|silent
                                                                  LOG_LEVEL (default info)
  --concurrency <n>       conversations handled at once           TCE_ROUTER_CONCURRENCY (default 16)
  --database-schema <s>   PostgreSQL schema of the router's tables
                                                                  TCE_ROUTER_DATABASE_SCHEMA (default public)
  --redis-key-prefix <p>  prefix of every Redis key               TCE_ROUTER_REDIS_KEY_PREFIX (default tce:router:)
  --ingress-only          accept and enqueue, run no worker (a replica that only takes webhooks)
                                                                  TCE_ROUTER_INGRESS_ONLY (true|false)
  --no-worker-thread      apply the queue on the ingress's thread (default: a thread of its own)
                                                                  TCE_ROUTER_WORKER_THREAD (true|false)
  --check                 replay: compare the fold with the live state, change nothing; exit 1 if they differ
  -h, --help              this text

Environment only (credentials never go in flags or the file):
  TWILIO_ACCOUNT_SID                          required
  TWILIO_API_KEY_SID + TWILIO_API_KEY_SECRET  REST credentials (preferred)
  TWILIO_AUTH_TOKEN                           checks webhook signatures (required while validate_signature is
                                              on); REST credentials when no API key is set
  TWILIO_CONVERSATIONS_SERVICE_SID            the Conversations service (default: the account's default)
  DEFAULT_PROXY_ADDRESS                       number, short code or MG… that inbound SMS conversations use
  DEFAULT_WHATSAPP_PROXY                      whatsapp:+E.164 sender for WhatsApp
An empty environment variable counts as unset.
`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  db: { type: 'string' },
  'database-url': { type: 'string' },
  'redis-url': { type: 'string' },
  'public-url': { type: 'string' },
  'trust-proxy': { type: 'boolean' },
  'twilio-url': { type: 'string' },
  config: { type: 'string' },
  'api-token': { type: 'string' },
  'log-level': { type: 'string' },
  concurrency: { type: 'string' },
  'database-schema': { type: 'string' },
  'redis-key-prefix': { type: 'string' },
  'ingress-only': { type: 'boolean' },
  'no-worker-thread': { type: 'boolean' },
  check: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMANDS: readonly RouterCommand[] = ['serve', 'replay', 'help'];

/** argv after `tce router`. Throws RouterConfigError naming an unknown flag, a flag missing its value, a bad command. */
export function parseRouterArgs(argv: string[]): { command: RouterCommand; flags: RouterFlags } {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (err) {
    // node's messages suggest "-- --foo" positionals; say what is wrong in the router's words instead
    const code = (err as NodeJS.ErrnoException).code;
    const flag = /'(--?[A-Za-z][\w-]*)/.exec((err as Error).message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new RouterConfigError(`unknown flag ${flag} (tce router help lists them)`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new RouterConfigError(/does not take an argument/.test((err as Error).message) ? `${flag}: takes no value` : `${flag}: expected a value`);
    }
    throw err;
  }
  const { values: v, positionals } = parsed;
  const [first, ...rest] = positionals;
  if (first !== undefined && !(COMMANDS as readonly string[]).includes(first)) {
    throw new RouterConfigError(`unknown command ${JSON.stringify(first)}: expected serve, replay or help`);
  }
  if (rest.length) throw new RouterConfigError(`unexpected argument ${JSON.stringify(rest[0])}`);
  const command: RouterCommand = v.help || first === undefined ? 'help' : (first as RouterCommand);
  const flags: RouterFlags = {
    port: v.port,
    host: v.host,
    db: v.db,
    databaseUrl: v['database-url'],
    redisUrl: v['redis-url'],
    publicUrl: v['public-url'],
    trustProxy: v['trust-proxy'],
    twilioUrl: v['twilio-url'],
    config: v.config,
    apiToken: v['api-token'],
    logLevel: v['log-level'],
    concurrency: v.concurrency,
    databaseSchema: v['database-schema'],
    redisKeyPrefix: v['redis-key-prefix'],
    ingressOnly: v['ingress-only'],
    noWorkerThread: v['no-worker-thread'],
    check: v.check,
  };
  for (const k of Object.keys(flags) as Array<keyof RouterFlags>) if (flags[k] === undefined) delete flags[k];
  return { command, flags };
}
