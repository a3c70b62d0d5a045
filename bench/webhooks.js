#!/usr/bin/env node
/**
 * Webhook delivery benchmark (run `npm run build` first; this reads dist/ and bin/).
 *
 *   node bench/webhooks.js                      both emulator modes, 10 s of load each
 *   BENCH_DURATION=5 node bench/webhooks.js     shorter runs
 *
 * What it does, all on 127.0.0.1:
 *   1. A receiver in a worker thread (node:http, port 0, keep-alive) answers every request 200 at once and records
 *      its arrival time (performance.timeOrigin + performance.now(), µs resolution), EventType, MessageSid,
 *      DateCreated, RetryCount and the I-Twilio-Idempotency-Token header, and counts the connections opened to it;
 *      every BENCH_VERIFY_EVERY-th request keeps its body and X-Twilio-Signature, checked afterwards with
 *      twilio.validateRequest.
 *   2. For each mode in BENCH_MODES: the emulator in this process (`createEmulator({ db: <temp file> })`, main thread)
 *      or as a child (`node bin/tce.js serve --db <temp file>`). The default service's post-event webhook is pointed at
 *      the receiver (POST /v1/Services/{IS}/Configuration/Webhooks: PostWebhookUrl, Filters=onMessageAdded,
 *      Method=POST, Basic auth) and BENCH_CONVERSATIONS conversations are created.
 *   3. A load generator in another worker thread (undici Pool, BENCH_CONNECTIONS requests in flight, closed loop, or
 *      paced at BENCH_RATE creates/s) creates messages with `X-Twilio-Webhook-Enabled: true`, round-robin over the
 *      conversations, for BENCH_DURATION seconds.
 *   4. Measured: signed deliveries/s at the receiver and REST creates/s, both over the steady-state window (load
 *      start + BENCH_RAMP … load end); enqueue→delivered latency = receiver arrival − the message's DateCreated
 *      (the emulator's clock at create, millisecond precision, so figures carry up to +1 ms of truncation) for
 *      deliveries arriving in the window; the backlog at load end (pending journal rows, GET
 *      /_emulator/webhooks/deliveries?status=pending&limit=10000, capped at 10000, and 201s minus deliveries received);
 *      the time to drain; the tce serve child's CPU time (utime + stime, whole process and main thread) per message
 *      created; faults (non-2xx / errors on REST, failed journal rows, missing, duplicate, retried, unsigned or badly
 *      signed deliveries, other event types).
 *   5. Prints a table with PASS/FAIL per target and writes bench/results/webhooks-latest.json.
 *
 * Environment:
 *   BENCH_DURATION       seconds of load per mode (default 10)
 *   BENCH_RAMP           seconds at the start of the load left out of the steady-state window (default 2)
 *   BENCH_CONVERSATIONS  conversations the creates rotate over (default 500)
 *   BENCH_CONNECTIONS    REST requests in flight (default 32)
 *   BENCH_RATE           creates/s to pace the load at, as a schedule (a late start catches up; default 0: closed
 *                        loop, as fast as the emulator answers)
 *   BENCH_MODES          comma list: inprocess, child (default both)
 *   BENCH_DRAIN_TIMEOUT  seconds to wait after the load for every delivery to arrive (default 30)
 *   BENCH_TRANSPORT      worker (default) or inline: where the emulator sends webhooks from (--webhook-transport)
 *   BENCH_VERIFY_EVERY   keep every n-th request for signature checks (default 50)
 *   BENCH_BASELINE       0 to skip the calibration run per mode: the same load on the same emulator with
 *                        X-Twilio-Webhook-Enabled: false (no deliveries), i.e. what REST alone reaches here (default 1)
 *   BENCH_CPU_PROF       a directory: CPU-profile the emulator (child: --cpu-prof; inprocess: node:inspector) into it;
 *                        the profile spans the calibration run too unless BENCH_BASELINE=0. Summarise it with
 *                        `node bench/cpuprofile-summary.js FILE.cpuprofile 40 incl`
 *   BENCH_STRICT         1: exit with status 1 when a target FAILs
 *   BENCH_OUT            JSON output path (default bench/results/webhooks-latest.json)
 */
import { spawn } from 'node:child_process';
import { apiCall, call, envNumber, freePort, machineInfo, gitRevision, renderTable } from './lib.js';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir, cpus, totalmem, platform, release, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'tce.js');
const distIndex = join(root, 'dist', 'index.js');

