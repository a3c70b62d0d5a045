/**
 * `createRouter(options)`: the reference router in-process, like `createEmulator`: stores opened, worker started,
 * HTTP listening. Resolves to `{ url, close(), … }`. `tce router serve` calls the same function.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { RouterConfig } from './config-types.js';
import { defaultRouterConfig } from './config.js';
import type { IncomingEvent } from './events.js';
import { createRouterLogger } from './logger.js';
import { createRouterMetrics, ingressCounters, ROUTER_ENDPOINTS, type RouterMetrics } from './metrics.js';
import { openStores } from './store/open-stores.js';
import type { AcceptResult, EventStore, KeyValueStore } from './store/types.js';
import { ingressRoutes } from './ingress/routes.js';
import { createTwilioClient } from './twilio/client.js';
import { createTwilioGateway, type TwilioGateway } from './twilio/gateway.js';
import { SuppressionList } from './compliance/suppression-list.js';
import { RecentKeys } from './ingress/recent-keys.js';
import { assembleWorker, RETRY_REASON, type WorkerMetricsSink } from './worker/assemble.js';
import { ThreadedWorker, type RunningWorker } from './worker/threaded-worker.js';
import { apiRoutes } from './api/api-routes.js';
import { readConversationState } from './api/conversation-state.js';
import { replayLog, type ReplayResult } from './replay.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends Array<unknown> ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

export type RouterOptions = DeepPartial<RouterConfig> & {
  /** a pino logger to use instead of one on stdout */
  logger?: Logger;
  /** this process's worker id (default: random) */
  workerId?: string;
};

export interface RouterHandle {
  url: string;
  config: RouterConfig;
  events: EventStore;
  kv: KeyValueStore;
  metrics: RouterMetrics;
  gateway: TwilioGateway;
  /** where the worker applies the queue: a thread of its own, the router's thread, or nowhere (ingress only) */
  readonly workerRunsIn: 'thread' | 'router-thread' | 'none';
  /** wait until every accepted event is applied (or `timeoutMs` passes: rejects) */
  drain(timeoutMs?: number): Promise<void>;
  replay(options?: { write?: boolean }): Promise<ReplayResult>;
  state: (sidOrUniqueName: string) => ReturnType<typeof readConversationState>;
  close(): Promise<void>;
}

/** true when `promise` settles within `ms` (its rejection counts as settled: a close that failed is over) */
async function within(ms: number, promise: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true, () => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function merge<T>(base: T, override: DeepPartial<T> | undefined): T {
  if (!override) return base;
  const out = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = current && typeof current === 'object' && !Array.isArray(current) && value && typeof value === 'object' && !Array.isArray(value)
      ? merge(current, value as DeepPartial<typeof current>)
      : value;
  }
  return out as T;
}

export function routerConfigOf(options: RouterOptions): RouterConfig {
  const { logger: _logger, workerId: _workerId, ...rest } = options;
  const config = merge(defaultRouterConfig(), rest as DeepPartial<RouterConfig>);
  if (config.validateSignature && !config.authToken) {
    throw new Error('the router checks Twilio signatures and needs TWILIO_AUTH_TOKEN (or turn validate_signature off)');
  }
  return config;
}

