/**
 * The flags of `tce serve`, in one place: `tce exec` runs the same emulator around one command and takes every one
 * of them. `parseCommandFlags` reads a command line against a flag table (a mistake is a UsageError naming the
 * flag: exit 2); `emulatorSettings` turns the serve flags into createEmulator's options, with the command's own
 * defaults (serve: port 4510 and a database file; exec: a free port and :memory:).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../shared/usage-error.js';
import { isLoopback } from './http/bind.js';
import { parseRateLimitFlag } from './http/limits.js';
import { DURABILITY_LEVELS, type Durability } from './store/database.js';
import type { EmulatorOptions } from './create-emulator.js';

type FlagTable = NonNullable<ParseArgsConfig['options']>;

/** `tce serve`'s flags; `--port` and `--db` have no parse default: each command supplies its own. */
export const SERVE_FLAGS = {
  port: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  db: { type: 'string' },
  'account-sid': { type: 'string' },
  'auth-token': { type: 'string' },
  'public-url': { type: 'string' },
  seed: { type: 'string' },
  clock: { type: 'string', default: 'real' },
  'control-token': { type: 'string' },
  'unsafe-open-control-plane': { type: 'boolean', default: false },
  'request-timeout': { type: 'string' },
  'rate-limit': { type: 'string' },
  'webhook-transport': { type: 'string', default: 'worker' },
  durability: { type: 'string', default: 'off' },
  'validate-responses': { type: 'boolean', default: false },
  log: { type: 'boolean', default: false },
  import: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const satisfies FlagTable;

type Values<T extends FlagTable> = ReturnType<typeof parseArgs<{ options: T; strict: true }>>['values'];
export type ServeValues = Values<typeof SERVE_FLAGS>;

/**
 * `argv` read against `flags`; an unknown flag, a flag without its value or a stray argument is a UsageError
 * that names it, then the usage line.
 */
export function parseCommandFlags<T extends FlagTable>(command: string, argv: string[], flags: T, usage: string): Values<T> {
  try {
    return parseArgs({ args: argv, options: flags, strict: true }).values as Values<T>;
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
    // node's own messages, minus its advice about positionals (which does not apply here)
    const what =
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown
        ? `unknown flag ${unknown}`
        : code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
          ? `unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? ''}`.trim()
          : message.split('. ')[0];
    throw new UsageError(`${command}: ${what}; usage: ${usage}`);
  }
}

export interface SettingDefaults {
  /** used when neither --port nor (with `env`) TCE_PORT / PORT says */
  port: number;
  db: string;
  /**
   * Where TCE_PORT, PORT, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are read from (serve: process.env).
   * Without it only flags count (exec: those variables belong to the command it runs).
   */
  env?: NodeJS.ProcessEnv;
}

export interface EmulatorSettings {
  options: EmulatorOptions;
  /** --import: a snapshot file to load before listening */
  importFile: string | undefined;
  /** a non-loopback host without a control token (only with --unsafe-open-control-plane) */
  openControlPlane: boolean;
}

function parsePort(text: string, source: string): number {
  const port = Number(text);
  if (text.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${source} must be 0-65535, got ${text}`);
  return port;
}

/** '60s', '500ms', '2m', '1.5s'; a bare number is seconds. Returns milliseconds. */
function parseDeadline(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000) : NaN;
  if (!(ms >= 1)) throw new UsageError(`${flag} must be a duration of at least 1ms, like 500ms, 60s or 2m, got ${text}`);
  return ms;
}

/** The serve flags as createEmulator options; a bad value is a UsageError naming its flag (or variable). */
export async function emulatorSettings(values: ServeValues, defaults: SettingDefaults): Promise<EmulatorSettings> {
  const env = defaults.env ?? {};
  const port =
    values.port !== undefined
      ? parsePort(values.port, '--port')
      : env.TCE_PORT
        ? parsePort(env.TCE_PORT, 'TCE_PORT')
        : env.PORT
          ? parsePort(env.PORT, 'PORT')
          : defaults.port;
  const clock = values.clock;
  if (clock !== 'real' && clock !== 'manual') throw new UsageError(`--clock must be real or manual, got ${clock}`);
  const webhookTransport = values['webhook-transport'];
  if (webhookTransport !== 'worker' && webhookTransport !== 'inline') throw new UsageError(`--webhook-transport must be worker or inline, got ${webhookTransport}`);
  const durability = values.durability as Durability;
  if (!DURABILITY_LEVELS.includes(durability)) throw new UsageError(`--durability must be off, normal or full, got ${values.durability}`);
  const host = values.host;
  const openControlPlane = !values['control-token'] && !(await isLoopback(host));
  if (openControlPlane && !values['unsafe-open-control-plane']) {
    throw new UsageError(`--host ${host} exposes the control plane (/_emulator: API keys, reset) to the network: pass --control-token <t>, or --unsafe-open-control-plane`);
  }
  let rateLimit: EmulatorOptions['rateLimit'];
  if (values['rate-limit'] !== undefined) {
    try {
      rateLimit = parseRateLimitFlag(values['rate-limit']);
    } catch (error) {
      throw new UsageError(`--rate-limit must be rps[,burst[,concurrency]], got ${values['rate-limit']}: ${(error as Error).message}`);
    }
  }
  const accountSid = values['account-sid'] ?? env.TWILIO_ACCOUNT_SID;
  const authToken = values['auth-token'] ?? env.TWILIO_AUTH_TOKEN;
  return {
    options: {
      port,
      host,
      db: values.db ?? defaults.db,
      accountSid: accountSid || undefined,
      authToken: authToken || undefined,
      publicUrl: values['public-url'],
      seed: values.seed,
      clock,
      controlToken: values['control-token'],
      unsafeOpenControlPlane: values['unsafe-open-control-plane'],
      requestTimeoutMs: values['request-timeout'] === undefined ? undefined : parseDeadline(values['request-timeout'], '--request-timeout'),
      rateLimit,
      logger: values.log,
      webhookTransport,
      durability,
      onAnswer: values['validate-responses'] ? await responseChecker() : undefined,
    },
    importFile: values.import,
    openControlPlane,
  };
}

/** --validate-responses: check every REST answer against the spec and report violations on stderr. */
async function responseChecker(): Promise<NonNullable<EmulatorOptions['onAnswer']>> {
  // loaded on demand: only this flag pays for the spec and ajv
  const { loadConversationsSpec } = await import('../contracts/spec.js');
  const { ResponseValidator } = await import('../contracts/response-validator.js');
  const validator = new ResponseValidator(await loadConversationsSpec());
  return (route, status, body) => {
    const violation = validator.validate(route.op.operationId, status, body);
    if (violation) process.stderr.write(`tce: response violates the spec: ${JSON.stringify(violation)}\n`);
  };
}
