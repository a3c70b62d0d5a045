/**
 * `tce exec [flags] -- <command…>` (like `firebase emulators:exec`): an emulator (by default on a free loopback
 * port, in memory; every `tce serve` flag applies) for the length of one command. The command gets the emulator's URL and credentials in its environment (a fresh API key
 * each run), its stdio is ours, SIGINT / SIGTERM are passed on to it, and tce exits with its exit code once the
 * emulator is closed. `--import FILE` loads a snapshot first; `--export FILE` saves one at the end, also when the
 * command failed.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { UsageError } from '../../shared/usage-error.js';
import { startWithImport, writeSnapshotFile } from '../snapshot/snapshot-command.js';
import { takeSnapshot } from '../snapshot/snapshot.js';
import type { EmulatorHandle } from '../create-emulator.js';
import { emulatorSettings, parseCommandFlags, SERVE_FLAGS } from '../serve-flags.js';

const USAGE = 'tce exec [--export FILE] [tce serve flags: --import FILE, --seed S, --clock manual, --rate-limit R, …] -- <command…>';

/** The environment the command runs with: ours, plus the emulator's. */
export function execEnvironment(emulator: EmulatorHandle, key: { sid: string; secret: string }, controlToken: string | undefined): Record<string, string> {
  return {
    TWILIO_ACCOUNT_SID: emulator.accountSid,
    TWILIO_AUTH_TOKEN: emulator.authToken,
    TWILIO_API_KEY_SID: key.sid,
    TWILIO_API_KEY_SECRET: key.secret,
    TCE_URL: emulator.url,
    // the command's own calls to /_emulator/* need it
    ...(controlToken ? { TCE_CONTROL_TOKEN: controlToken } : {}),
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

/** exec's own flags: every serve flag, plus --export */
const EXEC_FLAGS = { ...SERVE_FLAGS, export: { type: 'string' } } as const;

export async function execCommand(argv: string[]): Promise<void> {
  const separator = argv.indexOf('--');
  if (separator < 0 && !argv.includes('--help')) throw new UsageError(`tce exec needs -- before the command to run; usage: ${USAGE}`);
  const flags = parseCommandFlags('tce exec', separator < 0 ? argv : argv.slice(0, separator), EXEC_FLAGS, USAGE);
  if (flags.help) {
    process.stdout.write(`usage: ${USAGE}\n`);
    return;
  }
  const command = argv.slice(separator + 1);
  if (command.length === 0) throw new UsageError(`tce exec needs a command after --; usage: ${USAGE}`);
  // no environment: PORT, TWILIO_* and the like belong to the command; the emulator takes flags only
  const { options, importFile, openControlPlane } = await emulatorSettings(flags, { port: 0, db: ':memory:' });
  const emulator = await startWithImport(options, importFile);
  if (openControlPlane) process.stderr.write(`tce exec: warning: the control plane ${emulator.url}/_emulator is open to anyone who reaches the port\n`);
  let code: number;
  try {
    const key = emulator.control.createApiKey(emulator.accountSid, 'tce exec');
    await new Promise<void>((resolve) => emulator.core.db.whenCommitted(() => resolve()));
    process.stderr.write(`tce exec: emulator at ${emulator.url} (account ${emulator.accountSid}); running ${command[0]}\n`);
    code = await run(command, { ...process.env, ...execEnvironment(emulator, key, options.controlToken) });
    if (flags.export !== undefined) {
      try {
        writeSnapshotFile(flags.export, takeSnapshot(emulator.core), '--export');
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
