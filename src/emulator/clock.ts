/**
 * The one clock: real by default, manual when a test (or `POST /_emulator/clock`) asks. Nothing in the emulator
 * calls Date.now() directly, so timers, receipts and fault schedules move only when this clock says so.
 */
export type ClockMode = 'real' | 'manual';

export class Clock {
  private mode: ClockMode;
  /** in manual mode: the frozen time; in real mode: an offset added to Date.now() */
  private manualNow: number;
  private offset = 0;
  private readonly listeners = new Set<() => void>();

  constructor(options: { mode?: ClockMode; start?: number } = {}) {
    this.mode = options.mode ?? 'real';
    this.manualNow = options.start ?? Date.now();
    if (options.start !== undefined && this.mode === 'real') this.offset = options.start - Date.now();
  }

  now(): number {
    return this.mode === 'manual' ? this.manualNow : Date.now() + this.offset;
  }

  get currentMode(): ClockMode {
    return this.mode;
  }

  setMode(mode: ClockMode): void {
    if (mode === this.mode) return;
    if (mode === 'manual') this.manualNow = this.now();
    else this.offset = this.manualNow - Date.now();
    this.mode = mode;
  }

  /** Back to wall time: real mode, no offset (what `set`, `advance` and a manual spell added is dropped). */
  reset(): void {
    this.mode = 'real';
    this.offset = 0;
    this.notify();
  }

  /** Move time forward (either mode); listeners run so due timers fire before this returns. */
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError('advanceSeconds must be a number >= 0');
    if (this.mode === 'manual') this.manualNow += seconds * 1000;
    else this.offset += seconds * 1000;
    this.notify();
  }

  set(epochMs: number): void {
    if (this.mode === 'manual') this.manualNow = epochMs;
    else this.offset = epochMs - Date.now();
    this.notify();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
