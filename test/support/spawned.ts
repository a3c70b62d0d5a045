/**
 * `tce serve` processes that tests spawn check every REST answer against the spec, as in-process emulators do:
 * they run with `--validate-responses`, which reports each violation on stderr; `watchViolations(child)` collects
 * those lines and `expectNoSpawnedViolations()` (an afterEach) fails the test that caused one.
 */
import type { ChildProcess } from 'node:child_process';
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
