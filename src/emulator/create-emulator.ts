/**
 * `createEmulator(options)`: a started emulator with its URL, credentials, control handle and `close()`.
 * The CLI's `tce serve` calls exactly this; in-process and standalone are the same code.
 */
import type { Account } from './accounts.js';
import { buildApp } from './app.js';
import type { ClockMode } from './clock.js';
import { EmulatorCore } from './core.js';
import type { Durability } from './store/database.js';
import type { RestOptions } from './http/rest-plugin.js';
import { version } from '../version.js';
import { preloadPhoneNumbers } from './resources/participants/binding.js';
import type { DeliveryView } from './webhooks/service.js';
import { parseRules } from './webhooks/faults.js';
import { parseLimits } from './http/limits.js';
import { isLoopback } from './http/bind.js';
import type { RequestLogEntry } from './http/request-log.js';
import type { NumberWebhook } from './messaging/numbers.js';
import { parseDateTime } from './wire/dates.js';
import { channelHandle, type ChannelHandle } from './channel/channel-handle.js';
import { loadSnapshot, readSnapshotDocument, SnapshotLoadError, type Snapshot } from './snapshot/snapshot.js';
import { ClientTokens, type ClientTokenOptions } from './realtime/client-tokens.js';
import { realtimeHubOf, type ClientConnection } from './realtime/hub.js';

/** on close, how long REST requests in flight may take before their connections are cut */
const CLOSE_GRACE_MS = 1000;

export interface EmulatorOptions {
  /** TCP port; 0 (default) picks a free one */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** SQLite file or ':memory:' (default) */
  db?: string;
  /** the first account's credentials (else TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN are NOT read here: pass them) */
  accountSid?: string;
  authToken?: string;
  /** base for every url, links and page URL; default the origin each request came in on */
  publicUrl?: string;
  /** deterministic SIDs and random draws */
  seed?: string | number;
  /** 'manual' freezes the emulator clock until advanced */
  clock?: ClockMode | { mode: ClockMode; start?: number };
  /** require `Authorization: Bearer <token>` on /_emulator/* (GET /_emulator/health stays open) */
  controlToken?: string;
  /**
   * Bind a non-loopback `host` with no `controlToken` anyway: anyone who reaches the port can then mint keys
   * and reset data. Without it, createEmulator refuses such a host.
   */
  unsafeOpenControlPlane?: boolean;
  /** deadline for a request's headers and body, in ms (default 30 000); past it 408 and the connection closes */
  requestTimeoutMs?: number;
  /** per-account REST rate limits (default: none) */
  rateLimit?: { rps?: number | null; burst?: number | null; concurrency?: number | null };
  /** where webhook requests are sent from: a thread of their own (default) or the main thread */
  webhookTransport?: 'worker' | 'inline';
  /** how hard each commit is pushed to disk: 'off' (default), 'normal' or 'full' (README "Durability") */
  durability?: Durability;
  /**
   * a snapshot loaded before listening, as `tce serve --import FILE`: the document (`GET /_emulator/snapshot`,
   * `takeSnapshot`) or the path of a file holding it (`tce snapshot save`); one it cannot take throws SnapshotLoadError
   */
  snapshot?: Snapshot | string;
  /** fastify request logging */
  logger?: boolean;
  /** inspect every REST answer (used by response validation) */
  onAnswer?: RestOptions['onAnswer'];
}

export interface ClockHandle {
  now(): Date;
  advance(seconds: number): void;
  set(date: Date | string): void;
  setMode(mode: ClockMode): void;
  /** back to wall time: real mode, no offset */
  reset(): void;
}

export interface EmulatorHandle {
  /** e.g. http://127.0.0.1:4510 */
  url: string;
  port: number;
  accountSid: string;
  authToken: string;
  /** the first account's test credentials (only 2010 Messages create accepts them, as at Twilio) */
  testAccountSid: string;
  testAuthToken: string;
  /** the first account's default Conversation Service (as /v1/Configuration says now) */
  readonly defaultServiceSid: string;
  /** empty every resource table (one account's, or all), keeping accounts and keys */
  reset(accountSid?: string): void;
  close(): Promise<void>;
  clock: ClockHandle;
  control: {
    createAccount(options?: { accountSid?: string; authToken?: string; friendlyName?: string; testAccountSid?: string; testAuthToken?: string }): Account;
    createApiKey(accountSid: string, friendlyName?: string): { sid: string; secret: string };
    deleteApiKey(accountSid: string, keySid: string): boolean;
    /** resolve with the first finished webhook delivery the predicate accepts (tests never sleep) */
    waitForDelivery(predicate: (d: DeliveryView) => boolean, timeoutMs?: number): Promise<DeliveryView>;
    /** the webhook journal, as GET /_emulator/webhooks/deliveries returns it */
    deliveries(filter?: { eventType?: string; conversationSid?: string; state?: string; limit?: number }): DeliveryView[];
    /** replace the webhook fault rules, as PUT /_emulator/faults/webhooks does */
    setWebhookFaults(rules: unknown[]): void;
    /** the REST request log, oldest first, as GET /_emulator/requests returns it */
    requests(filter?: { method?: string; path?: string; accountSid?: string; since?: Date | string; limit?: number }): { requests: RequestLogEntry[]; dropped: number };
    /** forget the request log, as DELETE /_emulator/requests does */
    clearRequests(): void;
    /** configure a number's incoming-message webhook, as PUT /_emulator/numbers/{address} does */
    setNumberWebhook(address: string, config: { smsUrl: string; smsMethod?: 'POST' | 'GET'; accountSid?: string }): NumberWebhook;
    /** remove it, as DELETE /_emulator/numbers/{address} does (throws when it had none) */
    deleteNumberWebhook(address: string): void;
  };
  /** the simulated SMS / WhatsApp channel in-process: inbound, outbox, handsets and waits on delivery */
  channel: ChannelHandle;
  /** the core, for advanced embedding (tests, benchmarks) */
  core: EmulatorCore;
  /** an Access Token (ChatGrant) for the client SDKs, valid by the emulator's clock; first account unless given */
  clientToken(identity: string, options?: ClientTokenOptions & { accountSid?: string }): string;
  /** the client SDKs connected over twilsock, with the Sync objects each is subscribed to */
  clientConnections(): ClientConnection[];
  /** cut the client connections of an identity (all without one) as a network failure would; how many were cut */
  dropClientConnections(identity?: string): number;
}

