/**
 * `tce exec [flags] -- <command…>` (like `firebase emulators:exec`): an emulator on a free loopback port for the
 * length of one command. The command gets the emulator's URL and credentials in its environment (a fresh API key
 * each run), its stdio is ours, SIGINT / SIGTERM are passed on to it, and tce exits with its exit code once the
 * emulator is closed. `--import FILE` loads a snapshot first; `--export FILE` saves one at the end, also when the
 * command failed.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import { UsageError } from '../../shared/usage-error.js';
import { startWithImport, writeSnapshotFile } from '../snapshot/snapshot-command.js';
import { takeSnapshot } from '../snapshot/snapshot.js';
import type { EmulatorHandle } from '../create-emulator.js';

const USAGE = 'tce exec [--import FILE] [--export FILE] [--db FILE] [--seed S] [--clock real|manual] [--account-sid AC…] [--auth-token T] [--public-url URL] -- <command…>';

/** The environment the command runs with: ours, plus the emulator's. */
export function execEnvironment(emulator: EmulatorHandle, key: { sid: string; secret: string }): Record<string, string> {
  return {
    TWILIO_ACCOUNT_SID: emulator.accountSid,
    TWILIO_AUTH_TOKEN: emulator.authToken,
    TWILIO_API_KEY_SID: key.sid,
    TWILIO_API_KEY_SECRET: key.secret,
    TCE_URL: emulator.url,
  };
}

/** The command's exit code, or 128 + the signal's number when a signal ended it (as a shell says). */
function run(command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const done = () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      done();
      reject(new UsageError(`exec: cannot run ${command[0]} (${error.code ?? error.message})`));
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}

export async function execCommand(argv: string[]): Promise<void> {
  const separator = argv.indexOf('--');
  if (separator < 0) throw new UsageError(`tce exec needs -- before the command to run; usage: ${USAGE}`);
  const command = argv.slice(separator + 1);
  if (command.length === 0) throw new UsageError(`tce exec needs a command after --; usage: ${USAGE}`);
  let values;
  try {
    ({ values } = parseArgs({
      args: argv.slice(0, separator),
      strict: true,
      options: {
        import: { type: 'string' },
        export: { type: 'string' },
        db: { type: 'string', default: ':memory:' },
        seed: { type: 'string' },
        clock: { type: 'string', default: 'real' },
        'account-sid': { type: 'string' },
        'auth-token': { type: 'string' },
        'public-url': { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; usage: ${USAGE}`);
  }
  if (values.clock !== 'real' && values.clock !== 'manual') throw new UsageError(`--clock must be real or manual, got ${values.clock}`);

  const emulator = await startWithImport(
    {
      port: 0,
      host: '127.0.0.1',
      db: values.db,
      seed: values.seed,
      clock: values.clock,
      accountSid: values['account-sid'],
      authToken: values['auth-token'],
      publicUrl: values['public-url'],
    },
    values.import,
  );
  let code: number;
  try {
    const key = emulator.control.createApiKey(emulator.accountSid, 'tce exec');
    await new Promise<void>((resolve) => emulator.core.db.whenCommitted(() => resolve()));
    process.stderr.write(`tce exec: emulator at ${emulator.url} (account ${emulator.accountSid}); running ${command[0]}\n`);
    code = await run(command, { ...process.env, ...execEnvironment(emulator, key) });
    if (values.export !== undefined) {
      try {
        writeSnapshotFile(values.export, takeSnapshot(emulator.core), '--export');
      } catch (error) {
        process.stderr.write(`tce: ${(error as Error).message}\n`);
        if (code === 0) code = 2;
      }
    }
  } finally {
    await emulator.close();
  }
  process.exitCode = code;
}
