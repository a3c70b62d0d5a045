/**
 * `useEmulator(options)`: one in-process emulator per test file for vitest or jest. Started in beforeAll, reset
 * before each test (to `options.snapshot` when given), closed in afterAll. It imports neither runner: the hooks come from the globals (jest, vitest
 * with `globals: true`) or from `options.hooks` (vitest's imports).
 */
import twilio from 'twilio';
import { emulatorHttpClient } from '../client.js';
import { createEmulator, type EmulatorHandle, type EmulatorOptions } from '../emulator/create-emulator.js';
import { loadSnapshot, readSnapshotDocument, SnapshotLoadError } from '../emulator/snapshot/snapshot.js';

export type TwilioClient = ReturnType<typeof twilio>;

type Hook = (fn: () => unknown, timeout?: number) => unknown;

export interface TestHooks {
  beforeAll: Hook;
  beforeEach: Hook;
  afterAll: Hook;
}

export interface UseEmulatorOptions extends EmulatorOptions {
  /** the runner's hooks, e.g. `{ beforeAll, beforeEach, afterAll }` from 'vitest'; default: the global ones */
  hooks?: TestHooks;
}

export interface EmulatorFixture {
  /** the running emulator (read it inside tests and hooks) */
  readonly emulator: EmulatorHandle;
  /** the official twilio SDK as the emulator's first account, pointed at the emulator */
  readonly client: TwilioClient;
}

const HOOK_NAMES = ['beforeAll', 'beforeEach', 'afterAll'] as const;

function findHooks(given: TestHooks | undefined): TestHooks {
  const source = (given ?? globalThis) as Partial<Record<(typeof HOOK_NAMES)[number], unknown>>;
  const missing = HOOK_NAMES.filter((name) => typeof source[name] !== 'function');
  if (missing.length === 0) return source as TestHooks;
  throw new Error(
    given
      ? `useEmulator: options.hooks lacks ${missing.join(', ')}: pass { hooks: { beforeAll, beforeEach, afterAll } }`
      : `useEmulator: no global ${missing.join(', ')}: run it under jest or vitest with \`globals: true\`, ` +
          "or pass the hooks: useEmulator({ hooks: { beforeAll, beforeEach, afterAll } }) with them imported from 'vitest'",
  );
}

export function useEmulator(options: UseEmulatorOptions = {}): EmulatorFixture {
  const { hooks, ...emulatorOptions } = options;
  const { beforeAll, beforeEach, afterAll } = findHooks(hooks);
  let started: { emulator: EmulatorHandle; client: TwilioClient } | undefined;
  const current = () => {
    if (!started) throw new Error('useEmulator: the emulator starts in beforeAll; read emulator and client inside tests and hooks');
    return started;
  };
  // with a snapshot, every test starts from it: read once, loaded again before each test instead of a reset
  let snapshot: unknown;
  beforeAll(async () => {
    try {
      snapshot = typeof emulatorOptions.snapshot === 'string' ? readSnapshotDocument(emulatorOptions.snapshot) : emulatorOptions.snapshot;
    } catch (error) {
      throw new SnapshotLoadError(`the snapshot cannot be loaded: ${(error as Error).message}`);
    }
    const emulator = await createEmulator({ ...emulatorOptions, ...(snapshot === undefined ? {} : { snapshot: snapshot as EmulatorOptions['snapshot'] }) });
    started = { emulator, client: twilio(emulator.accountSid, emulator.authToken, { httpClient: emulatorHttpClient(emulator.url) }) };
  });
  beforeEach(() => {
    const { emulator } = current();
    // the snapshot holds its own fault rules, limits and clock: loading it replaces whatever a test changed
    if (snapshot !== undefined) return loadSnapshot(emulator.core, snapshot);
    // reset keeps fault rules and rate limits (a CI pipeline sets them once): a test file's tests must not share them
    emulator.core.restFaults.rules = [];
    emulator.core.webhooks.faults.rules = [];
    emulator.core.limits.set({ rps: null, burst: null, concurrency: null });
    emulator.reset();
  });
  afterAll(async () => {
    const emulator = started?.emulator;
    started = undefined;
    await emulator?.close();
  });
  return {
    get emulator() {
      return current().emulator;
    },
    get client() {
      return current().client;
    },
  };
}
