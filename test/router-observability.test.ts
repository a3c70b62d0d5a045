import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { REDACTED, createRouterLogger, eventLogger, newCorrelationId } from '../src/router/logger.js';
import { LATENCY_BUCKETS, createRouterMetrics } from '../src/router/metrics.js';

/** A logger writing into memory; lines() parses what it wrote. */
function capture(level = 'info') {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const logger = createRouterLogger({ level, destination });
  return {
    logger,
    raw: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const BODY = 'my secret message body 4111-1111-1111-1111';
const TOKEN = 'tok_5f2b9c0d1e3a4b6c';

describe('logger', () => {
  it('writes JSON lines with level, time, name and message', () => {
    const out = capture();
    out.logger.info({ endpoint: 'webhook' }, 'accepted');
    out.logger.debug('not at info');
    const [line, ...rest] = out.lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ level: 30, name: 'tce-router', endpoint: 'webhook', msg: 'accepted' });
    expect(typeof line!.time).toBe('string');
    expect(new Date(line!.time as string).toISOString()).toBe(line!.time);
  });

  it('never writes a Body or a token, wherever the router puts them', () => {
    const out = capture('trace');
    const log = eventLogger(out.logger, newCorrelationId(), { eventType: 'onMessageAdded' });
    log.info({ params: { Body: BODY, From: '+15550001111', MessageSid: 'IM1' } }, 'webhook params');
    log.info({ event: { params: { Body: BODY }, dedupeKey: 'k' } }, 'event');
    log.info({ Body: BODY, body: BODY }, 'top level');
    log.info({ message: { body: BODY, sid: 'IM2' } }, 'outbound send');
    log.info({ req: { method: 'POST', url: '/twilio/conversations/webhook', headers: { authorization: `Bearer ${TOKEN}`, 'x-twilio-signature': TOKEN, cookie: TOKEN }, body: BODY } }, 'request');
    log.info({ config: { authToken: TOKEN, apiKeySecret: TOKEN, apiToken: TOKEN, databaseUrl: `postgres://u:${TOKEN}@db/x`, redisUrl: `redis://:${TOKEN}@r` } }, 'config');
    log.info({ authToken: TOKEN, apiKeySecret: TOKEN, apiToken: TOKEN, password: TOKEN }, 'credentials at top');
    log.warn({ db: { password: TOKEN } }, 'password');
    const raw = out.raw();
    expect(raw).not.toContain(BODY);
    expect(raw).not.toContain(TOKEN);
    const lines = out.lines();
    expect(lines).toHaveLength(8);
    // redacted, not dropped: the reader sees the field was there
    expect(lines[0]).toMatchObject({ params: { Body: REDACTED, From: '+15550001111', MessageSid: 'IM1' } });
    expect(lines[1]).toMatchObject({ event: { params: { Body: REDACTED }, dedupeKey: 'k' } });
    expect(lines[4]).toMatchObject({ req: { method: 'POST', headers: { authorization: REDACTED, 'x-twilio-signature': REDACTED }, body: REDACTED } });
    expect(lines[5]).toMatchObject({ config: { authToken: REDACTED, apiKeySecret: REDACTED, databaseUrl: REDACTED } });
  });

  it('a child per event carries its correlationId on every line', () => {
    const out = capture();
    const a = newCorrelationId();
    const b = newCorrelationId();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    const la = eventLogger(out.logger, a, { partitionKey: 'CH1' });
    const lb = eventLogger(out.logger, b);
    la.info('received');
    lb.info('received');
    la.child({ step: 'handler' }).error('failed');
    out.logger.info('no event');
    const lines = out.lines();
    expect(lines.map((l) => l.correlationId)).toEqual([a, b, a, undefined]);
    expect(lines[0]).toMatchObject({ partitionKey: 'CH1' });
    expect(lines[2]).toMatchObject({ step: 'handler', level: 50 });
  });
});

