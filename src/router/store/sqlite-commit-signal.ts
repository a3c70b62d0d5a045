/**
 * A counter shared by the threads that write one SQLite file (the ingress, the worker thread, the checkpoint
 * thread). Each bumps it when a write transaction ends and wakes whoever waits, so a writer that found the write lock
 * taken begins again as soon as it is free: on a 1 ms timer it waited a whole timer tick (often 2 ms) per retry, and
 * every webhook arriving meanwhile waited with it. A writer it cannot see (another process) still ends the wait by
 * its timeout.
 */
export type CommitSignal = Int32Array;

export function createCommitSignal(): CommitSignal {
  return new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
}

/** read before trying the lock: a transaction ending between the refused BEGIN and the wait then still wakes it */
export function signalGeneration(signal: CommitSignal): number {
  return Atomics.load(signal, 0);
}

/** a write transaction ended (committed or rolled back) */
export function signalWriteEnded(signal: CommitSignal): void {
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

interface WaitAsyncResult {
  async: boolean;
  value: Promise<string> | string;
}
// ES2024's Atomics.waitAsync (V8 has it since Node 16); the project's TypeScript lib is ES2022
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): WaitAsyncResult }).waitAsync;

/** resolves when a write transaction has ended since `generation` was read, or after `timeoutMs` */
export function writeEndedSince(signal: CommitSignal, generation: number, timeoutMs: number): Promise<void> {
  const result = waitAsync(signal, 0, generation, timeoutMs);
  return result.async ? (result.value as Promise<string>).then(() => undefined) : Promise.resolve();
}
