/** Polling, never a blind sleep: check again every 20 ms until the answer is there or the deadline passes. */
import { AssertionFailure } from './api.js';

const POLL_MS = 20;

export async function waitFor<T>(predicate: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'a condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new AssertionFailure(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** poll `check` until it stops throwing an AssertionFailure; other errors end it at once */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (!(error instanceof AssertionFailure) || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
