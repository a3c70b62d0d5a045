/** `tce load`'s output: the live progress line and the end-of-run table. */
import type { LoadProgress, LoadStats } from './runner.js';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(2)} ms`;

export function formatProgress(p: LoadProgress): string {
  return (
    `${(p.elapsedMs / 1000).toFixed(1)}s  sent ${int(p.sent)}  ${int(p.rate)}/s  2xx ${int(p.status2xx)}  ` +
    `errors ${int(p.errors)}  in flight ${int(p.inFlight)}  p99 ${p.p99Ms.toFixed(1)} ms`
  );
}

export function formatReport(s: LoadStats): string {
  const rows: [string, string][] = [
    ['url', s.url],
    ['requested rate', `${int(s.rate)}/s for ${(s.durationMs / 1000).toFixed(1)} s over ${int(s.conversations)} conversations`],
    ['achieved rate', `${s.achievedRate.toFixed(1)}/s`],
    ['sent', int(s.sent)],
    ['  unique events', int(s.unique)],
    ['  duplicates sent', int(s.duplicatesSent)],
    ['  reordered sent', int(s.reorderedSent)],
    ['2xx', int(s.status2xx)],
    ['4xx', int(s.status4xx)],
    ['5xx', int(s.status5xx)],
  ];
  if (s.statusOther > 0) rows.push(['other status', int(s.statusOther)]);
  rows.push(['timeouts', int(s.timeouts)], ['connection errors', int(s.connectionErrors)]);
  rows.push(['dropped (in-flight cap)', int(s.dropped)]);
  rows.push(['error rate', `${(s.errorRate * 100).toFixed(3)} %`]);
  rows.push(
    ['latency p50', ms(s.latencyMs.p50)],
    ['latency p90', ms(s.latencyMs.p90)],
    ['latency p99', ms(s.latencyMs.p99)],
    ['latency max', ms(s.latencyMs.max)],
    ['max in flight', int(s.maxInFlightSeen)],
  );
  if (s.check) {
    if (s.check.applied === undefined) rows.push(['check', `${s.check.url}: ${s.check.error ?? 'no answer'}`]);
    else {
      rows.push(['check: applied', int(s.check.applied)], ['check: lost', int(s.check.lost ?? 0)], ['check: applied twice', int(s.check.appliedTwice ?? 0)]);
    }
  }
  for (const t of s.thresholds) {
    const shown = t.name === 'max-p99' ? `${ms(t.actual)} ≤ ${ms(t.limit)}` : t.name === 'max-error-rate' ? `${t.actual} ≤ ${t.limit}` : `lost + applied twice = ${Number.isNaN(t.actual) ? 'unknown' : t.actual}`;
    rows.push([`threshold ${t.name}`, `${t.passed ? 'PASS' : 'FAIL'}  ${shown}`]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}
