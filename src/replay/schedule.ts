/**
 * When each line of a replay is due: its `receivedAt` relative to the file's first `receivedAt`, divided by the
 * speed (Infinity: no waiting). Lines go out in file order, so a line stamped earlier than the one before it (or
 * not stamped) is due together with that one. Offsets are from one start instant: the runner waits for absolute
 * deadlines, so time spent sending never accumulates into drift.
 */
import type { ReplayLine } from './jsonl-reader.js';

/** `--speed`: a positive factor; `0` or `max` means as fast as possible. */
export function parseSpeed(text: string): number {
  if (text === 'max' || text.trim() === '0') return Infinity;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new Error(`--speed must be a positive number, 0 or max, got ${text}`);
  return n;
}

/** Milliseconds after the start at which each line is due, non-decreasing. */
export function lineOffsets(lines: Pick<ReplayLine, 'receivedAt'>[], speed: number): number[] {
  const first = lines.find((l) => l.receivedAt !== undefined)?.receivedAt;
  let previous = 0;
  return lines.map((l) => {
    if (l.receivedAt !== undefined && first !== undefined && speed !== Infinity) {
      previous = Math.max(previous, (l.receivedAt - first) / speed);
    }
    return previous;
  });
}

/** Resolves at `deadline` (a performance.now() instant); at once when it is past. */
export function waitUntil(deadline: number): Promise<void> {
  const ms = deadline - performance.now();
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
