/**
 * `tce replay --from FILE --url URL --auth-token T [...]`: re-send captured webhooks (JSON Lines, e.g. the emulator's
 * `GET /_emulator/webhooks/deliveries?format=jsonl`) to a consumer, re-signed for --url, with their relative timing
 * divided by --speed and, optionally, the emulator's webhook fault rules acted out on the way. Bad flags and bad
 * files are one line on stderr and exit 2, before anything is sent; a failed threshold is exit 1.
 */
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { readReplayFile, ReplayFileError } from './jsonl-reader.js';
import { FaultsFileError, planSends, readFaultRules } from './fault-plan.js';
import { lineOffsets, parseSpeed } from './schedule.js';
import { runReplay } from './runner.js';
import { failedThresholds, formatSummary, summarize } from './report.js';

export const REPLAY_USAGE = `Usage: tce replay --from FILE --url URL --auth-token T [options]
  --from <file>           JSON Lines, one webhook a line: {"params": {…}, "receivedAt"?: ISO-8601, "headers"?: {…}}
                          (GET /_emulator/webhooks/deliveries?format=jsonl writes it)
  --url <url>             the consumer; every request is signed for this URL, query included
  --auth-token <token>    signs X-Twilio-Signature (default: TWILIO_AUTH_TOKEN)
  --speed <n|max>         divide the gaps between receivedAt stamps by n (default 1); 0 or max: no waiting
  --faults <rules.json>   webhook fault rules, as PUT /_emulator/faults/webhooks takes them: drop, delay,
                          duplicate, reorder (fail does not apply to a replay)
  --seed <s>              the same fault draws every run (printed when --faults is given without it)
  --concurrency <n>       requests in flight at most (default 1: the file's order on the wire)
  --timeout <d>           per-request deadline (default 15s; 500ms, 15s, 1m)
  --max-p99 <ms>          exit 1 when latency p99 is above (milliseconds; 250ms, 1s)
  --max-error-rate <r>    exit 1 when (non-2xx + network errors) / sent is above (0..1)
  --json                  print the summary as one JSON document
`;

class UsageError extends Error {}

/** '500ms', '15s', '1m'; a bare number is in `bareUnit`. */
function durationMs(text: string, flag: string, bareUnit: 'ms' | 's'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} must be a duration like 250ms, 15s or 1m, got ${text}`);
  const unit = m[2] ?? bareUnit;
  return Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000);
}

function flags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      options: {
        from: { type: 'string' },
        url: { type: 'string' },
        'auth-token': { type: 'string' },
        speed: { type: 'string', default: '1' },
        faults: { type: 'string' },
        seed: { type: 'string' },
        concurrency: { type: 'string', default: '1' },
        timeout: { type: 'string', default: '15s' },
        'max-p99': { type: 'string' },
        'max-error-rate': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function replay(argv: string[]): Promise<void> {
  const values = flags(argv);
  if (values.help) {
    process.stdout.write(REPLAY_USAGE);
    return;
  }
  if (!values.from) throw new UsageError('needs --from FILE (JSON Lines of captured webhooks)');
  if (!values.url) throw new UsageError('needs --url (the webhook consumer)');
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url must be an http(s) URL, got ${values.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be an http(s) URL, got ${values.url}`);
  const authToken = values['auth-token'] ?? process.env.TWILIO_AUTH_TOKEN;
  if (!authToken) throw new UsageError('needs --auth-token (or TWILIO_AUTH_TOKEN) to sign the requests');
  let speed: number;
  try {
    speed = parseSpeed(values.speed);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const concurrency = Number(values.concurrency);
  if (!/^\d+$/.test(values.concurrency) || concurrency < 1 || concurrency > 1000) throw new UsageError(`--concurrency must be an integer from 1 to 1000, got ${values.concurrency}`);
  const timeoutMs = durationMs(values.timeout, '--timeout', 's');
  if (timeoutMs < 1) throw new UsageError(`--timeout must be at least 1ms, got ${values.timeout}`);
  const maxP99Ms = values['max-p99'] === undefined ? undefined : durationMs(values['max-p99'], '--max-p99', 'ms');
  let maxErrorRate: number | undefined;
  if (values['max-error-rate'] !== undefined) {
    maxErrorRate = Number(values['max-error-rate']);
    if (values['max-error-rate'].trim() === '' || !(maxErrorRate >= 0 && maxErrorRate <= 1)) throw new UsageError(`--max-error-rate must be a rate from 0 to 1, got ${values['max-error-rate']}`);
  }

  // both files are checked whole before the first request
  let lines;
  let rules;
  try {
    lines = await readReplayFile(values.from);
    rules = values.faults === undefined ? [] : await readFaultRules(values.faults);
  } catch (error) {
    if (error instanceof ReplayFileError || error instanceof FaultsFileError) throw new UsageError(error.message);
    throw error;
  }
  // faults without a seed still get one, printed, so the run can be repeated
  const seed = values.seed ?? (values.faults !== undefined ? randomBytes(4).toString('hex') : undefined);
  const plan = planSends(lines, lineOffsets(lines, speed), values.url, rules, seed);
  const run = await runReplay(lines, plan.sends, { url: values.url, authToken, concurrency, timeoutMs });
  const summary = summarize({ file: values.from, url: values.url, speed, seed, lines: lines.length, plan, run, thresholds: { maxP99Ms, maxErrorRate } });
  process.stdout.write(values.json ? `${JSON.stringify(summary, null, 1)}\n` : formatSummary(summary));
  const failed = failedThresholds(summary);
  if (failed.length > 0) {
    process.stderr.write(`tce replay: threshold failed: ${failed.join('; ')}\n`);
    process.exitCode = 1;
  }
}

export async function replayCommand(argv: string[]): Promise<void> {
  try {
    await replay(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`tce replay: ${error.message}\n`);
    process.exitCode = 2;
  }
}
