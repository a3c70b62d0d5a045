/**
 * Twilio's webhook connection overrides, written as a URL fragment: `https://x.example/hook#ct=1000&rt=2000&rc=3&rp=5xx`.
 * ct: connect timeout, rt: read timeout, tt: total time including retries (ms); rc: retries; rp: retry policy.
 * Conversations caps a webhook at 5 s, so the read timeout defaults to 5000 ms here. Retries follow Twilio's
 * documented defaults: `#rc=1`, on connect or read timeout only (`#rp=ct,rt`); a 5xx is retried only when `#rp`
 * says so. Timeouts are absolute deadlines (send.ts), not idle timers.
 */
export type RetryClass = '4xx' | '5xx' | 'ct' | 'rt';

/** Shared between callers (parsed once per URL): read-only. */
export interface ConnectionOptions {
  /** the URL to call and sign: the configured one without its fragment */
  readonly url: string;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly totalTimeoutMs: number;
  readonly retries: number;
  readonly retryOn: ReadonlySet<RetryClass>;
}

const DEFAULTS = { ct: 5000, rt: 5000, tt: 15000, rc: 1 };
const RANGES: Record<'ct' | 'rt' | 'tt' | 'rc', [number, number]> = { ct: [100, 10000], rt: [100, 15000], tt: [100, 15000], rc: [0, 5] };
const DEFAULT_POLICY: RetryClass[] = ['ct', 'rt'];

/** parsed per configured URL: every attempt asks, and a process sees few distinct webhook URLs */
const parsed = new Map<string, ConnectionOptions>();
const MAX_PARSED = 1024;

export function connectionOptions(configured: string): ConnectionOptions {
  let options = parsed.get(configured);
  if (!options) {
    if (parsed.size >= MAX_PARSED) parsed.clear();
    parsed.set(configured, (options = parse(configured)));
  }
  return options;
}

function parse(configured: string): ConnectionOptions {
  const hash = configured.indexOf('#');
  const url = hash < 0 ? configured : configured.slice(0, hash);
  const fragment = new URLSearchParams(hash < 0 ? '' : configured.slice(hash + 1));
  const number = (key: 'ct' | 'rt' | 'tt' | 'rc'): number => {
    const raw = fragment.get(key);
    const n = raw === null ? NaN : Number(raw);
    if (!Number.isFinite(n)) return DEFAULTS[key];
    const [lo, hi] = RANGES[key];
    return Math.min(hi, Math.max(lo, Math.round(n)));
  };
  let retryOn = new Set<RetryClass>(DEFAULT_POLICY);
  const rp = fragment.get('rp');
  if (rp) {
    const parts = rp.split(',').map((p) => p.trim());
    retryOn = new Set(parts.includes('all') ? (['4xx', '5xx', 'ct', 'rt'] as RetryClass[]) : parts.filter((p): p is RetryClass => ['4xx', '5xx', 'ct', 'rt'].includes(p)));
  }
  return { url, connectTimeoutMs: number('ct'), readTimeoutMs: number('rt'), totalTimeoutMs: number('tt'), retries: number('rc'), retryOn };
}
