/**
 * `conversationsClient(emulator, identity)`: the unmodified `@twilio/conversations` SDK, connected to an in-process
 * emulator as `identity` and initialised. The SDK is the app's own dependency: it is imported only when this is
 * called, so `twilio-conversations-emulator/testing` works without it.
 */
import type { Client, ClientOptions } from '@twilio/conversations';
import type { EmulatorHandle } from '../emulator/create-emulator.js';
import type { ClientTokenOptions } from '../emulator/realtime/client-tokens.js';

export interface ConversationsClientOptions extends ClientTokenOptions {
  /** how long to wait for the SDK's `initialized` (ms, default 10,000); past it the client is shut down */
  timeoutMs?: number;
  /** further options for `new Client` (`Twilsock.uri` is the emulator's; `logLevel` defaults to 'silent') */
  clientOptions?: ClientOptions;
}

type ClientConstructor = new (token: string, options?: ClientOptions) => Client;

async function loadSdk(): Promise<ClientConstructor> {
  let sdk: { Client?: ClientConstructor; default?: { Client?: ClientConstructor } };
  try {
    sdk = (await import('@twilio/conversations')) as typeof sdk;
  } catch (error) {
    throw new Error(`conversationsClient needs @twilio/conversations (npm install --save-dev @twilio/conversations): ${(error as Error).message}`);
  }
  // a CommonJS build: the named export, or the same on the default one
  const constructor = sdk.Client ?? sdk.default?.Client;
  if (!constructor) throw new Error('conversationsClient: @twilio/conversations exports no Client');
  // Node 20 has no global WebSocket; the SDK uses the global one (browsers, Node 22+ have it)
  const scope = globalThis as { WebSocket?: unknown };
  scope.WebSocket ??= (await import('ws')).WebSocket;
  return constructor;
}

const ABANDON_WITHIN_MS = 2_000;

/**
 * Stop a client that never initialised. `Client.shutdown()` first waits for initialisation, so for such a client it
 * never ends (SDK 3.0.1): its twilsock is disconnected directly, within a deadline, lest it retry for ever.
 */
async function abandon(client: Client): Promise<void> {
  const twilsock = (client as unknown as { _services?: { twilsockClient?: { disconnect(): Promise<void> } } })._services?.twilsockClient;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, ABANDON_WITHIN_MS)));
  const stopped = (twilsock ? twilsock.disconnect() : client.shutdown()).catch(() => undefined);
  await Promise.race([stopped, deadline]).finally(() => clearTimeout(timer));
}

/** The twilsock endpoint of an emulator: `ws://<host:port>/v3/wsconnect` (what an app passes as `Twilsock.uri`). */
export function twilsockUri(emulator: Pick<EmulatorHandle, 'url'>): string {
  return `${emulator.url.replace(/^http/, 'ws')}/v3/wsconnect`;
}

/**
 * An initialised `Client` for `identity`, with a token from `emulator.clientToken` (ttl, serviceSid,
 * pushCredentialSid, accountSid passed on). Call `client.shutdown()` when done: an open client keeps the process alive.
 */
export async function conversationsClient(emulator: Pick<EmulatorHandle, 'url' | 'clientToken'>, identity: string, options: ConversationsClientOptions & { accountSid?: string } = {}): Promise<Client> {
  const { timeoutMs = 10_000, clientOptions = {}, ...tokenOptions } = options;
  const Sdk = await loadSdk();
  const token = emulator.clientToken(identity, tokenOptions);
  const client = new Sdk(token, { logLevel: 'silent', ...clientOptions, Twilsock: { ...clientOptions.Twilsock, uri: twilsockUri(emulator) } });
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`conversationsClient: ${identity} was not initialised within ${timeoutMs} ms (${client.connectionState})`)), timeoutMs);
      client.once('initialized', () => resolve());
      client.once('initFailed', ({ error }) => reject(new Error(`conversationsClient: ${identity} failed to initialise: ${error?.message ?? 'unknown error'}`)));
    });
  } catch (error) {
    await abandon(client);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return client;
}
