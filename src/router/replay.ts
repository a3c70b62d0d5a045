/**
 * `tce router replay`: fold the whole event log from scratch and compare with (or replace) the live derived state.
 * Both are the same pure fold (state/fold.ts), so they must be equal once the queue is drained; a difference is a bug.
 */
import type { EntityDoc, EventStore } from './store/types.js';
import { entityKey, foldLog } from './state/fold.js';

export interface ReplayResult {
  events: number;
  entities: number;
  /** `kind:id` of docs that differ, are missing from the live state, or are live only */
  differences: string[];
  /** the live state was replaced by the fold */
  written: boolean;
}

const PAGE = 5_000;

/** JSON with object keys sorted, so two equal docs serialise the same whatever their key order */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

async function foldWholeLog(events: EventStore): Promise<{ folded: Map<string, EntityDoc>; count: number }> {
  const all = [];
  for (let after = 0; ; ) {
    const page = await events.readLog(after, PAGE);
    all.push(...page);
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.id;
  }
  return { folded: foldLog(all), count: all.length };
}

export async function replayLog(events: EventStore, options: { write: boolean }): Promise<ReplayResult> {
  const { folded, count } = await foldWholeLog(events);
  const live = new Map((await events.allEntities()).map((doc) => [entityKey(doc), doc]));
  const differences: string[] = [];
  for (const [key, doc] of folded) {
    const current = live.get(key);
    if (!current || canonicalJson(current) !== canonicalJson(doc)) differences.push(key);
  }
  for (const key of live.keys()) if (!folded.has(key)) differences.push(key);
  differences.sort();
  if (options.write) await events.replaceEntities([...folded.values()]);
  return { events: count, entities: folded.size, differences, written: options.write };
}
