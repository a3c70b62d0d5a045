/**
 * Starting and closing emulators in one process (what every test suite does): a closed emulator leaves nothing
 * behind that holds memory.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { startEmulator } from './support/emulator.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const heapAfterGc = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

describe('createEmulator() and close()', () => {
  // Node 20 keeps a closed http.Server that never had a connection reachable; without close() detaching the
  // fastify app from it, each such emulator kept ~1 MB (its router and route handlers).
  it('an emulator closed without ever being called is collected: 40 cycles grow the heap by under 300 KB each', async () => {
    for (let i = 0; i < 5; i++) await (await startEmulator({ db: ':memory:' })).emulator.close();
    const before = heapAfterGc();
    const cycles = 40;
    for (let i = 0; i < cycles; i++) await (await startEmulator({ db: ':memory:' })).emulator.close();
    const perCycle = (heapAfterGc() - before) / cycles;
    expect(perCycle).toBeLessThan(300 * 1024);
  });
});