const ACCOUNT_SID = 'AC' + 'be' + '0'.repeat(30);
const AUTH_TOKEN = 'bench-auth-token';
const AUTHORIZATION = 'Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64');
const FORM = 'application/x-www-form-urlencoded';
/** wall-clock milliseconds with sub-ms resolution, comparable across threads and processes */
const wallNow = () => performance.timeOrigin + performance.now();

if (isMainThread) {
  await mainThread();
} else if (workerData.role === 'receiver') {
  receiverThread();
} else if (workerData.role === 'load') {
  await loadThread(workerData);
}

// ---------------------------------------------------------------------------------------------------------------
// Receiver (worker thread)
// ---------------------------------------------------------------------------------------------------------------

function receiverThread() {
  const verifyEvery = workerData.verifyEvery;
  let rec;
  const fresh = () => ({
    arrival: [],
    created: [],
    sids: [],
    tokens: [],
    conversations: [],
    eventTypes: {},
    retried: 0,
    unsigned: 0,
    nonPost: 0,
    connections: 0,
    samples: [],
  });
  rec = fresh();
  const server = createServer((req, res) => {
    const at = wallNow();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
      const body = Buffer.concat(chunks).toString('utf8');
      const p = new URLSearchParams(body);
      const eventType = p.get('EventType') ?? '(none)';
      const signature = req.headers['x-twilio-signature'];
      rec.arrival.push(at);
      rec.created.push(Date.parse(p.get('DateCreated') ?? '') || NaN);
      rec.sids.push(p.get('MessageSid') ?? '');
      rec.tokens.push(req.headers['i-twilio-idempotency-token'] ?? '');
      rec.conversations.push(p.get('ConversationSid') ?? '');
      rec.eventTypes[eventType] = (rec.eventTypes[eventType] ?? 0) + 1;
      if (p.get('RetryCount') !== '0') rec.retried++;
      if (!signature) rec.unsigned++;
      if (req.method !== 'POST') rec.nonPost++;
      if (rec.arrival.length % verifyEvery === 1) rec.samples.push({ path: req.url, signature, body });
    });
  });
  server.on('connection', () => rec.connections++);
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 31_000;
  parentPort.on('message', (msg) => {
    switch (msg.cmd) {
      case 'reset':
        rec = fresh();
        return parentPort.postMessage({ id: msg.id });
      case 'count':
        return parentPort.postMessage({ id: msg.id, count: rec.arrival.length });
      case 'collect':
        return parentPort.postMessage({ id: msg.id, rec });
      case 'stop':
        server.closeAllConnections?.();
        server.close(() => parentPort.postMessage({ id: msg.id }));
        return;
    }
  });
  server.listen(0, '127.0.0.1', () => parentPort.postMessage({ ready: true, port: server.address().port }));
}

// ---------------------------------------------------------------------------------------------------------------
// Load generator (worker thread)
// ---------------------------------------------------------------------------------------------------------------

