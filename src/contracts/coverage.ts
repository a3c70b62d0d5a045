/**
 * Operation coverage: every operation of the spec, whether the emulator serves it, and whether the test suite
 * exercised it (answered it at least once). The test harness records exercised operationIds as JSON files in
 * a directory; `tce contracts coverage` joins them with the manifest and the route table.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { OperationSpec } from './manifest.js';

export const DEFAULT_EXERCISED_DIR = '.tce/coverage';

export interface CoverageRow {
  operationId: string;
  method: string;
  path: string;
  served: boolean;
  exercised: boolean;
}

export function clearExercised(dir = DEFAULT_EXERCISED_DIR): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

export function recordExercised(operationIds: Iterable<string>, dir = DEFAULT_EXERCISED_DIR): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${randomUUID()}.json`), JSON.stringify([...operationIds].sort()));
}

export function readExercised(dir = DEFAULT_EXERCISED_DIR): Set<string> {
  const out = new Set<string>();
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    for (const id of JSON.parse(readFileSync(join(dir, file), 'utf8')) as string[]) out.add(id);
  }
  return out;
}

export function coverage(operations: OperationSpec[], served: Set<string>, exercised: Set<string>): CoverageRow[] {
  return operations.map((op) => ({
    operationId: op.operationId,
    method: op.method,
    path: op.path,
    served: served.has(op.operationId),
    exercised: exercised.has(op.operationId),
  }));
}

/**
 * One summary line, after a line per operation that is not served or not exercised (what a failing run must show);
 * with `table`, every operation's row first.
 */
export function formatCoverage(rows: CoverageRow[], options: { table?: boolean } = {}): string {
  const width = (key: keyof CoverageRow) => Math.max(key.length, ...rows.map((r) => String(r[key]).length));
  const cols: (keyof CoverageRow)[] = ['method', 'path', 'operationId', 'served', 'exercised'];
  const widths = cols.map(width);
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  const mark = (b: boolean) => (b ? 'yes' : 'NO');
  const shown = options.table ? rows : rows.filter((r) => !r.served || !r.exercised);
  const out: string[] = [];
  if (shown.length > 0) {
    out.push(line(cols), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const r of shown) out.push(line([r.method, r.path, r.operationId, mark(r.served), mark(r.exercised)]));
    out.push('');
  }
  const served = rows.filter((r) => r.served).length;
  const exercised = rows.filter((r) => r.exercised).length;
  out.push(`${served}/${rows.length} served, ${exercised}/${rows.length} exercised by the test suite${options.table ? '' : ' (every operation: --table)'}`);
  return out.join('\n');
}