/** Parses Prometheus text exposition: `name{labels} value` lines into a map, plus the TYPE of each family. */
function parseExposition(text: string) {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
    } else if (line && !line.startsWith('#')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
      if (!m) throw new Error(`not an exposition line: ${line}`);
      samples.set(m[1]!, Number(m[2]));
    }
  }
  return { samples, types };
}

describe('metrics', () => {
  it('exposes every family with its type, label values and counts', async () => {
    const metrics = createRouterMetrics(async () => 42);
    metrics.received.inc({ endpoint: 'webhook' });
    metrics.received.inc({ endpoint: 'webhook' });
    metrics.received.inc({ endpoint: 'status' });
    metrics.signatureRejected.inc({ endpoint: 'webhook' });
    metrics.deduplicated.inc({ endpoint: 'inbound' }, 3);
    metrics.enqueued.inc({ endpoint: 'webhook' });
    metrics.commitFailures.inc();
    metrics.eventsProcessed.inc({ event_type: 'onMessageAdded' }, 5);
    metrics.eventsFailed.inc({ event_type: 'onDeliveryUpdated' });
    metrics.preEventDecisions.inc({ decision: 'deny', policy: 'pii' });
    metrics.twilioRetries.inc({ reason: '429' }, 2);
    metrics.sendsRefused.inc({ reason: 'suppressed' });
    metrics.handlerDuration.observe({ event_type: 'onMessageAdded' }, 0.003);
    metrics.ingressDuration.observe({ endpoint: 'webhook' }, 0.0007);
    metrics.ingressDuration.observe({ endpoint: 'webhook' }, 7);

    const text = await metrics.text();
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parseExposition(text);
    expect(Object.fromEntries(types)).toEqual({
      tce_router_webhooks_received_total: 'counter',
      tce_router_signature_rejected_total: 'counter',
      tce_router_deduplicated_total: 'counter',
      tce_router_enqueued_total: 'counter',
      tce_router_commit_failures_total: 'counter',
      tce_router_events_processed_total: 'counter',
      tce_router_events_failed_total: 'counter',
      tce_router_pre_event_decisions_total: 'counter',
      tce_router_twilio_retries_total: 'counter',
      tce_router_sends_refused_total: 'counter',
      tce_router_queue_depth: 'gauge',
      tce_router_handler_duration_seconds: 'histogram',
      tce_router_ingress_duration_seconds: 'histogram',
    });
    expect(samples.get('tce_router_webhooks_received_total{endpoint="webhook"}')).toBe(2);
    expect(samples.get('tce_router_webhooks_received_total{endpoint="status"}')).toBe(1);
    // series exist at 0 before anything happens
    expect(samples.get('tce_router_webhooks_received_total{endpoint="pre-event"}')).toBe(0);
    expect(samples.get('tce_router_signature_rejected_total{endpoint="inbound"}')).toBe(0);
    expect(samples.get('tce_router_signature_rejected_total{endpoint="webhook"}')).toBe(1);
    expect(samples.get('tce_router_deduplicated_total{endpoint="inbound"}')).toBe(3);
    expect(samples.get('tce_router_enqueued_total{endpoint="webhook"}')).toBe(1);
    expect(samples.get('tce_router_commit_failures_total')).toBe(1);
    expect(samples.get('tce_router_events_processed_total{event_type="onMessageAdded"}')).toBe(5);
    expect(samples.get('tce_router_events_failed_total{event_type="onDeliveryUpdated"}')).toBe(1);
    expect(samples.get('tce_router_pre_event_decisions_total{decision="deny",policy="pii"}')).toBe(1);
    expect(samples.get('tce_router_twilio_retries_total{reason="429"}')).toBe(2);
    expect(samples.get('tce_router_sends_refused_total{reason="suppressed"}')).toBe(1);
    expect(samples.get('tce_router_queue_depth')).toBe(42);
    // histograms: buckets from 0.5 ms to 5 s; 0.7 ms falls in le=0.001, 7 s only in +Inf
    expect(LATENCY_BUCKETS[0]).toBe(0.0005);
    expect(LATENCY_BUCKETS.at(-1)).toBe(5);
    expect(samples.get('tce_router_ingress_duration_seconds_bucket{le="0.0005",endpoint="webhook"}')).toBe(0);
    expect(samples.get('tce_router_ingress_duration_seconds_bucket{le="0.001",endpoint="webhook"}')).toBe(1);
    expect(samples.get('tce_router_ingress_duration_seconds_bucket{le="5",endpoint="webhook"}')).toBe(1);
    expect(samples.get('tce_router_ingress_duration_seconds_bucket{le="+Inf",endpoint="webhook"}')).toBe(2);
    expect(samples.get('tce_router_ingress_duration_seconds_count{endpoint="webhook"}')).toBe(2);
    expect(samples.get('tce_router_ingress_duration_seconds_sum{endpoint="webhook"}')).toBeCloseTo(7.0007, 6);
    expect(samples.get('tce_router_handler_duration_seconds_bucket{le="0.005",event_type="onMessageAdded"}')).toBe(1);
    expect(samples.get('tce_router_handler_duration_seconds_bucket{le="0.0025",event_type="onMessageAdded"}')).toBe(0);
  });

  it('the queue depth is read at each scrape; a failing callback reads NaN and does not break the scrape', async () => {
    let depth = 1;
    let broken = false;
    const metrics = createRouterMetrics(async () => {
      if (broken) throw new Error('store down');
      return depth;
    });
    expect(parseExposition(await metrics.text()).samples.get('tce_router_queue_depth')).toBe(1);
    depth = 17;
    expect(parseExposition(await metrics.text()).samples.get('tce_router_queue_depth')).toBe(17);
    broken = true;
    const { samples } = parseExposition(await metrics.text());
    expect(samples.get('tce_router_queue_depth')).toBeNaN();
    expect(samples.get('tce_router_webhooks_received_total{endpoint="webhook"}')).toBe(0);
  });

  it('two routers in one process have independent registries', async () => {
    const a = createRouterMetrics(async () => 1);
    const b = createRouterMetrics(async () => 2);
    a.received.inc({ endpoint: 'webhook' }, 10);
    b.received.inc({ endpoint: 'webhook' }, 3);
    a.eventsProcessed.inc({ event_type: 'onConversationAdded' });
    const sa = parseExposition(await a.text()).samples;
    const sb = parseExposition(await b.text()).samples;
    expect(sa.get('tce_router_webhooks_received_total{endpoint="webhook"}')).toBe(10);
    expect(sb.get('tce_router_webhooks_received_total{endpoint="webhook"}')).toBe(3);
    expect(sa.get('tce_router_queue_depth')).toBe(1);
    expect(sb.get('tce_router_queue_depth')).toBe(2);
    expect(sb.has('tce_router_events_processed_total{event_type="onConversationAdded"}')).toBe(false);
    expect(a.registry).not.toBe(b.registry);
    // and prom-client's global registry is left alone
    const { register } = await import('prom-client');
    expect(await register.getSingleMetric('tce_router_webhooks_received_total')).toBeUndefined();
  });

  it('process metrics are opt-in, under the tce_router_ prefix', async () => {
    const plain = parseExposition(await createRouterMetrics(async () => 0).text()).types;
    expect([...plain.keys()].every((n) => n.startsWith('tce_router_'))).toBe(true);
    expect(plain.has('tce_router_process_resident_memory_bytes')).toBe(false);
    const withProcess = parseExposition(await createRouterMetrics(async () => 0, { processMetrics: true }).text());
    expect(withProcess.types.get('tce_router_process_resident_memory_bytes')).toBe('gauge');
    expect(withProcess.samples.get('tce_router_process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});