async function loadThread({ base, conversations, connections, durationMs, rate, webhooks }) {
  const { Pool } = await import('undici');
  const pool = new Pool(base, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const headers = { authorization: AUTHORIZATION, 'content-type': FORM, 'x-twilio-webhook-enabled': webhooks ? 'true' : 'false' };
  const done = [];
  const latency = [];
  const statuses = {};
  let errors = 0;
  let next = 0;
  const start = wallNow();
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const user = async () => {
    while (performance.now() < deadline) {
      const k = next++;
      if (rate > 0) {
        const due = t0 + (k * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        if (performance.now() >= deadline) return;
      }
      const sid = conversations[k % conversations.length];
      const s = performance.now();
      try {
        const res = await pool.request({
          path: `/v1/Conversations/${sid}/Messages`,
          method: 'POST',
          headers,
          body: `Body=benchmark+message+${k}&Author=bench`,
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        await res.body.dump();
        const e = performance.now();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode === 201) {
          done.push(performance.timeOrigin + e);
          latency.push(e - s);
        }
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, user));
  const end = wallNow();
  await pool.close();
  parentPort.postMessage({ start, end, done, latency, statuses, errors, attempted: next });
}

// ---------------------------------------------------------------------------------------------------------------
// Main thread
// ---------------------------------------------------------------------------------------------------------------

async function mainThread() {
  const api = (base, method, path, form) => apiCall(AUTHORIZATION, base, method, path, form);
  const config = {
    duration: Math.max(1, envNumber('BENCH_DURATION', 10)),
    ramp: envNumber('BENCH_RAMP', 2),
    conversations: Math.max(1, Math.floor(envNumber('BENCH_CONVERSATIONS', 500))),
    connections: Math.max(1, Math.floor(envNumber('BENCH_CONNECTIONS', 32))),
    rate: envNumber('BENCH_RATE', 0),
    modes: (process.env.BENCH_MODES ?? 'inprocess,child').split(',').map((s) => s.trim()).filter(Boolean),
    drainTimeout: envNumber('BENCH_DRAIN_TIMEOUT', 30),
    verifyEvery: Math.max(1, Math.floor(envNumber('BENCH_VERIFY_EVERY', 50))),
    baseline: process.env.BENCH_BASELINE !== '0',
    transport: process.env.BENCH_TRANSPORT ?? 'worker',
    cpuProf: process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined,
    strict: process.env.BENCH_STRICT === '1',
    out: resolve(process.env.BENCH_OUT ?? join(root, 'bench', 'results', 'webhooks-latest.json')),
  };
  for (const m of config.modes) if (m !== 'inprocess' && m !== 'child') throw new Error(`BENCH_MODES: unknown mode ${m}`);
  if (config.ramp >= config.duration) throw new Error('BENCH_RAMP must be shorter than BENCH_DURATION');

  const TARGETS = { deliveriesPerSec: 5000, p99Ms: 20 };

  const log = (...args) => process.stderr.write(`[bench] ${args.join(' ')}\n`);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const round = (x, digits = 2) => (x === undefined || x === null || Number.isNaN(x) ? x : Math.round(x * 10 ** digits) / 10 ** digits);
  const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : undefined);

  const children = new Set();
  const workers = new Set();
  let tempDir;
  const cleanup = () => {
    for (const child of children) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    children.clear();
    for (const w of workers) w.terminate();
    workers.clear();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      cleanup();
      process.exit(130);
    });
  }

  // ---- plain HTTP ----




  // ---- workers ----

  function startReceiver() {
    return new Promise((resolveStart, reject) => {
      const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { role: 'receiver', verifyEvery: config.verifyEvery } });
      workers.add(worker);
      const pending = new Map();
      let ids = 0;
      worker.on('error', reject);
      worker.on('message', (msg) => {
        if (msg.ready) {
          resolveStart({
            port: msg.port,
            rpc: (cmd) =>
              new Promise((r) => {
                const id = ++ids;
                pending.set(id, r);
                worker.postMessage({ cmd, id });
              }),
            async stop() {
              await this.rpc('stop');
              await worker.terminate();
              workers.delete(worker);
            },
          });
          return;
        }
        const r = pending.get(msg.id);
        pending.delete(msg.id);
        r?.(msg);
      });
    });
  }

  function runLoad(base, conversations, webhooks = true) {
    return new Promise((resolveRun, reject) => {
      const worker = new Worker(fileURLToPath(import.meta.url), {
        workerData: { role: 'load', base, conversations, connections: config.connections, durationMs: config.duration * 1000, rate: config.rate, webhooks },
      });
      workers.add(worker);
      worker.once('error', reject);
      worker.once('message', (result) => {
        workers.delete(worker);
        worker.terminate().then(() => resolveRun(result), () => resolveRun(result));
      });
    });
  }

  // ---- emulators ----

  async function startInProcess(dbFile) {
    const { createEmulator } = await import(pathToFileURL(distIndex).href);
    const emulator = await createEmulator({ db: dbFile, accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, webhookTransport: config.transport });
    let session;
    if (config.cpuProf) {
      const { Session } = await import('node:inspector');
      session = new Session();
      session.connect();
      const post = (method, params) => new Promise((r, j) => session.post(method, params, (e, res) => (e ? j(e) : r(res))));
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 1000 });
      await post('Profiler.start');
      session.postAsync = post;
    }
    return {
      base: emulator.url,
      serviceSid: emulator.defaultServiceSid,
      rss: () => round(process.memoryUsage().rss / 2 ** 20, 1),
      async stop() {
        if (session) {
          const { profile } = await session.postAsync('Profiler.stop');
          session.disconnect();
          mkdirSync(config.cpuProf, { recursive: true });
          const file = join(config.cpuProf, `webhooks-inprocess-${process.pid}.cpuprofile`);
          writeFileSync(file, JSON.stringify(profile));
          log(`  CPU profile: ${file}`);
        }
        await emulator.close();
      },
    };
  }

  async function startChild(dbFile) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    if (config.cpuProf) mkdirSync(config.cpuProf, { recursive: true });
    const nodeArgs = config.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', config.cpuProf] : [];
    const child = spawn(
      process.execPath,
      [...nodeArgs, bin, 'serve', '--port', String(port), '--host', '127.0.0.1', '--db', dbFile, '--account-sid', ACCOUNT_SID, '--auth-token', AUTH_TOKEN, '--webhook-transport', config.transport],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.add(child);
    let stderr = '';
    child.stdout.on('data', () => {});
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const deadline = performance.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`tce serve exited with ${child.exitCode}\n${stderr}`);
      if (performance.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`tce serve not healthy within 15 s\n${stderr}`);
      }
      try {
        if ((await call(`${base}/_emulator/health`, { timeoutMs: 1000 })).status === 200) break;
      } catch {
        /* not listening yet */
      }
      await sleep(5);
    }
    const configuration = await api(base, 'GET', '/v1/Configuration');
    return {
      base,
      serviceSid: configuration.default_chat_service_sid,
      cpuMs: (mainOnly = false) => {
        // utime + stime of the child (or of its main thread only), in clock ticks (USER_HZ = 100 on Linux)
        const fields = readFileSync(mainOnly ? `/proc/${child.pid}/task/${child.pid}/stat` : `/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(fields[11]) + Number(fields[12])) * 10;
      },
      rss: () => {
        const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? round(Number(m[1]) / 1024, 1) : undefined;
      },
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        children.delete(child);
      },
    };
  }

  // ---- one mode ----

  async function runMode(mode, receiver, twilio) {
    const dbFile = join(tempDir, `webhooks-${mode}.sqlite`);
    log(`${mode}: starting the emulator on ${dbFile}`);
    const emulator = mode === 'inprocess' ? await startInProcess(dbFile) : await startChild(dbFile);
    try {
      const hookPath = `/hook/${mode}`;
      const hookUrl = `http://127.0.0.1:${receiver.port}${hookPath}`;
      await api(emulator.base, 'POST', `/v1/Services/${emulator.serviceSid}/Configuration/Webhooks`, {
        PostWebhookUrl: hookUrl,
        Filters: 'onMessageAdded',
        Method: 'POST',
      });
      const conversations = [];
      let made = 0;
      const maker = async () => {
        while (made < config.conversations) {
          const i = made++;
          conversations[i] = (await api(emulator.base, 'POST', '/v1/Conversations', { FriendlyName: `bench webhooks ${i}` })).sid;
        }
      };
      await Promise.all(Array.from({ length: 16 }, maker));
      log(`  webhook → ${hookUrl} (onMessageAdded, POST); ${conversations.length} conversations`);
      const rssIdle = emulator.rss();

      await receiver.rpc('reset');
      log(`  load: ${config.duration} s, ${config.connections} in flight, ${config.rate > 0 ? `paced at ${config.rate}/s` : 'closed loop'}`);
      const cpu0 = emulator.cpuMs?.();
      const cpuMain0 = emulator.cpuMs?.(true);
      const load = await runLoad(emulator.base, conversations);
      // the backlog the moment the load stops
      const tBacklog = wallNow();
      const pendingRes = await call(`${emulator.base}/_emulator/webhooks/deliveries?status=pending&limit=10000`);
      const pendingRows = JSON.parse(pendingRes.body).deliveries.length;
      const pendingQueryMs = wallNow() - tBacklog;
      const receivedAtEnd = (await receiver.rpc('count')).count;
      const rssLoaded = emulator.rss();
      const created = load.statuses['201'] ?? 0;
      log(`  ${created} messages created; backlog at load end: ${pendingRows} pending rows, ${created - receivedAtEnd} not yet received`);

      // drain (bounded)
      const drainStart = wallNow();
      let received = receivedAtEnd;
      while (received < created && wallNow() - drainStart < config.drainTimeout * 1000) {
        await sleep(20);
        received = (await receiver.rpc('count')).count;
      }
      const drainMs = received >= created ? round(wallNow() - drainStart, 1) : null;
      // emulator CPU per message, load + drain (child only: the in-process emulator shares its process with the workers)
      const cpuPerMessageUs = cpu0 === undefined || !created ? undefined : round(((emulator.cpuMs() - cpu0) * 1000) / created, 0);
      const mainThreadCpuPerMessageUs = cpu0 === undefined || !created ? undefined : round(((emulator.cpuMs(true) - cpuMain0) * 1000) / created, 0);
      await sleep(100); // let stragglers (duplicates, retries) show up
      const failedRes = await call(`${emulator.base}/_emulator/webhooks/deliveries?status=failed&limit=10000`);
      const failedRows = JSON.parse(failedRes.body).deliveries.length;
      const pendingAfter = JSON.parse((await call(`${emulator.base}/_emulator/webhooks/deliveries?status=pending&limit=10000`)).body).deliveries.length;
      const { rec } = await receiver.rpc('collect');

      // calibration: the same load on the same emulator without X-Twilio-Webhook-Enabled (no deliveries)
      let baseline;
      if (config.baseline) {
        await receiver.rpc('reset');
        log(`  calibration: the same load with X-Twilio-Webhook-Enabled: false`);
        const bCpu0 = emulator.cpuMs?.();
        const bMain0 = emulator.cpuMs?.(true);
        const b = await runLoad(emulator.base, conversations, false);
        const bCpu = bCpu0 === undefined ? undefined : emulator.cpuMs() - bCpu0;
        const bMain = bCpu0 === undefined ? undefined : emulator.cpuMs(true) - bMain0;
        const bStart = b.start + config.ramp * 1000;
        const bSec = (b.end - bStart) / 1000;
        const bLatency = [...b.latency].sort((x, y) => x - y);
        const stray = (await receiver.rpc('count')).count;
        baseline = {
          restCreatesPerSec: round(b.done.filter((t) => t >= bStart && t <= b.end).length / bSec, 1),
          restLatencyMs: { p50: round(percentile(bLatency, 50)), p99: round(percentile(bLatency, 99)), max: round(bLatency[bLatency.length - 1]) },
          cpuPerMessageUs: bCpu === undefined || !b.statuses['201'] ? undefined : round((bCpu * 1000) / b.statuses['201'], 0),
          mainThreadCpuPerMessageUs: bMain === undefined || !b.statuses['201'] ? undefined : round((bMain * 1000) / b.statuses['201'], 0),
          restStatuses: b.statuses,
          restErrors: b.errors,
          deliveriesReceived: stray,
        };
        log(`  without webhooks: ${baseline.restCreatesPerSec} creates/s (p99 ${baseline.restLatencyMs.p99} ms), ${stray} deliveries (expected 0)` +
          (baseline.cpuPerMessageUs === undefined ? '' : `; emulator CPU ${baseline.cpuPerMessageUs} µs/message (main thread ${baseline.mainThreadCpuPerMessageUs})`));
      }

      // ---- figures ----
      const winStart = load.start + config.ramp * 1000;
      const winEnd = load.end;
      const winSec = (winEnd - winStart) / 1000;
      const latencies = [];
      let inWindow = 0;
      for (let i = 0; i < rec.arrival.length; i++) {
        const at = rec.arrival[i];
        if (at < winStart || at > winEnd) continue;
        inWindow++;
        latencies.push(at - rec.created[i]);
      }
      latencies.sort((a, b) => a - b);
      const restInWindow = load.done.filter((t) => t >= winStart && t <= winEnd).length;
      const restLatency = [...load.latency].sort((a, b) => a - b);
      // per-second delivery counts over the whole load, for the record
      const perSecond = [];
      for (let s = 0; s < Math.ceil((load.end - load.start) / 1000); s++) perSecond.push(0);
      for (const at of rec.arrival) {
        const s = Math.floor((at - load.start) / 1000);
        if (s >= 0 && s < perSecond.length) perSecond[s]++;
      }
      const uniqueSids = new Set(rec.sids).size;
      const uniqueTokens = new Set(rec.tokens).size;
      const hookUrlForSig = (path) => `http://127.0.0.1:${receiver.port}${path}`;
      let badSignatures = 0;
      for (const s of rec.samples) {
        const params = Object.fromEntries(new URLSearchParams(s.body));
        if (!s.signature || !twilio.validateRequest(AUTH_TOKEN, s.signature, hookUrlForSig(s.path), params)) badSignatures++;
      }
      const restFaults = load.errors + Object.entries(load.statuses).filter(([k]) => k !== '201').reduce((a, [, n]) => a + n, 0);
      const faults = {
        restErrorsOrNon201: restFaults,
        failedDeliveries: failedRows,
        missing: Math.max(0, created - uniqueSids),
        duplicates: rec.arrival.length - uniqueTokens,
        retried: rec.retried,
        unsigned: rec.unsigned,
        badSignatures,
        otherEvents: Object.entries(rec.eventTypes).filter(([k]) => k !== 'onMessageAdded').reduce((a, [, n]) => a + n, 0),
        undated: rec.created.filter((c) => Number.isNaN(c)).length,
      };
      const faultCount = Object.values(faults).reduce((a, b) => a + b, 0);
      const result = {
        mode,
        db: 'file',
        conversations: conversations.length,
        loadSeconds: round((load.end - load.start) / 1000, 3),
        windowSeconds: round(winSec, 3),
        created,
        attempted: load.attempted,
        restStatuses: load.statuses,
        restErrors: load.errors,
        restCreatesPerSec: round(restInWindow / winSec, 1),
        restCreatesPerSecWholeRun: round(created / ((load.end - load.start) / 1000), 1),
        restLatencyMs: {
          p50: round(percentile(restLatency, 50)),
          p99: round(percentile(restLatency, 99)),
          max: round(restLatency[restLatency.length - 1]),
        },
        deliveriesReceived: rec.arrival.length,
        deliveriesInWindow: inWindow,
        deliveriesPerSec: round(inWindow / winSec, 1),
        deliveriesPerSecond: perSecond,
        latencyMs: {
          samples: latencies.length,
          p50: round(percentile(latencies, 50)),
          p90: round(percentile(latencies, 90)),
          p99: round(percentile(latencies, 99)),
          p999: round(percentile(latencies, 99.9)),
          max: round(latencies[latencies.length - 1]),
        },
        backlogAtEnd: { pendingRows, pendingRowsCapped: pendingRows >= 10000, notYetReceived: created - receivedAtEnd, queryMs: round(pendingQueryMs, 1) },
        drainMs,
        pendingAfterDrain: pendingAfter,
        signatures: { checked: rec.samples.length, bad: badSignatures },
        receiverConnectionsOpened: rec.connections,
        eventTypes: rec.eventTypes,
        faults,
        faultCount,
        cpuPerMessageUs,
        mainThreadCpuPerMessageUs,
        baseline,
        rssMb: { idle: rssIdle, afterLoad: rssLoaded, note: mode === 'inprocess' ? 'bench process (emulator + main thread; workers share it)' : 'tce serve child' },
      };
      log(
        `  ${result.deliveriesPerSec} deliveries/s over ${rec.connections} connections, latency p50 ${result.latencyMs.p50} p99 ${result.latencyMs.p99} max ${result.latencyMs.max} ms; ` +
          `REST ${result.restCreatesPerSec} creates/s (p99 ${result.restLatencyMs.p99} ms)` +
          `${cpuPerMessageUs === undefined ? '' : `; emulator CPU ${cpuPerMessageUs} µs/message (main thread ${mainThreadCpuPerMessageUs})`}; drain ${drainMs ?? 'timed out'} ms; faults ${JSON.stringify(faults)}`,
      );
      return result;
    } finally {
      await emulator.stop();
    }
  }

  if (!existsSync(distIndex)) throw new Error('dist/ is missing: run `npm run build` first');
  tempDir = mkdtempSync(join(tmpdir(), 'tce-bench-webhooks-'));
  let receiver;
  try {
    const startedAt = new Date().toISOString();
    log(`config ${JSON.stringify(config)}`);
    const loadBefore = loadavg().map((x) => round(x));
    if (loadBefore[0] > 0.5 * cpus().length) log(`warning: load average ${loadBefore.join(' ')} on ${cpus().length} CPUs; figures will be noisy`);
    const twilio = (await import('twilio')).default;
    receiver = await startReceiver();
    log(`receiver on 127.0.0.1:${receiver.port} (worker thread)`);

    const results = [];
    for (const mode of config.modes) results.push(await runMode(mode, receiver, twilio));
    const loadAfter = loadavg().map((x) => round(x));

    const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
    const checks = [];
    for (const r of results) {
      checks.push({ name: `signed deliveries/s, steady state (${r.mode})`, target: `>= ${TARGETS.deliveriesPerSec}`, measured: r.deliveriesPerSec, result: verdict(r.deliveriesPerSec >= TARGETS.deliveriesPerSec) });
      checks.push({ name: `enqueue→delivered p99 (${r.mode})`, target: `< ${TARGETS.p99Ms} ms`, measured: r.latencyMs.p99, result: verdict(r.latencyMs.p99 < TARGETS.p99Ms) });
      checks.push({ name: `faults (${r.mode})`, target: '0', measured: r.faultCount, result: verdict(r.faultCount === 0) });
      checks.push({ name: `drained after load (${r.mode})`, target: `< ${config.drainTimeout} s`, measured: r.drainMs === null ? 'timed out' : `${r.drainMs} ms`, result: verdict(r.drainMs !== null) });
    }

    const rows = results.map((r) => [
      r.mode,
      r.deliveriesPerSec,
      r.restCreatesPerSec,
      r.baseline ? r.baseline.restCreatesPerSec : '-',
      r.cpuPerMessageUs === undefined ? '-' : `${r.cpuPerMessageUs} / ${r.baseline?.cpuPerMessageUs ?? '-'}`,
      r.latencyMs.p50,
      r.latencyMs.p99,
      r.latencyMs.max,
      `${r.backlogAtEnd.pendingRows}${r.backlogAtEnd.pendingRowsCapped ? '+' : ''} / ${r.backlogAtEnd.notYetReceived}`,
      r.drainMs ?? 'timeout',
      r.receiverConnectionsOpened,
      r.faultCount,
      `${r.signatures.checked - r.signatures.bad}/${r.signatures.checked}`,
      verdict(r.deliveriesPerSec >= TARGETS.deliveriesPerSec && r.latencyMs.p99 < TARGETS.p99Ms && r.faultCount === 0),
    ]);
    const table = renderTable(
      ['emulator', 'deliveries/s', 'REST creates/s', 'creates/s w/o hooks', 'CPU µs/msg (hooks / none)', 'p50 ms', 'p99 ms', 'max ms', 'backlog rows / unreceived', 'drain ms', 'conns', 'faults', 'sigs ok', `≥${TARGETS.deliveriesPerSec}/s, p99<${TARGETS.p99Ms}ms, 0 faults`],
      rows,
    );
    const summary = renderTable(['check', 'target', 'measured', 'result'], checks.map((c) => [c.name, c.target, c.measured, c.result]));
    process.stdout.write(
      `\ntce webhook benchmark — ${config.duration} s of load (steady state from +${config.ramp} s), ${config.connections} REST requests in flight` +
        `${config.rate > 0 ? ` paced at ${config.rate}/s` : ' (closed loop)'}, ${config.conversations} conversations, node ${process.version}, ` +
        `${cpus().length} CPUs, load average ${loadBefore[0]} → ${loadAfter[0]}\n` +
        `(latency = receiver arrival − DateCreated (ms precision, so up to +1 ms); receiver and load generator are worker threads of this process)\n\n` +
        `${table}\n\n${summary}\n`,
    );

    const report = {
      startedAt,
      finishedAt: new Date().toISOString(),
      git: gitRevision(root),
      machine: machineInfo(loadBefore, loadAfter),
      config: { ...config, out: undefined },
      targets: TARGETS,
      results,
      checks,
      pass: checks.every((c) => c.result !== 'FAIL'),
    };
    mkdirSync(dirname(config.out), { recursive: true });
    writeFileSync(config.out, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(`\nwrote ${config.out}${config.cpuProf ? `; CPU profiles in ${config.cpuProf}` : ''}\n`);
    await receiver.stop();
    receiver = undefined;
    cleanup();
    process.exit(config.strict && !report.pass ? 1 : 0);
  } catch (error) {
    process.stderr.write(`bench failed: ${error.stack ?? error}\n`);
    if (receiver) await Promise.race([receiver.stop().catch(() => {}), sleep(2000)]);
    cleanup();
    process.exit(2);
  }
}
