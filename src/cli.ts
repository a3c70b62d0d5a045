/**
 * `tce`: one binary. The CLI only parses flags and calls the library (createEmulator, …).
 *   tce serve [--port 4510] [--host 127.0.0.1] [--db .tce/emulator.sqlite|:memory:] [--account-sid AC…]
 *             [--auth-token …] [--public-url URL] [--seed S] [--clock real|manual] [--control-token T]
 *             [--validate-responses] [--log]
 *   tce contracts coverage      the 103 operations: served, exercised by the test suite (exit 1 below 103/103)
 *   tce contracts manifest      rebuild fixtures/openapi/conversations-v1.manifest.json from the spec
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { createEmulator, type EmulatorOptions } from './emulator/create-emulator.js';
import { loadConversationsSpec, loadManifest, manifestPath } from './contracts/spec.js';
import { coverage, DEFAULT_EXERCISED_DIR, formatCoverage, readExercised } from './contracts/coverage.js';
import { buildRouteTable } from './emulator/http/routes.js';
import { version } from './version.js';

const USAGE = `tce ${version}: the Twilio Conversations Emulator

Usage:
  tce serve [options]          run the emulator
  tce contracts coverage       every spec operation: served? exercised by the tests? (exit 1 below all)
       [--exercised DIR] [--json]  (DIR: where the test suite records what it called; default .tce/coverage)
  tce contracts manifest       rebuild the operation manifest from fixtures/openapi
  tce --version

serve options:
  --port <n>              port to listen on (default 4510)
  --host <addr>           address to bind (default 127.0.0.1)
  --db <file|:memory:>    SQLite database (default .tce/emulator.sqlite)
  --account-sid <AC…>     first account's SID (default: TWILIO_ACCOUNT_SID, else generated)
  --auth-token <token>    first account's auth token (default: TWILIO_AUTH_TOKEN, else generated)
  --public-url <url>      base of every url, links and page URL (default: the request's origin)
  --seed <s>              deterministic SIDs and random draws
  --clock <real|manual>   start with a manual clock (advance it with POST /_emulator/clock)
  --control-token <t>     require "Authorization: Bearer <t>" on /_emulator/*
  --validate-responses    check every answer against the OpenAPI spec; report violations on stderr
  --log                   log every request
`;

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '4510' },
      host: { type: 'string', default: '127.0.0.1' },
      db: { type: 'string', default: '.tce/emulator.sqlite' },
      'account-sid': { type: 'string' },
      'auth-token': { type: 'string' },
      'public-url': { type: 'string' },
      seed: { type: 'string' },
      clock: { type: 'string', default: 'real' },
      'control-token': { type: 'string' },
      'validate-responses': { type: 'boolean', default: false },
      log: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, got ${values.port}`);
  if (values.clock !== 'real' && values.clock !== 'manual') throw new Error(`--clock must be real or manual, got ${values.clock}`);
  const accountSid = values['account-sid'] ?? process.env.TWILIO_ACCOUNT_SID;
  const authToken = values['auth-token'] ?? process.env.TWILIO_AUTH_TOKEN;
  const onAnswer = values['validate-responses'] ? await responseChecker() : undefined;
  const emulator = await createEmulator({
    port,
    host: values.host,
    db: values.db,
    accountSid: accountSid || undefined,
    authToken: authToken || undefined,
    publicUrl: values['public-url'],
    seed: values.seed,
    clock: values.clock,
    controlToken: values['control-token'],
    logger: values.log,
    onAnswer,
  });
  const generated = !authToken;
  process.stdout.write(
    `tce ${version} listening on ${emulator.url} (db ${values.db})\n` +
      `  TWILIO_ACCOUNT_SID=${emulator.accountSid}\n` +
      `  TWILIO_AUTH_TOKEN=${generated ? emulator.authToken : '(as given)'}\n` +
      `  default Conversation Service ${emulator.defaultServiceSid}\n`,
  );
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stdout.write(`tce: ${signal}, closing\n`);
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** --validate-responses: check every REST answer against the spec and report violations on stderr. */
async function responseChecker(): Promise<NonNullable<EmulatorOptions['onAnswer']>> {
  const { ResponseValidator } = await import('./contracts/response-validator.js');
  const validator = new ResponseValidator(await loadConversationsSpec());
  return (route, status, body) => {
    const violation = validator.validate(route.op.operationId, status, body);
    if (violation) process.stderr.write(`tce: response violates the spec: ${JSON.stringify(violation)}\n`);
  };
}

async function contracts(argv: string[]): Promise<void> {
  const [what] = argv;
  if (what === 'coverage') {
    const { values } = parseArgs({ args: argv.slice(1), options: { exercised: { type: 'string', default: DEFAULT_EXERCISED_DIR }, json: { type: 'boolean', default: false } } });
    const operations = loadManifest();
    const served = new Set(buildRouteTable(operations).routes.map((r) => r.op.operationId));
    const rows = coverage(operations, served, readExercised(values.exercised));
    process.stdout.write(values.json ? `${JSON.stringify(rows, null, 1)}\n` : `${formatCoverage(rows)}\n`);
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
  throw new Error(`unknown contracts command: ${what ?? '(none)'}; try: tce contracts coverage | manifest`);
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'contracts':
      return contracts(rest);
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
