/**
 * How a run is shown: a live line per scenario on stderr, a summary table (passed, failed, skipped with the reason;
 * each failure with its seed, fault draws and the webhook journal excerpt), `--json`, and JUnit XML for CI.
 */
import type { Scenario } from './api.js';
import type { RunResult, ScenarioResult } from './runner.js';

const MARK = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' } as const;

export function formatStart(scenario: Scenario): string {
  return `… ${scenario.suite} / ${scenario.name}`;
}

export function formatLine(result: ScenarioResult): string {
  const why = result.reason ?? result.note;
  return `${MARK[result.status]} ${result.suite} / ${result.name} (${result.durationMs} ms)${why ? `: ${why}` : ''}`;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

export function formatSummary(run: RunResult): string {
  const nameWidth = Math.min(70, Math.max(8, ...run.scenarios.map((r) => r.name.length)));
  const suiteWidth = Math.max(5, ...run.scenarios.map((r) => r.suite.length));
  const lines = [
    `${pad('suite', suiteWidth)}  ${pad('scenario', nameWidth)}  status   time`,
    ...run.scenarios.map((r) => `${pad(r.suite, suiteWidth)}  ${pad(r.name, nameWidth)}  ${pad(r.status, 7)}  ${String(r.durationMs).padStart(5)} ms${r.status !== 'failed' && (r.reason ?? r.note) ? `  ${r.reason ?? r.note}` : ''}`),
    '',
    `${run.passed} passed, ${run.failed} failed, ${run.skipped} skipped in ${(run.durationMs / 1000).toFixed(1)} s against ${run.target}, system under test: ${run.consumer === 'router' ? 'the reference router' : 'your consumer'}; seed ${run.seed}`,
  ];
  for (const r of run.scenarios.filter((x) => x.status === 'failed')) {
    lines.push('', `FAILED ${r.suite} / ${r.name} (seed ${run.seed}, scenario seed ${r.seed}; replay: tce scenario run ${JSON.stringify(r.name)} --seed ${run.seed})`, `  ${r.reason ?? ''}`);
    for (const l of r.log) lines.push(`  draw: ${l}`);
    if (r.journal?.length) lines.push('  webhook journal:', ...r.journal.map((l) => `    ${l}`));
  }
  return lines.join('\n') + '\n';
}

/** `--json`: `{ passed, failed, skipped, seed, scenarios: [ { name, suite, status, reason?, durationMs } ] }` */
export function toJson(run: RunResult): object {
  return {
    passed: run.passed,
    failed: run.failed,
    skipped: run.skipped,
    seed: run.seed,
    durationMs: run.durationMs,
    target: run.target,
    scenarios: run.scenarios.map((r) => ({
      name: r.name,
      suite: r.suite,
      status: r.status,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.note ? { note: r.note } : {}),
      durationMs: r.durationMs,
      ...(r.status === 'failed' ? { seed: r.seed, draws: r.log, journal: r.journal ?? [] } : {}),
    })),
  };
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function toJunit(run: RunResult): string {
  const suites = [...new Set(run.scenarios.map((r) => r.suite))];
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="tce scenarios" tests="${run.scenarios.length}" failures="${run.failed}" skipped="${run.skipped}" time="${(run.durationMs / 1000).toFixed(3)}">`];
  for (const suite of suites) {
    const rs = run.scenarios.filter((r) => r.suite === suite);
    const time = rs.reduce((s, r) => s + r.durationMs, 0) / 1000;
    out.push(`  <testsuite name="${xml(suite)}" tests="${rs.length}" failures="${rs.filter((r) => r.status === 'failed').length}" skipped="${rs.filter((r) => r.status === 'skipped').length}" time="${time.toFixed(3)}">`);
    for (const r of rs) {
      out.push(`    <testcase classname="${xml(suite)}" name="${xml(r.name)}" time="${(r.durationMs / 1000).toFixed(3)}">`);
      if (r.status === 'failed') {
        const detail = [`seed ${run.seed} (scenario ${r.seed})`, ...r.log.map((l) => `draw: ${l}`), ...(r.journal ?? [])].join('\n');
        out.push(`      <failure message="${xml(r.reason ?? 'failed')}">${xml(detail)}</failure>`);
      }
      if (r.status === 'skipped') out.push(`      <skipped message="${xml(r.reason ?? '')}"/>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
