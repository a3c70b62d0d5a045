/**
 * A replay's summary: what was sent, how the consumer answered (by status class, network errors apart), latency
 * p50/p99, and the thresholds (`--max-p99`, `--max-error-rate`) that pass or fail the run. The error rate is
 * (non-2xx answers + network errors) / sent; lines a fault rule dropped were never sent and do not count.
 */
import type { FaultPlan } from './fault-plan.js';
import type { RunResult, StatusClass } from './runner.js';

export interface Thresholds {
  maxP99Ms?: number;
  maxErrorRate?: number;
}

export interface ThresholdResult {
  name: 'max-p99' | 'max-error-rate';
  limit: number;
  actual: number;
  passed: boolean;
}

export interface ReplaySummary {
  file: string;
  url: string;
  /** null: no waiting (--speed 0 or max) */
  speed: number | null;
  seed: string | null;
  lines: number;
  sent: number;
  faults: { dropped: number; duplicated: number; delayed: number; reordered: number };
  answered: Record<StatusClass, number>;
  errorRate: number;
  latencyMs: { p50: number; p99: number; max: number };
  durationMs: number;
  maxLagMs: number;
  errors: Record<string, number>;
  thresholds: ThresholdResult[];
  passed: boolean;
}

const round = (n: number) => Math.round(n * 100) / 100;

export function summarize(input: { file: string; url: string; speed: number; seed?: string; lines: number; plan: FaultPlan; run: RunResult; thresholds: Thresholds }): ReplaySummary {
  const { run, plan } = input;
  const errors = run.sent - run.answered['2xx'];
  const errorRate = run.sent === 0 ? 0 : errors / run.sent;
  const p99 = round(run.latency.quantile(0.99));
  const thresholds: ThresholdResult[] = [];
  if (input.thresholds.maxP99Ms !== undefined) thresholds.push({ name: 'max-p99', limit: input.thresholds.maxP99Ms, actual: p99, passed: p99 <= input.thresholds.maxP99Ms });
  if (input.thresholds.maxErrorRate !== undefined) {
    thresholds.push({ name: 'max-error-rate', limit: input.thresholds.maxErrorRate, actual: round(errorRate * 10_000) / 10_000, passed: errorRate <= input.thresholds.maxErrorRate });
  }
  return {
    file: input.file,
    url: input.url,
    speed: input.speed === Infinity ? null : input.speed,
    seed: input.seed ?? null,
    lines: input.lines,
    sent: run.sent,
    faults: { dropped: plan.dropped, duplicated: plan.duplicated, delayed: plan.delayed, reordered: plan.reordered },
    answered: run.answered,
    errorRate,
    latencyMs: { p50: round(run.latency.quantile(0.5)), p99, max: round(run.latency.maxMs) },
    durationMs: Math.round(run.durationMs),
    maxLagMs: round(run.maxLagMs),
    errors: run.errors,
    thresholds,
    passed: thresholds.every((t) => t.passed),
  };
}

/** One line per failed threshold, e.g. `p99 84.2ms is above --max-p99 50ms`. */
export function failedThresholds(summary: ReplaySummary): string[] {
  return summary.thresholds
    .filter((t) => !t.passed)
    .map((t) => (t.name === 'max-p99' ? `p99 ${t.actual}ms is above --max-p99 ${t.limit}ms` : `error rate ${t.actual} is above --max-error-rate ${t.limit}`));
}

export function formatSummary(s: ReplaySummary): string {
  const a = s.answered;
  const f = s.faults;
  const faults = f.dropped + f.duplicated + f.delayed + f.reordered > 0 ? `\n  faults    ${f.dropped} dropped, ${f.duplicated} duplicates added, ${f.delayed} delayed, ${f.reordered} reordered` : '';
  const errors = Object.entries(s.errors).map(([kind, n]) => `\n  network   ${n} × ${kind}`).join('');
  const thresholds = s.thresholds.map((t) => `\n  ${t.passed ? 'pass' : 'FAIL'}      --${t.name} ${t.limit}: ${t.actual}`).join('');
  return (
    `tce replay ${s.file} → ${s.url} (speed ${s.speed ?? 'max'}${s.seed ? `, seed ${s.seed}` : ''})\n` +
    `  sent      ${s.sent} of ${s.lines} lines in ${(s.durationMs / 1000).toFixed(1)}s (at most ${s.maxLagMs}ms behind schedule)${faults}\n` +
    `  answered  2xx ${a['2xx']}, 3xx ${a['3xx']}, 4xx ${a['4xx']}, 5xx ${a['5xx']}, network ${a.network} (error rate ${(s.errorRate * 100).toFixed(2)}%)${errors}\n` +
    `  latency   p50 ${s.latencyMs.p50}ms, p99 ${s.latencyMs.p99}ms, max ${s.latencyMs.max}ms${thresholds}\n`
  );
}
