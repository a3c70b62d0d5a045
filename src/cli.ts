/**
 * `tce`: one binary. The CLI only parses flags and calls the library (createEmulator, …).
 *   tce serve [--port 4510|TCE_PORT|PORT] [--host 127.0.0.1] [--db .tce/emulator.sqlite|:memory:] [--account-sid AC…]
 *             [--auth-token …] [--public-url URL] [--seed S] [--clock real|manual] [--control-token T]
 *             [--unsafe-open-control-plane] [--request-timeout 30s]
 *             [--webhook-transport worker|inline] [--durability off|normal|full] [--validate-responses] [--log]
 *             [--rate-limit r[,b[,c]]] [--import FILE]   (the flag table: src/emulator/serve-flags.ts)
 *   tce exec [--export FILE] [serve flags] -- <command…>   a fresh emulator around one command (src/emulator/exec)
 *   tce load --url URL --rate N --duration 60s --auth-token T [...]   signed webhook traffic into a consumer
 *   tce router serve|replay [...]   the reference webhook router (src/router; its flags: src/router/config-args.ts)
 *   tce scenario list|run [...]     the scenario suites (src/scenarios; flags: src/scenarios/scenario-command.ts)
 *   tce contracts coverage      the 103 operations: served, exercised by the test suite (exit 1 below 103/103)
 *   tce contracts manifest      rebuild fixtures/openapi/conversations-v1.manifest.json from the spec
 *   tce contracts diff DIR [--emulator-url URL] [--control-token T]   replay a recording, print every drift (exit 1)
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { loadConversationsSpec, loadManifest, manifestPath } from './contracts/spec.js';
import { coverage, DEFAULT_EXERCISED_DIR, formatCoverage, readExercised } from './contracts/coverage.js';
import { buildRouteTable } from './emulator/http/routes.js';
import { version } from './version.js';
import { closeOnSignals } from './shutdown.js';
import { startWithImport } from './emulator/snapshot/snapshot-command.js';
import { emulatorSettings, parseCommandFlags, SERVE_FLAGS } from './emulator/serve-flags.js';

const USAGE = `tce ${version}: the Twilio Conversations Emulator

Usage:
  tce serve [options]          run the emulator
  tce load [options]           push signed Conversations webhooks into your consumer at a fixed rate
  tce router serve|replay      the reference webhook router (tce router help lists its flags)
  tce replay --from FILE --url URL   re-send captured webhooks (JSON Lines), re-signed, timing kept (tce replay --help)
  tce scenario list|run        contract-test suites (stop, delivery-failure, ordering, idempotency, rate-limit)
                               against the emulator or real Twilio (--target twilio), for the reference router
                               or --consumer URL (tce scenario help)
  tce contracts coverage       every spec operation: served? exercised by the tests? (exit 1 below all)
       [--exercised DIR] [--json | --table]  (one summary line and the operations missing; --table: all of them;
                                    DIR: where the test suite records what it called; default .tce/coverage)
  tce contracts manifest       rebuild the operation manifest from fixtures/openapi
  tce contracts diff DIR       replay a recording (docs/recording-format.md) against a fresh emulator account
       [--emulator-url URL] [--control-token T]
                               and print every difference in status, error code, fields, types, enums (exit 1 on any)
  tce snapshot save|load FILE --url URL [--control-token T]   a running emulator's state to a file and back
  tce exec [--export F] [serve options] -- <command…>   run a command against a fresh emulator (a free port,
                               :memory:, every serve option; TCE_URL, TWILIO_ACCOUNT_SID/AUTH_TOKEN,
                               TWILIO_API_KEY_SID/SECRET to the command); exits with its exit code
  tce token --identity ID [--url URL] [--account-sid AC…] [--service-sid IS…] [--ttl SECONDS]
                               print an Access Token (ChatGrant) the emulator accepts, for the client SDKs
  tce --version

serve options:
  --port <n>              port to listen on (default: TCE_PORT, else PORT, else 4510)
  --host <addr>           address to bind (default 127.0.0.1)
  --db <file|:memory:>    SQLite database (default .tce/emulator.sqlite)
  --durability <off|normal|full>
                          what an acknowledged write survives (default off; README "Durability")
  --account-sid <AC…>     first account's SID (default: TWILIO_ACCOUNT_SID, else generated)
  --auth-token <token>    first account's auth token (default: TWILIO_AUTH_TOKEN, else generated)
  --public-url <url>      base of every url, links and page URL (default: the request's origin)
  --seed <s>              deterministic SIDs and random draws
  --clock <real|manual>   start with a manual clock (advance it with POST /_emulator/clock)
  --control-token <t>     require "Authorization: Bearer <t>" on /_emulator/* (health stays open);
                          needed to bind a --host other than loopback
  --unsafe-open-control-plane
                          bind a non-loopback --host without --control-token anyway
  --request-timeout <d>   deadline for a request's headers and body (default 30s; 408 past it)
  --rate-limit <r[,b[,c]]> per-account limits: r requests/s, burst b, c concurrent (429/20429 past them)
  --webhook-transport <worker|inline>
                          send webhooks from a thread of their own (default worker) or the main thread
  --validate-responses    check every answer against the OpenAPI spec; report violations on stderr
  --log                   log every request
  --import <file>         load a snapshot (tce snapshot save) before listening

load options (durations: 500ms, 60s, 2m; a bare number is seconds, milliseconds for --max-p99):
  --url <url>             the webhook consumer (required); the URL signed
  --auth-token <token>    signs X-Twilio-Signature (default: TWILIO_AUTH_TOKEN; required)
  --account-sid <AC…>     AccountSid in the payloads (default: TWILIO_ACCOUNT_SID, else generated)
  --rate <n>              requests per second, duplicates included (default 100)
  --duration <d>          how long to send (default 10s)
  --conversations <n>     conversations the events spread over (default 100)
  --duplicates <p>        probability a request is sent again later, same idempotency token (default 0)
  --reorder <p>           probability a message is held until after its conversation's next one (default 0)
  --connections <n>       keep-alive connections (default 128)
  --timeout <d>           per-request timeout (default 5s)
  --max-in-flight <n>     requests in flight beyond which due ones are dropped (default 20000)
  --seed <s>              the same events, duplicates and reorders every run
  --check-url <url>       after the run, GET it expecting {"applied": n}; report lost / applied twice
  --max-p99 <d>           exit 1 when latency p99 is above
  --max-error-rate <r>    exit 1 when (non-2xx + timeouts + connection errors + dropped) / requests is above
  --json                  print the result as JSON on stdout instead of the table
`;

async function serve(argv: string[]): Promise<void> {
  const values = parseCommandFlags('tce serve', argv, SERVE_FLAGS, 'tce serve [options] (tce --help lists them)');
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const { options, importFile, openControlPlane } = await emulatorSettings(values, { port: 4510, db: '.tce/emulator.sqlite', env: process.env });
  const emulator = await startWithImport(options, importFile);
  const generated = !options.authToken;
  const host = values.host;
  // the address really bound; when that is every interface, also the URL to use from this machine
  const bound = `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${emulator.port}`;
  if (openControlPlane) process.stderr.write(`tce: warning: the control plane ${bound}/_emulator is open to anyone who reaches the port\n`);
  process.stdout.write(
    `tce ${version} listening on ${bound}${bound === emulator.url ? '' : ` (from this machine: ${emulator.url})`} (db ${options.db}, durability ${options.durability})\n` +
      `  TWILIO_ACCOUNT_SID=${emulator.accountSid}\n` +
      `  TWILIO_AUTH_TOKEN=${generated ? emulator.authToken : '(as given)'}\n` +
      `  TWILIO_TEST_ACCOUNT_SID=${emulator.testAccountSid}\n` +
      `  TWILIO_TEST_AUTH_TOKEN=${emulator.testAuthToken}\n` +
      `  default Conversation Service ${emulator.defaultServiceSid}\n`,
  );
  // close() is bounded (about 2 s): it finishes or hands pending deliveries to the next start
  closeOnSignals('tce', () => emulator.close());
}

async function contracts(argv: string[]): Promise<void> {
  const [what] = argv;
  if (what === 'coverage') {
    const { values } = parseArgs({ args: argv.slice(1), options: { exercised: { type: 'string', default: DEFAULT_EXERCISED_DIR }, json: { type: 'boolean', default: false }, table: { type: 'boolean', default: false } } });
    const operations = loadManifest();
    const served = new Set(buildRouteTable(operations).routes.map((r) => r.op.operationId));
    const rows = coverage(operations, served, readExercised(values.exercised));
    process.stdout.write(values.json ? `${JSON.stringify(rows, null, 1)}\n` : `${formatCoverage(rows, { table: values.table })}\n`);
    const complete = rows.every((r) => r.served && r.exercised);
    if (!complete) process.exitCode = 1;
    return;
  }
  if (what === 'manifest') {
    const spec = await loadConversationsSpec();
    writeFileSync(manifestPath, JSON.stringify(spec.operations, null, 1) + '\n');
    process.stdout.write(`wrote ${spec.operations.length} operations to ${manifestPath}\n`);
    return;
  }
  if (what === 'diff') {
    const { values, positionals } = parseArgs({ args: argv.slice(1), allowPositionals: true, options: { 'emulator-url': { type: 'string' }, 'control-token': { type: 'string' } } });
    if (positionals.length !== 1) throw new Error('tce contracts diff needs one recording directory: tce contracts diff DIR [--emulator-url URL]');
    // loaded on demand, like the spec: only this command pays for them
    const { diffRecording, diffTarget, formatDiff } = await import('./contracts/replay.js');
    const { readRecording } = await import('./contracts/recording.js');
    readRecording(positionals[0]); // a bad directory or file fails before any emulator starts
    const target = await diffTarget(values['emulator-url'], values['control-token']);
    try {
      const result = await diffRecording(positionals[0], target);
      process.stdout.write(formatDiff(positionals[0], result));
      if (result.differences.length > 0) process.exitCode = 1;
    } finally {
      await target.close();
    }
    return;
  }
  throw new Error(`unknown contracts command: ${what ?? '(none)'}; try: tce contracts coverage | manifest | diff DIR`);
}

/** '60s', '500ms', '2m', '1.5s'; a bare number is in `bareUnit`. Returns milliseconds. */
export function parseDuration(text: string, flag: string, bareUnit: 'ms' | 's' = 's'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`${flag} must be a duration like 500ms, 60s or 2m, got ${text}`);
  const unit = m[2] ?? bareUnit;
  const value = Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000);
  return value;
}