export async function createRouter(options: RouterOptions = {}): Promise<RouterHandle> {
  const config = routerConfigOf(options);
  const log = options.logger ?? createRouterLogger({ level: config.logLevel });
  const stores = await openStores(config);
  const { events, kv } = stores;
  // advice only: a router that cannot read the settings still starts
  for (const warning of await events.setupWarnings().catch(() => [])) log.warn({ store: events.kind }, warning);
  const metrics = createRouterMetrics(async () => (await events.stats()).depth, { processMetrics: true });
  const workerMetrics: WorkerMetricsSink = {
    processed: (eventType, seconds) => {
      metrics.eventsProcessed.inc({ event_type: eventType });
      metrics.handlerDuration.observe({ event_type: eventType }, seconds);
    },
    failed: (eventType) => metrics.eventsFailed.inc({ event_type: eventType }),
    twilioRetry: (reason) => metrics.twilioRetries.inc({ reason }),
  };
  // the API's own Twilio client (POST /api/messages); the worker assembles its own, in whichever thread it runs
  const { client } = createTwilioClient(config, {
    logger: log,
    // every replica backs off together after a 429 when they share Redis (or the database)
    backoffStore: kv,
    onRetry: (info) => workerMetrics.twilioRetry(RETRY_REASON[info.reason]),
  });
  const gateway = createTwilioGateway(client, config);
  const suppressions = new SuppressionList(kv);
  const workerId = options.workerId ?? `router-${randomUUID()}`;
  const inThisThread = () => assembleWorker({ config, events, kv, log, metrics: workerMetrics, workerId });
  // an in-memory SQLite database is this connection's alone: its worker cannot move to another thread
  const threaded = config.worker.thread && (config.databaseUrl !== undefined || config.db !== ':memory:');
  let worker: RunningWorker | undefined;
  let thread: ThreadedWorker | undefined;

  const recent = new RecentKeys(config.dedupeTtlSeconds);
  async function accept(event: IncomingEvent): Promise<AcceptResult> {
    if (recent.has(event.dedupeKey)) return { status: 'duplicate' };
    const result = await events.accept(event, config.dedupeTtlSeconds);
    if (result.status === 'accepted') {
      recent.accepted(event.dedupeKey);
      worker?.notify();
    }
    return result;
  }

  // request ids become the events' correlation ids: unique across replicas and restarts
  const app = Fastify({
    loggerInstance: log,
    // no line per request: at thousands of webhooks a second the log would be the bottleneck; errors are logged
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    genReqId: () => randomUUID(),
    // request.log is the router's logger itself: a child per request cost 2 % of the ingress's CPU, and the lines the
    // router writes about a request carry its reqId already
    childLoggerFactory: (logger) => logger,
  });
  const endpointOfPath = new Map<string, (typeof ROUTER_ENDPOINTS)[number]>([
    [config.paths.webhook, 'webhook'],
    [config.paths.preEvent, 'pre-event'],
    [config.paths.inbound, 'inbound'],
    [config.paths.status, 'status'],
  ]);
  app.addHook('onResponse', (request, reply, done) => {
    const endpoint = endpointOfPath.get(request.routeOptions.url ?? '');
    if (endpoint) metrics.ingressDuration.observe({ endpoint }, reply.elapsedTime / 1000);
    done();
  });
  await app.register(ingressRoutes, {
    config,
    accept,
    metrics: ingressCounters(metrics),
    log,
    lookupConversation: async (sid: string) => (await readConversationState(events, sid))?.conversation.attributes ?? undefined,
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks = await Promise.all([
      events.ping().then(() => undefined, (error: unknown) => `${events.kind}: ${error instanceof Error ? error.message : String(error)}`),
      kv.ping().then(() => undefined, (error: unknown) => `${kv.kind}: ${error instanceof Error ? error.message : String(error)}`),
    ]);
    const failing = checks.filter((c): c is string => c !== undefined);
    return reply.code(failing.length ? 503 : 200).send({ status: failing.length ? 'unavailable' : 'ready', events: events.kind, kv: kv.kind, failing });
  });
  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));
  // for `tce load --check-url`: how many events the router has applied (no secrets: unauthenticated like /metrics)
  app.get('/stats', async () => events.stats());
  await app.register((api, _opts, done) => {
    apiRoutes(api, { config, events, suppressions, gateway, metrics }).then(() => done(), done);
  }, { prefix: '/api' });

  if (!config.ingressOnly) {
    if (threaded) {
      thread = new ThreadedWorker({ data: { config, workerId, logLevel: log.level, commitSignal: stores.commitSignal }, log, metrics: workerMetrics, fallback: inThisThread });
      await thread.start();
      worker = thread;
    } else {
      const local = inThisThread();
      local.start();
      worker = local;
    }
  }
  const purge = setInterval(() => void events.purgeExpired(Date.now()).catch((error: unknown) => log.warn({ err: error }, 'dedupe purge failed')), 3_600_000);
  purge.unref();

  let url: string;
  try {
    url = await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await worker?.stop(0);
    await stores.close();
    throw error;
  }
  // listen() may answer with another interface's address; the one asked for is what callers reach
  const address = app.server.address();
  if (address && typeof address === 'object') url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;

  let closed: Promise<void> | undefined;
  return {
    url,
    config,
    events,
    kv,
    metrics,
    gateway,
    get workerRunsIn() {
      return worker === undefined ? 'none' : (thread?.runsIn ?? 'router-thread');
    },
    async drain(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const stats = await events.stats();
        if (stats.depth === 0) return;
        if (Date.now() > deadline) throw new Error(`router queue not drained after ${timeoutMs} ms: ${stats.depth} events pending`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    replay: (replayOptions = {}) => replayLog(events, { write: replayOptions.write ?? false }),
    state: (id) => readConversationState(events, id),
    close() {
      // bounded, whatever clients and databases do: 1 s for requests in flight (then their connections are cut:
      // Twilio retries what it did not get answered), ~2 s for the partitions in hand, 1 s for the stores' pools
      closed ??= (async () => {
        clearInterval(purge);
        const answered = await within(1_000, app.close());
        if (!answered) {
          app.server.closeAllConnections();
          log.warn('requests still in flight after 1 s at close: their connections were cut');
        }
        await worker?.stop();
        if (!(await within(1_000, stores.close()))) log.warn('the stores did not close within 1 s (a query still running): left to the process exit');
      })();
      return closed;
    },
  };
}
