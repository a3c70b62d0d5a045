/**
 * `tce token --identity alice [--url URL] [--account-sid AC…] [--service-sid IS…] [--ttl 3600] [--control-token T]`:
 * prints an Access Token a running emulator accepts. It asks the control plane for a fresh API key and for the
 * emulator's time (a manual clock included), and signs the token as `twilio.jwt.AccessToken` would.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../../shared/usage-error.js';
import { mintAccessToken } from './access-token.js';

const USAGE = 'tce token --identity ID [--url URL] [--account-sid AC…] [--service-sid IS…] [--ttl SECONDS] [--control-token T]';
const DEFAULT_URL = 'http://127.0.0.1:4510';
/** how long the emulator may take to answer each of the three calls */
const CALL_DEADLINE_MS = 10_000;
const FLAGS = ['identity', 'url', 'account-sid', 'service-sid', 'ttl', 'control-token'];

async function call(url: string, method: 'GET' | 'POST', path: string, token: string | undefined, body?: unknown): Promise<Record<string, unknown>> {
  let target: URL;
  try {
    target = new URL(path, url);
  } catch {
    throw new UsageError(`--url must be the emulator's URL, like ${DEFAULT_URL}, got ${url}`);
  }
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(target, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(CALL_DEADLINE_MS) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new UsageError(`--url ${url}: no answer from the emulator (${cause})`);
  }
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // a non-JSON answer: not an emulator, reported below
  }
  if (response.status === 401) throw new UsageError(`the emulator's control plane wants --control-token (${String(parsed.message ?? response.status)})`);
  if (response.status === 404 && path.startsWith('/_emulator/accounts/')) throw new UsageError(`--account-sid: no such account in the emulator at ${url}`);
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${String(parsed.message ?? text.slice(0, 200))}`);
  return parsed;
}

function parseTtl(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) <= 0 || Number(value) > 86_400) {
    throw new UsageError(`--ttl must be a whole number of seconds from 1 to 86400 (24 h, Twilio's maximum), got ${value}`);
  }
  return Number(value);
}

export async function tokenCommand(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: false, options: Object.fromEntries(FLAGS.map((f) => [f, { type: 'string' as const }])) });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; usage: ${USAGE}`);
  }
  const { values, positionals } = parsed;
  const unknown = Object.keys(values).filter((k) => !FLAGS.includes(k));
  if (unknown.length) throw new UsageError(`unknown flag --${unknown[0]}; usage: ${USAGE}`);
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}; usage: ${USAGE}`);
  for (const flag of FLAGS) {
    if (values[flag] !== undefined && typeof values[flag] !== 'string') throw new UsageError(`--${flag} needs a value; usage: ${USAGE}`);
  }
  const flag = (name: string) => values[name] as string | undefined;
  const identity = flag('identity');
  if (!identity) throw new UsageError(`tce token needs --identity (the user the token is for); usage: ${USAGE}`);
  const ttl = parseTtl(flag('ttl'));
  const accountFlag = flag('account-sid');
  if (accountFlag !== undefined && !/^AC[0-9a-f]{32}$/.test(accountFlag)) throw new UsageError(`--account-sid must be AC followed by 32 hex characters, got ${accountFlag}`);
  const serviceFlag = flag('service-sid');
  if (serviceFlag !== undefined && !/^IS[0-9a-f]{32}$/.test(serviceFlag)) throw new UsageError(`--service-sid must be IS followed by 32 hex characters, got ${serviceFlag}`);
  const url = flag('url') ?? process.env.TCE_URL ?? DEFAULT_URL;
  const controlToken = flag('control-token');

  let account: Record<string, unknown>;
  if (accountFlag) {
    account = await call(url, 'GET', `/_emulator/accounts/${accountFlag}`, controlToken);
  } else {
    const accounts = (await call(url, 'GET', '/_emulator/accounts', controlToken)).accounts as Record<string, unknown>[] | undefined;
    if (!accounts?.length) throw new Error(`the emulator at ${url} has no account`);
    account = accounts[0] as Record<string, unknown>;
  }
  const accountSid = account.accountSid as string;
  const key = await call(url, 'POST', `/_emulator/accounts/${accountSid}/keys`, controlToken, { friendlyName: `tce token ${identity}` });
  // an empty body changes nothing and answers the emulator's time
  const clock = await call(url, 'POST', '/_emulator/clock', controlToken, {});
  const jwt = mintAccessToken(
    { sid: key.sid as string, secret: key.secret as string, accountSid },
    { identity, serviceSid: serviceFlag ?? (account.defaultServiceSid as string), ttl, now: Date.parse(clock.now as string) },
  );
  process.stdout.write(`${jwt}\n`);
}