function parseNumber(text: string, flag: string, check: (n: number) => boolean, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || !check(n)) throw new Error(`${flag} must be ${what}, got ${text}`);
  return n;
}

async function load(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      rate: { type: 'string', default: '100' },
      duration: { type: 'string', default: '10s' },
      conversations: { type: 'string', default: '100' },
      duplicates: { type: 'string', default: '0' },
      reorder: { type: 'string', default: '0' },
      'auth-token': { type: 'string' },
      'account-sid': { type: 'string' },
      connections: { type: 'string', default: '128' },
      timeout: { type: 'string', default: '5s' },
      'max-in-flight': { type: 'string', default: '20000' },
      seed: { type: 'string' },
      'check-url': { type: 'string' },
      'max-p99': { type: 'string' },
      'max-error-rate': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!values.url) throw new Error('tce load needs --url (the webhook consumer)');
  const authToken = values['auth-token'] ?? process.env.TWILIO_AUTH_TOKEN;
  if (!authToken) throw new Error('tce load needs --auth-token (or TWILIO_AUTH_TOKEN) to sign the requests');
  const accountSid = values['account-sid'] ?? (process.env.TWILIO_ACCOUNT_SID || undefined);
  if (accountSid !== undefined && !/^AC[0-9a-fA-F]{32}$/.test(accountSid)) throw new Error(`--account-sid must be AC + 32 hex, got ${accountSid}`);
  const positive = (n: number) => n > 0;
  const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
  const probability = (n: number) => n >= 0 && n <= 1;
  const progress = !values.json && process.stderr.isTTY;
  // imported here: `tce serve` must not pay for undici and the load engine at start-up
  const { runLoad } = await import('./load/runner.js');
  const { formatProgress, formatReport } = await import('./load/report.js');
  const stats = await runLoad({
    url: values.url,
    authToken,
    accountSid,
    rate: parseNumber(values.rate, '--rate', positive, 'a positive number'),
    durationMs: parseDuration(values.duration, '--duration'),
    conversations: parseNumber(values.conversations, '--conversations', positiveInt, 'a positive integer'),
    duplicates: parseNumber(values.duplicates, '--duplicates', probability, 'a probability 0..1'),
    reorder: parseNumber(values.reorder, '--reorder', probability, 'a probability 0..1'),
    connections: parseNumber(values.connections, '--connections', positiveInt, 'a positive integer'),
    timeoutMs: parseDuration(values.timeout, '--timeout'),
    maxInFlight: parseNumber(values['max-in-flight'], '--max-in-flight', positiveInt, 'a positive integer'),
    seed: values.seed,
    checkUrl: values['check-url'],
    maxP99Ms: values['max-p99'] === undefined ? undefined : parseDuration(values['max-p99'], '--max-p99', 'ms'),
    maxErrorRate: values['max-error-rate'] === undefined ? undefined : parseNumber(values['max-error-rate'], '--max-error-rate', probability, 'a rate 0..1'),
    onProgress: progress ? (p) => process.stderr.write(`\r\x1b[2K${formatProgress(p)}`) : undefined,
  });
  if (progress) process.stderr.write('\n');
  process.stdout.write(values.json ? `${JSON.stringify(stats, null, 1)}\n` : formatReport(stats));
  if (!stats.passed) {
    const failed = stats.thresholds.filter((t) => !t.passed).map((t) => t.name);
    process.stderr.write(`tce load: threshold failed: ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'contracts':
      return contracts(rest);
    case 'load':
      return load(rest);
    case 'router':
      // loaded on demand: the emulator's commands never pay for pg, ioredis and pino
      return (await import('./router/router-command.js')).routerCommand(rest);
    case 'exec':
      return (await import('./emulator/exec/exec-command.js')).execCommand(rest);
    case 'snapshot':
      return (await import('./emulator/snapshot/snapshot-command.js')).snapshotCommand(rest);
    case 'scenario':
      // loaded on demand, like the router (the scenarios start it)
      return (await import('./scenarios/scenario-command.js')).scenarioCommand(rest);
    case 'replay':
      return (await import('./replay/replay-command.js')).replayCommand(rest);
    case 'token':
      return (await import('./emulator/realtime/token-command.js')).tokenCommand(rest);
    case '--version':
    case '-v':
      process.stdout.write(`${version}\n`);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      throw new Error(`unknown command: ${command}\n\n${USAGE}`);
  }
}
