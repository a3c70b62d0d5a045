/**
 * Per-account rate limits like Twilio's (off by default): requests per second as a token bucket (`burst` deep)
 * and concurrent requests. Over the limit a request is refused before it runs: 429, code 20429, `Retry-After: 1`
 * (decisions.md). Real time, not the emulator clock: the limit is about real traffic.
 */
import { performance } from 'node:perf_hooks';
import { invalidParameter } from '../wire/errors.js';

export interface LimitSettings {
  rps: number | null;
  burst: number | null;
  concurrency: number | null;
}

export const NO_LIMITS: LimitSettings = { rps: null, burst: null, concurrency: null };

function limit(value: unknown, name: string): number | null {
  if (value === undefined || value === null) return null;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw invalidParameter(`${name} must be a number > 0, or null for no limit`);
  return n;
}

export function parseLimits(body: unknown): LimitSettings {
  const b = (body ?? {}) as Record<string, unknown>;
  const settings = { rps: limit(b.rps, 'rps'), burst: limit(b.burst, 'burst'), concurrency: limit(b.concurrency, 'concurrency') };
  if (settings.concurrency !== null) settings.concurrency = Math.floor(settings.concurrency);
  return settings;
}

/** `--rate-limit rps[,burst[,concurrency]]` */
export function parseRateLimitFlag(text: string): LimitSettings {
  const [rps, burst, concurrency] = text.split(',').map((p) => (p.trim() === '' ? undefined : Number(p)));
  return parseLimits({ rps, burst, concurrency });
}

export class RateLimiter {
  private settings: LimitSettings = NO_LIMITS;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly inFlight = new Map<string, number>();

  get current(): LimitSettings {
    return this.settings;
  }

  set(settings: LimitSettings): LimitSettings {
    this.settings = settings;
    this.buckets.clear();
    return settings;
  }

  get active(): boolean {
    return this.settings.rps !== null || this.settings.concurrency !== null;
  }

  /** Admit one request of this account (and count it in flight), or refuse it. */
  admit(accountSid: string): boolean {
    const { rps, burst, concurrency } = this.settings;
    const running = concurrency === null ? 0 : (this.inFlight.get(accountSid) ?? 0);
    if (concurrency !== null && running >= concurrency) return false;
    if (rps !== null) {
      const now = performance.now();
      const depth = burst ?? rps;
      const bucket = this.buckets.get(accountSid) ?? { tokens: depth, at: now };
      bucket.tokens = Math.min(depth, bucket.tokens + ((now - bucket.at) * rps) / 1000);
      bucket.at = now;
      this.buckets.set(accountSid, bucket);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
    }
    if (concurrency !== null) this.inFlight.set(accountSid, running + 1);
    return true;
  }

  release(accountSid: string): void {
    const running = this.inFlight.get(accountSid);
    if (running === undefined) return;
    if (running <= 1) this.inFlight.delete(accountSid);
    else this.inFlight.set(accountSid, running - 1);
  }
}
