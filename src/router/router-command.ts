/**
 * `tce router serve | replay`: flags and environment resolved by config.ts, then the same functions the library
 * exports (createRouter, replayLog).
 */
import { createRouter } from './create-router.js';
import { parseRouterArgs, resolveRouterConfig, routerUsage } from './config.js';
import { openStores } from './store/open-stores.js';
import { replayLog } from './replay.js';
import { closeOnSignals } from '../shutdown.js';

export async function routerCommand(argv: string[]): Promise<void> {
  const { command, flags } = parseRouterArgs(argv);
  if (command === 'help') {
    process.stdout.write(routerUsage);
    return;
  }
  const config = await resolveRouterConfig(flags, process.env, { requireCredentials: command !== 'replay' });
  if (command === 'replay') {
    const stores = await openStores(config);
    try {
      const check = flags.check === true;
      const result = await replayLog(stores.events, { write: !check });
      process.stdout.write(
        `tce router replay: ${result.events} events folded into ${result.entities} entities; ` +
          `${result.differences.length} differ from the live state${check ? '' : ' (live state replaced by the fold)'}\n`,
      );
      for (const key of result.differences.slice(0, 50)) process.stdout.write(`  ${key}\n`);
      if (check && result.differences.length > 0) process.exitCode = 1;
    } finally {
      await stores.close();
    }
    return;
  }

  const router = await createRouter(config);
  process.stdout.write(`tce router listening on ${router.url} (events ${router.events.kind}, kv ${router.kv.kind})\n`);
  // close() waits at most ~2 s for the partitions in hand; unfinished events stay queued for the next start
  closeOnSignals('tce router', () => router.close());
}
