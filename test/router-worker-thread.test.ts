/**
 * The router's worker in a thread of its own: the queue is applied there, its metrics and log lines reach the
 * router's, an in-memory database keeps its worker in the router's thread, and a thread that cannot start hands the
 * queue to a worker in the router's thread.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createRouter, type RouterHandle } from '../src/router/create-router.js';
import { createRouterLogger } from '../src/router/logger.js';
import { openStores } from '../src/router/store/open-stores.js';
import { assembleWorker, type WorkerMetricsSink } from '../src/router/worker/assemble.js';
import { ThreadedWorker } from '../src/router/worker/threaded-worker.js';
import { postSignedForm } from './support/router-process.js';
import { routerConfig } from './support/router-ingress.js';
import { testSqliteFile } from './support/router-stores.js';
import { eventually } from './support/router.js';

const TOKEN = 'worker-thread-token';
const ACCOUNT = 'AC' + 'ab'.repeat(16);
/** nothing listens there: every call to Twilio fails at once */
const DEAD_TWILIO = 'http://127.0.0.1:9';

function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createRouterLogger({ level: 'info', destination }), lines };
}

const messageAdded = (i: number) => ({
  AccountSid: ACCOUNT,
  EventType: 'onMessageAdded',
  ConversationSid: 'CH' + '0'.repeat(31) + '1',
  MessageSid: 'IM' + i.toString(16).padStart(32, '0'),
  Index: String(i),
  Author: 'agent',
  Body: 'hello',
  Source: 'API',
  DateCreated: '2026-12-01T10:00:00.000Z',
  RetryCount: '0',
});

function metricValue(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function start(db: string, extra: { twilioUrl?: string } = {}) {
  const log = captureLog();
  const router: RouterHandle = await createRouter({
    port: 0,
    host: '127.0.0.1',
    db,
    accountSid: ACCOUNT,
    authToken: TOKEN,
    twilioUrl: extra.twilioUrl ?? DEAD_TWILIO,
    logger: log.logger,
    worker: { concurrency: 4, leaseMs: 10_000, maxAttempts: 3, thread: true },
    twilio: { maxRetries: 0 },
  });
  cleanups.push(() => router.close());
  return { router, log };
}

describe('the router worker thread', () => {
  it('applies the queue in its own thread; its metrics reach the router', async () => {
    const sqlite = testSqliteFile();
    cleanups.push(() => sqlite.remove());
    const { router } = await start(sqlite.file);
    expect(router.workerRunsIn).toBe('thread');
    for (let i = 0; i < 20; i++) expect(await postSignedForm(router.url + router.config.paths.webhook, messageAdded(i), TOKEN)).toBe(200);
    await router.drain();
    expect((await router.events.applied()).length).toBe(20);
    await eventually(async () => {
      const text = await (await fetch(router.url + '/metrics')).text();
      expect(metricValue(text, 'tce_router_events_processed_total', 'event_type="onMessageAdded"')).toBe(20);
    });
  });

  it("writes the thread's log lines through the router's logger, and counts its failures", async () => {
    const sqlite = testSqliteFile();
    cleanups.push(() => sqlite.remove());
    const { router, log } = await start(sqlite.file);
    // an inbound SMS makes the worker look up its conversation at Twilio, which cannot be reached
    const inbound = { AccountSid: ACCOUNT, MessageSid: 'SM' + '1'.repeat(32), From: '+15550001111', To: '+15550002222', Body: 'hi' };
    expect(await postSignedForm(router.url + router.config.paths.inbound, inbound, TOKEN)).toBe(200);
    await eventually(() => {
      const failed = log.lines.find((l) => l.msg === 'handler failed; retrying later');
      expect(failed).toMatchObject({ name: 'tce-router', eventType: 'inbound' });
      expect(typeof failed!.correlationId).toBe('string');
      // redaction applies in the thread too
      expect(JSON.stringify(failed)).not.toContain('"hi"');
    });
    await eventually(async () => {
      const text = await (await fetch(router.url + '/metrics')).text();
      expect(metricValue(text, 'tce_router_events_failed_total', 'event_type="inbound"')).toBeGreaterThanOrEqual(1);
    });
  });

  it("keeps an in-memory database's worker in the router's thread", async () => {
    const { router } = await start(':memory:');
    expect(router.workerRunsIn).toBe('router-thread');
    expect(await postSignedForm(router.url + router.config.paths.webhook, messageAdded(1), TOKEN)).toBe(200);
    await router.drain();
    expect((await router.events.applied()).length).toBe(1);
  });

  it("hands the queue to a worker in the router's thread when the thread cannot open its stores", async () => {
    const sqlite = testSqliteFile();
    cleanups.push(() => sqlite.remove());
    const config = routerConfig({ db: sqlite.file, accountSid: ACCOUNT, twilioUrl: DEAD_TWILIO, logLevel: 'info' });
    const stores = await openStores(config);
    cleanups.push(() => stores.close());
    const log = captureLog();
    const metrics: WorkerMetricsSink = { processed: () => undefined, failed: () => undefined, twilioRetry: () => undefined };
    let fallbacks = 0;
    const worker = new ThreadedWorker({
      // the thread gets a database it cannot reach, the fallback the real one
      data: { config: { ...config, databaseUrl: 'postgres://nobody@127.0.0.1:9/none' }, workerId: 'w-fallback', logLevel: 'info' },
      log: log.logger,
      metrics,
      fallback: () => {
        fallbacks++;
        return assembleWorker({ config, events: stores.events, kv: stores.kv, log: log.logger, metrics, workerId: 'w-fallback' });
      },
    });
    await worker.start();
    cleanups.unshift(() => worker.stop(0));
    expect(worker.runsIn).toBe('router-thread');
    expect(fallbacks).toBe(1);
    expect(log.lines.find((l) => l.msg?.toString().startsWith('the worker thread is not running'))).toBeTruthy();
    // the fallback applies what is enqueued
    await stores.events.accept(
      { source: 'conversations', eventType: 'onMessageAdded', dedupeKey: 'k1', partitionKey: 'conversation:CH1', params: messageAdded(7), receivedAt: Date.now(), signature: 'valid', correlationId: 'c1' },
      60,
    );
    worker.notify();
    await eventually(async () => expect((await stores.events.stats()).depth).toBe(0));
  });
});
