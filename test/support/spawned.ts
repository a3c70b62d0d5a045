/**
 * `tce serve` processes that tests spawn check every REST answer against the spec, as in-process emulators do:
 * they run with `--validate-responses`, which reports each violation on stderr; `watchViolations(child)` collects
 * those lines and `expectNoSpawnedViolations()` (an afterEach) fails the test that caused one.
 */
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { expect } from 'vitest';

export const VALIDATE_RESPONSES = '--validate-responses';

const VIOLATION = /^tce: response violates the spec: .*$/gm;

interface Watched {
  child: ChildProcess;
  stderr: string;
  /** stdio fully read: nothing more can arrive */
  closed: Promise<void>;
}

const watched = new Set<Watched>();

export function watchViolations<C extends ChildProcess>(child: C): C {
  const w: Watched = { child, stderr: '', closed: new Promise((resolve) => child.once('close', () => resolve())) };
  child.stderr?.on('data', (chunk: Buffer) => (w.stderr += chunk.toString()));
  watched.add(w);
  return child;
}

/** Violations reported so far by the watched children; an exited child's stderr is read to its end first. */
export async function expectNoSpawnedViolations(): Promise<void> {
  const found: string[] = [];
  for (const w of watched) {
    const exited = w.child.exitCode !== null || w.child.signalCode !== null;
    // a running child's last lines may still be in the pipe: give the event loop a moment to read them
    await (exited ? w.closed : new Promise((r) => setTimeout(r, 50)));
    found.push(...(w.stderr.match(VIOLATION) ?? []));
    w.stderr = '';
    if (exited) watched.delete(w);
  }
  expect(found, 'answers of a spawned `tce serve` that break the spec').toEqual([]);
}

export const TCE_BIN = new URL('../../bin/tce.js', import.meta.url).pathname;

/** children still running, killed by `killSpawned()` (an afterAll) whatever a test left behind */
const running = new Set<ChildProcessWithoutNullStreams>();

export interface Served {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** stdout and stderr so far */
  readonly output: string;
}

/**
 * `tce serve --port 0 --validate-responses <args>`, resolved once its banner names the URL; the environment's
 * TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN are cleared unless `env` sets them.
 */
export function spawnServe(args: string[], env: Record<string, string> = {}, startMs = 15_000): Promise<Served> {
  const child = spawn(process.execPath, [TCE_BIN, 'serve', '--port', '0', VALIDATE_RESPONSES, ...args], {
    env: { ...process.env, TWILIO_ACCOUNT_SID: '', TWILIO_AUTH_TOKEN: '', ...env },
  });
  watchViolations(child);
  running.add(child);
  child.on('exit', () => running.delete(child));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tce serve did not start:\n${output}`)), startMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m && output.includes('default Conversation Service')) {
        clearTimeout(timer);
        resolve({ child, url: m[1], get output() { return output; } });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tce serve exited with ${code}:\n${output}`));
    });
  });
}

export function killSpawned(): void {
  for (const child of running) child.kill('SIGKILL');
}
