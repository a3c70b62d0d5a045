/**
 * Driving the real `@twilio/conversations` SDK against an in-process emulator: clients for identities (shut down
 * after each test), bounded waits, and the emulator-side view of subscriptions. The SDK's Client class is a
 * parameter (3.0.1 unless given) so one suite runs against each pinned version (`SDK_VERSIONS`).
 */
import { WebSocket } from 'ws';
import { Client } from '@twilio/conversations';
import { Client as ClientV2 } from 'conversations-v2';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startEmulator, type TestEmulator } from './emulator.js';

// Node 20 has no global WebSocket; the SDK uses the global one when there is one (twilsock websocketchannel.ts)
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** a Client class of the SDK; tests are written against 3.x's types, which 2.6's public API matches where they use it */
export type SdkClient = typeof Client;

/** the pinned SDK versions a suite runs against: `describe.each(SDK_VERSIONS)('… (SDK %s)', (version, Sdk) => …)` */
export const SDK_VERSIONS: readonly (readonly [string, SdkClient])[] = [
  ['3.0.1', Client],
  // `unknown` only because the two builds declare their private members separately, which TypeScript treats as distinct
  ['2.6.5', ClientV2 as unknown as SdkClient],
];

/** the p-th percentile (nearest rank) of ascending `sorted` */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export interface SdkHarness {
  /** an initialised client for `identity` (a token from emulator.clientToken unless given) */
  connect(identity: string, token?: string): Promise<Client>;
  /** resolve once the emulator sees `identity` subscribed to `objectSid`: what follows is a live push */
  subscribed(identity: string, objectSid: string): Promise<void>;
  /** a conversation made through REST with these chat participants */
  conversationWith(identities: string[], friendlyName?: string): Promise<string>;
  wsUri(): string;
  /** shut every client down (call after each test, or vitest never exits) */
  shutdown(): Promise<void>;
  clients: Client[];
}

export function sdkHarness(t: () => TestEmulator, Sdk: SdkClient = Client): SdkHarness {
  const clients: Client[] = [];
  const wsUri = () => `${t().emulator.url.replace(/^http/, 'ws')}/v3/wsconnect`;
  return {
    clients,
    wsUri,
    async connect(identity, token = t().emulator.clientToken(identity)) {
      const client = new Sdk(token, { Twilsock: { uri: wsUri() }, logLevel: 'silent' });
      clients.push(client);
      await within(10_000, `${identity} initialised`, new Promise<void>((resolve, reject) => {
        client.once('initialized', () => resolve());
        client.once('initFailed', ({ error }) => reject(new Error(`init failed: ${error?.message ?? 'unknown'}`)));
      }));
      return client;
    },
    async subscribed(identity, objectSid) {
      const deadline = Date.now() + 5_000;
      while (!t().emulator.clientConnections().some((c) => c.identity === identity && c.subscriptions.includes(objectSid))) {
        if (Date.now() > deadline) throw new Error(`${identity} never subscribed to ${objectSid}: ${JSON.stringify(t().emulator.clientConnections())}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async conversationWith(identities, friendlyName = 'support') {
      const v1 = t().client.conversations.v1;
      const c = await v1.conversations.create({ friendlyName });
      for (const identity of identities) await v1.conversations(c.sid).participants.create({ identity });
      return c.sid;
    },
    async shutdown() {
      await Promise.all(clients.splice(0).map((c) => c.shutdown().catch(() => undefined)));
    },
  };
}

/**
 * A test file's emulator and SDK harness: started once, every client shut down and the emulator reset after each
 * test, closed at the end. `started` hands the emulator to the file's own `t`.
 */
export function sdkTestbed(started: (t: TestEmulator) => void, Sdk: SdkClient = Client): SdkHarness {
  let t: TestEmulator | undefined;
  const sdk = sdkHarness(() => t!, Sdk);
  beforeAll(async () => {
    t = await startEmulator();
    started(t);
  });
  afterEach(async () => {
    await sdk.shutdown();
    t?.emulator.reset();
  });
  afterAll(() => t?.emulator.close());
  return sdk;
}