export async function createEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  if (!options.controlToken && !options.unsafeOpenControlPlane && !(await isLoopback(host))) {
    throw new Error(
      `refusing to bind ${host} with an open control plane: pass controlToken, or unsafeOpenControlPlane: true to accept that anyone reaching the port can mint API keys and reset data`,
    );
  }
  const core = new EmulatorCore({ db: options.db, seed: options.seed, clock: options.clock, webhookTransport: options.webhookTransport, durability: options.durability });
  try {
    if (options.snapshot !== undefined) {
      try {
        loadSnapshot(core, typeof options.snapshot === 'string' ? readSnapshotDocument(options.snapshot) : options.snapshot);
      } catch (error) {
        throw new SnapshotLoadError(`the snapshot cannot be loaded: ${(error as Error).message}`);
      }
    }
    const wanted = options.accountSid;
    let account = wanted ? core.accounts.get(wanted) : core.accounts.list()[0];
    if (account && options.authToken && account.authToken !== options.authToken) {
      throw new Error(`account ${account.sid} already exists in ${options.db} with another auth token`);
    }
    account ??= core.accounts.create({ accountSid: wanted, authToken: options.authToken });
    const app = buildApp({
      core,
      version,
      publicUrl: options.publicUrl?.replace(/\/+$/, ''),
      controlToken: options.controlToken,
      logger: options.logger,
      onAnswer: options.onAnswer,
      requestTimeoutMs: options.requestTimeoutMs,
    });
    if (options.rateLimit) core.limits.set(parseLimits(options.rateLimit));
    await app.listen({ port: options.port ?? 0, host });
    // Warm the phone-number library off the start-up path, before the first participant needs it.
    setTimeout(preloadPhoneNumbers, 50).unref();
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
    // every interface includes this machine's loopback: the URL to call is that one
    const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const first = account;
    const url = `http://${urlHost}:${port}`;
    const clientTokens = new ClientTokens(core);
    return {
      url,
      port,
      accountSid: first.sid,
      authToken: first.authToken,
      testAccountSid: first.testAccountSid,
      testAuthToken: first.testAuthToken,
      get defaultServiceSid() {
        return core.accounts.get(first.sid)?.defaultServiceSid ?? first.defaultServiceSid;
      },
      reset: (accountSid) => core.reset(accountSid),
      close: async () => {
        // Bounded whatever consumers and clients do: pre-events in flight stop waiting (their calls go ahead as
        // unanswered), delayed requests go ahead, and connections still open after the grace are cut.
        core.webhooks.stopPreEvents();
        core.restFaults.release();
        const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
        await app.close();
        clearTimeout(cut);
        // Node 20 keeps a closed http.Server that never had a connection reachable from its TCP wrap; its 'request'
        // listener would keep the whole fastify app (router, 200 route handlers) alive: ~1 MB per such emulator.
        app.server.removeAllListeners();
        await core.shutdown();
      },
      clock: {
        now: () => new Date(core.clock.now()),
        advance: (seconds) => core.clock.advance(seconds),
        set: (date) => core.clock.set(new Date(date).getTime()),
        setMode: (mode) => core.clock.setMode(mode),
        reset: () => core.clock.reset(),
      },
      control: {
        createAccount: (o) => core.accounts.create(o),
        createApiKey: (accountSid, friendlyName) => core.accounts.createKey(accountSid, friendlyName),
        deleteApiKey: (accountSid, keySid) => core.accounts.deleteKey(accountSid, keySid),
        waitForDelivery: (predicate, timeoutMs) => core.webhooks.waitForDelivery(predicate, timeoutMs),
        deliveries: (filter) => core.webhooks.journal(filter),
        setWebhookFaults: (rules) => {
          core.webhooks.faults.rules = parseRules({ rules });
        },
        requests: (filter = {}) => {
          const since = filter.since === undefined ? undefined : filter.since instanceof Date ? filter.since.getTime() : parseDateTime(filter.since);
          if (filter.since !== undefined && (since === undefined || Number.isNaN(since))) throw new Error(`since must be a Date or an ISO 8601 date-time: ${String(filter.since)}`);
          return { requests: core.requestLog.list({ ...filter, since }), dropped: core.requestLog.dropped };
        },
        clearRequests: () => core.requestLog.clear(),
        setNumberWebhook: (address, config) => core.channel.numbers.set(address, config),
        deleteNumberWebhook: (address) => core.channel.numbers.delete(address),
      },
      // URLs in the webhooks an inbound causes are built on the public URL, as the control plane's are
      channel: channelHandle(core.channel, () => options.publicUrl?.replace(/\/+$/, '') ?? url),
      core,
      clientToken: (identity, o = {}) => clientTokens.mint(o.accountSid ?? first.sid, identity, o),
      clientConnections: () => realtimeHubOf(core)?.connections() ?? [],
      dropClientConnections: (identity) => realtimeHubOf(core)?.drop(identity) ?? 0,
    };
  } catch (error) {
    core.close();
    throw error;
  }
}
