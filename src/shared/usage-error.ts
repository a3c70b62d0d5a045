/** A mistake in how a command was called (a flag, a file): bin/tce.js prints its one-line message and exits 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}
