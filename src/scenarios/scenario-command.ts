/**
 * `tce scenario list` / `tce scenario run [suite|name…] [flags]`: parses flags and calls runScenarios. Exit 1 on any
 * failed scenario; a bad flag is one line naming it.
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { builtInScenarios, selectScenarios } from './suites/index.js';
import { runScenarios } from './runner.js';
import { formatLine, formatStart, formatSummary, toJson, toJunit } from './report.js';
import { freshSeed } from './random.js';
import type { Recorder } from '../contracts/recorder.js';
import type { Target } from './target.js';

export const SCENARIO_USAGE = `Usage:
  tce scenario list [--json]             every scenario: suite, name, tags, needs
  tce scenario run [suite|name…] [options]
    --target emulator|twilio the target (default emulator)
    --emulator-url <url>     emulator: a running tce serve (default: an in-process emulator)
    --control-token <t>      emulator: that emulator's --control-token
    --public-url <url>       twilio: your tunnel's public URL, forwarding to the receiver (default its local URL)
    --listen-port <n>        twilio: the receiver's local port, the tunnel's end (default the public URL's, or any)
    --twilio-url <url>       twilio: another Twilio API origin (default real Twilio; the emulator in tests)
                             twilio reads TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET,
                             TWILIO_AUTH_TOKEN, TCE_SCENARIO_NUMBER (A) and TCE_SCENARIO_CUSTOMER_NUMBER (B)
    --record <dir>           save every REST exchange and webhook of the run, sanitized, as DIR/recording.json
    --consumer <url>         your webhook service instead of the reference router
    --consumer-token <t>     its API's bearer token (default TCE_CONSUMER_API_TOKEN)
    --db <file|:memory:>     the reference router's SQLite (default :memory:, fresh per scenario)
    --database-url <url>     the reference router on PostgreSQL (DATABASE_URL)
    --redis-url <url>        ... and Redis (REDIS_URL)
    --seed <s>               repeat a run's draws (printed by every run)
    --json                   print { passed, failed, skipped, seed, scenarios } on stdout
    --junit <file>           also write JUnit XML there
`;

function list(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } }, strict: true });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(builtInScenarios.map((s) => ({ name: s.name, suite: s.suite, tags: s.tags, needs: s.needs, description: s.description })), null, 1)}\n`);
    return;
  }
  for (const s of builtInScenarios) {
    process.stdout.write(`${s.suite} / ${s.name}\n    tags: ${s.tags.join(', ') || '-'}; needs: ${s.needs.join(', ') || '-'}${s.description ? `\n    ${s.description}` : ''}\n`);
  }
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      target: { type: 'string', default: 'emulator' },
      'emulator-url': { type: 'string' },
      'control-token': { type: 'string' },
      'public-url': { type: 'string' },
      'listen-port': { type: 'string' },
      'twilio-url': { type: 'string' },
      record: { type: 'string' },
      consumer: { type: 'string' },
      'consumer-token': { type: 'string' },
      db: { type: 'string' },
      'database-url': { type: 'string' },
      'redis-url': { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
      junit: { type: 'string' },
    },
  });
  if (values.target !== 'emulator' && values.target !== 'twilio') throw new Error(`--target must be emulator or twilio, got ${values.target}`);
  const twilioTarget = values.target === 'twilio';
  for (const flag of ['public-url', 'listen-port', 'twilio-url'] as const) {
    if (!twilioTarget && values[flag] !== undefined) throw new Error(`--${flag} is for --target twilio`);
  }
  for (const flag of ['emulator-url', 'control-token'] as const) {
    if (twilioTarget && values[flag] !== undefined) throw new Error(`--${flag} is for --target emulator (--twilio-url points the twilio target elsewhere)`);
  }
  if (values['listen-port'] !== undefined && !/^\d{1,5}$/.test(values['listen-port'])) throw new Error(`--listen-port must be a port number, got ${values['listen-port']}`);
  if (values.record === '') throw new Error('--record needs a directory');
  if (values['emulator-url'] !== undefined && !/^https?:\/\/[^/]+/.test(values['emulator-url'])) throw new Error(`--emulator-url must be an http(s) URL, got ${values['emulator-url']}`);
  if (values.consumer !== undefined && !/^https?:\/\/[^/]+/.test(values.consumer)) throw new Error(`--consumer must be an http(s) URL, got ${values.consumer}`);
  if (values.seed !== undefined && !/^[\w.:-]{1,64}$/.test(values.seed)) throw new Error(`--seed must be 1-64 letters, digits, . : _ or -, got ${values.seed}`);
  if (values.junit === '') throw new Error('--junit needs a file name');
  if (values['database-url'] !== undefined && !/^postgres(ql)?:\/\//.test(values['database-url'])) throw new Error(`--database-url must be postgres://…, got ${values['database-url']}`);
  if (values['redis-url'] !== undefined && !/^rediss?:\/\//.test(values['redis-url'])) throw new Error(`--redis-url must be redis://…, got ${values['redis-url']}`);
  if (values.consumer !== undefined && (values.db ?? values['database-url'] ?? values['redis-url']) !== undefined) throw new Error('--db, --database-url and --redis-url are the reference router\'s: not with --consumer');
  const scenarios = selectScenarios(builtInScenarios, positionals);
  const seed = values.seed ?? freshSeed();
  const { connectConsumer, startReferenceRouter } = await import('./consumer.js');
  let recorder: Recorder | undefined;
  let target: Target;
  if (twilioTarget) {
    const { createTwilioTarget, twilioTargetOptionsFromEnv } = await import('./targets/twilio.js');
    const options = twilioTargetOptionsFromEnv(process.env, { publicUrl: values['public-url'], twilioUrl: values['twilio-url'], listenPort: values['listen-port'] === undefined ? undefined : Number(values['listen-port']) });
    if (values.record !== undefined) recorder = await newRecorder(options.accountSid, [options.apiKeySecret, options.authToken]);
    target = await createTwilioTarget({ ...options, recorder });
  } else {
    const { createEmulatorTarget } = await import('./targets/emulator.js');
    const { Recorder } = await import('../contracts/recorder.js');
    const record = values.record === undefined ? undefined : (accountSid: string) => (recorder = new Recorder({ accountSid }));
    target = await createEmulatorTarget({ url: values['emulator-url'], controlToken: values['control-token'], seed, recorder: record });
  }
  try {
    const consumerUrl = values.consumer;
    const startConsumer = consumerUrl ? () => connectConsumer(consumerUrl, { apiToken: values['consumer-token'] }) : () => startReferenceRouter(target, { db: values.db, databaseUrl: values['database-url'], redisUrl: values['redis-url'] });
    const live = process.stderr.isTTY;
    process.stderr.write(`tce scenario: ${scenarios.length} scenario(s) against ${target.name}, seed ${seed}\n`);
    const result = await runScenarios(scenarios, {
      target,
      seed,
      // real SMS take seconds each; the emulator's a few milliseconds
      ...(twilioTarget ? { timeoutMs: 180_000 } : {}),
      startConsumer,
      onStart: (s) => live && process.stderr.write(formatStart(s)),
      onResult: (r) => process.stderr.write(`${live ? '\r\x1b[2K' : ''}${formatLine(r)}\n`),
    });
    process.stdout.write(values.json ? `${JSON.stringify(toJson(result), null, 1)}\n` : formatSummary(result));
    if (values.junit) writeFileSync(values.junit, toJunit(result));

    if (result.failed > 0) process.exitCode = 1;
  } finally {
    await target.close();
    // saved even when a scenario failed: the recording is how the failure is studied
    if (recorder && values.record) process.stderr.write(`tce scenario: recorded ${recorder.entries.length} exchange(s) and webhook(s) in ${recorder.save(values.record)}\n`);
  }
}

async function newRecorder(accountSid: string | undefined, secrets: string[]): Promise<Recorder> {
  const { Recorder } = await import('../contracts/recorder.js');
  return new Recorder({ accountSid, secrets });
}

export async function scenarioCommand(argv: string[]): Promise<void> {
  const [what, ...rest] = argv;
  switch (what) {
    case 'list':
      return list(rest);
    case 'run':
      return run(rest);
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(SCENARIO_USAGE);
      return;
    default:
      throw new Error(`unknown scenario command: ${what}; try: tce scenario list | run`);
  }
}
