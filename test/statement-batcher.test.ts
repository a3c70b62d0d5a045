/**
 * StatementBatcher: the coalescing under the PostgreSQL store's accepts, completes and releases, driven here by a
 * batch function that records what it was given (the statements themselves are tested in router-store.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { StatementBatcher } from '../src/router/store/statement-batcher.js';

function recording(fail?: (items: number[]) => boolean) {
  const batches: number[][] = [];
  const runBatch = async (items: number[]) => {
    batches.push(items);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (fail?.(items)) throw new Error(`refused ${items.join(',')}`);
    return items.map((i) => i * 10);
  };
  return { batches, runBatch };
}

describe('StatementBatcher', () => {
  it('sends the first call at once and the calls that arrive meanwhile together, each answered with its own result', async () => {
    const { batches, runBatch } = recording();
    const batcher = new StatementBatcher(runBatch);
    const results = await Promise.all([1, 2, 3, 4].map((i) => batcher.run(i)));
    expect(results).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('lingers: calls trickling in within lingerMs share one batch', async () => {
    const { batches, runBatch } = recording();
    const batcher = new StatementBatcher(runBatch, { lingerMs: 20 });
    const first = batcher.run(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const rest = [batcher.run(2), batcher.run(3)];
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('keeps the order of calls when the gate holds one back, and caps a batch at maxBatch', async () => {
    const { batches, runBatch } = recording();
    // odd numbers may not share a batch with another odd one
    const batcher = new StatementBatcher(runBatch, {
      lingerMs: 1,
      maxBatch: 3,
      admit: () => {
        let odd = false;
        return (i) => !(i % 2 === 1 && odd) && ((odd ||= i % 2 === 1), true);
      },
    });
    await Promise.all([2, 1, 4, 3, 6, 8, 10, 12].map((i) => batcher.run(i)));
    expect(batches).toEqual([[2, 1, 4], [3, 6, 8], [10, 12]]);
  });

  it('runs a failing batch again call by call: only the bad call is rejected', async () => {
    const { batches, runBatch } = recording((items) => items.includes(3));
    const batcher = new StatementBatcher(runBatch, { lingerMs: 1 });
    const results = await Promise.allSettled([1, 2, 3, 4].map((i) => batcher.run(i)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([10, 20, 'refused 3', 40]);
    expect(batches).toEqual([[1, 2, 3, 4], [1], [2], [3], [4]]);
  });

  it('drain() sends what lingers and resolves once everything has run', async () => {
    const { batches, runBatch } = recording();
    const batcher = new StatementBatcher(runBatch, { lingerMs: 60_000 });
    const pending = batcher.run(7);
    await batcher.drain();
    expect(batches).toEqual([[7]]);
    expect(await pending).toBe(70);
  });
});
