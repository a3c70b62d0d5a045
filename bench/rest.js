#!/usr/bin/env node
/**
 * REST benchmark of the standalone `tce serve` (run `npm run build` first; this reads dist/ and bin/).
 *
 *   npm run bench                      full run (10 s per scenario)
 *   BENCH_DURATION=5 npm run bench     shorter scenarios
 *
 * What it does, all on 127.0.0.1:
 *   1. `tce serve` cold start (spawn → first 200 from /_emulator/health), median of BENCH_COLD_RUNS.
 *   2. `createEmulator({ db: ':memory:' })` in this process, median of BENCH_CREATE_RUNS after a warm-up.
 *   3. Seeds BENCH_SEED_MESSAGES messages into one conversation of a temp SQLite file, in process
 *      (createEmulator on the same file + the resource engine, in batched transactions; HTTP fallback),
 *      then spawns `tce serve` on that file and runs autocannon against it:
 *        fetch conversation, list messages page 1, list messages deep (PageToken ~100k rows in), create message.
 *      Server RSS (/proc/<pid>/status) is sampled with the seeded messages stored.
 *   4. Optionally (BENCH_MEMORY, default on) the same create / fetch / page-1 scenarios on `--db :memory:`.
 *   5. Prints a table with PASS/FAIL per target and writes bench/results/rest-latest.json.
 *
 * Environment:
 *   BENCH_DURATION       seconds per scenario (default 10)
 *   BENCH_WARMUP         seconds of discarded warm-up before each scenario (default 1; 0 disables)
 *   BENCH_CONNECTIONS    autocannon connections (default 10)
 *   BENCH_SEED_MESSAGES  messages seeded into the deep conversation (default 100000)
 *   BENCH_MEMORY         0 to skip the :memory: server scenarios (default 1)
 *   BENCH_BASELINE       0 to skip the calibration rows: bare fastify (bench/baseline-server.js), same routes and
 *                        auth hook, no SQLite — the ceiling of this machine + autocannon (default 1)
 *   BENCH_COLD_RUNS      cold-start samples (default 5)
 *   BENCH_CREATE_RUNS    createEmulator() samples (default 20)
 *   BENCH_ONLY           comma list of parts to run: cold,createEmulator (start-up), fetch,page1,deep,create (REST);
 *                        default all. Seeding, the file server and the RSS figures run when any REST part does.
 *   BENCH_CPU_PROF       a directory: run the file-backed server with --cpu-prof into it (profiles the scenarios)
 *   BENCH_INSPECTOR_STREAMS  N open inspector live streams (GET /_emulator/ui/api/events) on the file-backed server
 *                        during its scenarios: the cost of an open inspector page (default 0)
 *   BENCH_STRICT         1: exit with status 1 when a target FAILs
 *   BENCH_OUT            JSON output path (default bench/results/rest-latest.json)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir, cpus, totalmem, platform, release, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { apiCall, call, envNumber, freePort, machineInfo, gitRevision, renderTable } from './lib.js';
import BetterSqlite3 from 'better-sqlite3';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'tce.js');
const distIndex = join(root, 'dist', 'index.js');
const distEngine = join(root, 'dist', 'emulator', 'resources', 'engine.js');
const baselineScript = join(root, 'bench', 'baseline-server.js');


const config = {
  duration: envNumber('BENCH_DURATION', 10),
  warmup: envNumber('BENCH_WARMUP', 1),
  connections: Math.max(1, Math.floor(envNumber('BENCH_CONNECTIONS', 10))),
  seedMessages: Math.max(100, Math.floor(envNumber('BENCH_SEED_MESSAGES', 100_000))),
  memory: process.env.BENCH_MEMORY !== '0',
  baseline: process.env.BENCH_BASELINE !== '0',
  coldRuns: Math.max(1, Math.floor(envNumber('BENCH_COLD_RUNS', 5))),
  createRuns: Math.max(1, Math.floor(envNumber('BENCH_CREATE_RUNS', 20))),
  only: process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : undefined,
  cpuProf: process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined,
  inspectorStreams: Math.max(0, Math.floor(envNumber('BENCH_INSPECTOR_STREAMS', 0))),
  strict: process.env.BENCH_STRICT === '1',
  out: resolve(process.env.BENCH_OUT ?? join(root, 'bench', 'results', 'rest-latest.json')),
};

const TARGETS = {
  createRps: 10_000,
  fetchRps: 15_000,
  p99Ms: 5,
  deepVsPage1: 2,
  coldStartMs: 300,
  createEmulatorMs: 20,
  rssMb: 150,
};

const ACCOUNT_SID = 'AC' + 'be' + '0'.repeat(30);
const AUTH_TOKEN = 'bench-auth-token';
const AUTHORIZATION = 'Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64');
const FORM = 'application/x-www-form-urlencoded';

const log = (...args) => process.stderr.write(`[bench] ${args.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, digits = 2) => (x === undefined || x === null || Number.isNaN(x) ? x : Math.round(x * 10 ** digits) / 10 ** digits);

// ---------------------------------------------------------------------------------------------------------------
// Processes, ports and plain HTTP
// ---------------------------------------------------------------------------------------------------------------

const liveServers = new Set();
let tempDir;

function cleanup() {
  for (const child of liveServers) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  liveServers.clear();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}




/** Poll /_emulator/health until it answers 200 (bounded by `timeoutMs`); returns ms since `since`. */
async function waitHealthy(base, since, child, timeoutMs = 15_000) {
  const deadline = since + timeoutMs;
  while (performance.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it was healthy`);
    try {
      const res = await call(`${base}/_emulator/health`, { timeoutMs: 1000 });
      if (res.status === 200) return performance.now() - since;
    } catch {
      /* not listening yet */
    }
    await sleep(2);
  }
  throw new Error(`${base} not healthy within ${timeoutMs} ms`);
}

/** Spawn `tce serve`; resolves once healthy with { child, pid, base, startMs }. */
async function startServer({ db, extraNodeArgs = [], script }) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const args = script
    ? [...extraNodeArgs, script, '--port', String(port)]
    : [...extraNodeArgs, bin, 'serve', '--port', String(port), '--host', '127.0.0.1', '--db', db,
        '--account-sid', ACCOUNT_SID, '--auth-token', AUTH_TOKEN];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  liveServers.add(child);
  let stderr = '';
  child.stdout.on('data', () => {});
  child.stderr.on('data', (c) => {
    stderr += c;
  });
  try {
    const startMs = await waitHealthy(base, t0, child);
    return { child, pid: child.pid, base, startMs, stderr: () => stderr };
  } catch (error) {
    await stopServer({ child });
    throw new Error(`${error.message}\n${stderr}`);
  }
}

/** SIGTERM (the CLI closes cleanly, and --cpu-prof gets written), SIGKILL after 10 s. */
async function stopServer({ child }) {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  liveServers.delete(child);
}

function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m ? Number(m[1]) / 1024 : undefined;
  };
  return { rssMb: round(kb('VmRSS'), 1), hwmMb: round(kb('VmHWM'), 1) };
}

// ---------------------------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------------------------

async function measureColdStart() {
  const samples = [];
  for (let i = 0; i < config.coldRuns; i++) {
    const db = join(tempDir, `cold-${i}.sqlite`);
    const server = await startServer({ db });
    samples.push(server.startMs);
    await stopServer(server);
  }
  return { medianMs: round(median(samples)), samplesMs: samples.map((s) => round(s)) };
}

async function measureCreateEmulator() {
  const { createEmulator } = await import(pathToFileURL(distIndex).href);
  for (let i = 0; i < 2; i++) {
    const warm = await createEmulator({ db: ':memory:' });
    await warm.close();
  }
  const samples = [];
  for (let i = 0; i < config.createRuns; i++) {
    const t0 = performance.now();
    const emulator = await createEmulator({ db: ':memory:' });
    samples.push(performance.now() - t0);
    await emulator.close();
  }
  return { medianMs: round(median(samples)), samplesMs: samples.map((s) => round(s)) };
}

/**
 * Seed `count` messages into a new conversation of `dbFile`, in process. Uses the resource engine directly
 * (same validation and hooks as a REST create, batched in transactions); falls back to parallel REST POSTs
 * against the in-process server when the engine is not importable.
 */
async function seedDatabase(dbFile, count) {
  const { createEmulator } = await import(pathToFileURL(distIndex).href);
  const emulator = await createEmulator({ db: dbFile, accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  const t0 = performance.now();
  let method;
  try {
    const deep = await api(emulator.url, 'POST', '/v1/Conversations', { FriendlyName: 'bench deep' });
    const createConv = await api(emulator.url, 'POST', '/v1/Conversations', { FriendlyName: 'bench create' });
    try {
      const engine = await import(pathToFileURL(distEngine).href);
      const { core } = emulator;
      const account = core.accounts.get(ACCOUNT_SID);
      const ctx = core.systemContext(account, emulator.url);
      ctx.parents.Service = engine.fetch(ctx, core.descriptor('Service'), account.defaultServiceSid);
      ctx.parents.Conversation = engine.fetch(ctx, core.descriptor('Conversation'), deep.sid);
      const messages = core.descriptor('ConversationMessage');
      const batch = 5000;
      for (let done = 0; done < count; ) {
        const n = Math.min(batch, count - done);
        core.db.transaction(() => {
          for (let i = 0; i < n; i++) engine.create(ctx, messages, { Body: `seed message ${done + i}`, Author: 'seed' });
        });
        done += n;
      }
      method = 'in-process engine.create, 5000 per transaction';
    } catch (error) {
      log(`engine seeding unavailable (${error.message}); seeding over REST`);
      const existing = new BetterSqlite3(dbFile, { readonly: true });
      const have = existing.prepare('SELECT count(*) AS n FROM messages WHERE conversation_sid = ?').get(deep.sid).n;
      existing.close();
      let next = have;
      const worker = async () => {
        while (next < count) {
          const i = next++;
          await api(emulator.url, 'POST', `/v1/Conversations/${deep.sid}/Messages`, { Body: `seed message ${i}`, Author: 'seed' });
        }
      };
      await Promise.all(Array.from({ length: 64 }, worker));
      method = 'REST POSTs, 64 in flight (in-process server)';
    }
    const seconds = (performance.now() - t0) / 1000;
    return { deepSid: deep.sid, createSid: createConv.sid, seconds: round(seconds), rate: Math.round(count / seconds), method };
  } finally {
    await emulator.close();
  }
}

/** The SID of the row `offset` rows into the conversation, read straight from the file (read-only). */
function sidAtOffset(dbFile, conversationSid, offset) {
  const db = new BetterSqlite3(dbFile, { readonly: true, fileMustExist: true });
  try {
    const total = db.prepare('SELECT count(*) AS n FROM messages WHERE conversation_sid = ?').get(conversationSid).n;
    const row = db.prepare('SELECT sid FROM messages WHERE conversation_sid = ? ORDER BY seq LIMIT 1 OFFSET ?').get(conversationSid, offset);
    if (!row) throw new Error(`no message at offset ${offset} (conversation has ${total})`);
    return { sid: row.sid, total };
  } finally {
    db.close();
  }
}

function cannon(opts) {
  return new Promise((resolveRun, reject) => {
    const instance = autocannon(
      { connections: config.connections, pipelining: 1, timeout: 10, ...opts },
      (error, result) => (error ? reject(error) : resolveRun(result)),
    );
    instance.on('error', () => {});
  });
}

async function scenario(id, label, dbLabel, base, { method = 'GET', path, body }) {
  const opts = {
    url: base + path,
    method,
    headers: { authorization: AUTHORIZATION, ...(body ? { 'content-type': FORM } : {}) },
    ...(body ? { body } : {}),
  };
  if (config.warmup > 0) await cannon({ ...opts, duration: config.warmup });
  log(`${label} (${dbLabel}): ${config.duration} s, ${config.connections} connections`);
  const r = await cannon({ ...opts, duration: config.duration });
  const result = {
    id,
    scenario: label,
    db: dbLabel,
    method,
    path,
    requests: r.requests.total,
    rps: round(r.requests.mean, 1),
    latencyMs: { mean: round(r.latency.mean), p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    bytesPerSec: Math.round(r.throughput.mean),
  };
  log(`  ${result.rps} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, errors ${r.errors}, non-2xx ${r.non2xx}`);
  return result;
}

const api = (base, method, path, form) => apiCall(AUTHORIZATION, base, method, path, form);
const wanted = (id) => !config.only || config.only.has(id);

async function restScenarios(base, dbLabel, { deepSid, createSid, deepToken, onReadsDone }) {
  const results = [];
  if (wanted('fetch')) results.push(await scenario('fetch', 'fetch conversation', dbLabel, base, { path: `/v1/Conversations/${deepSid}` }));
  if (wanted('page1')) {
    results.push(await scenario('page1', 'list messages page 1', dbLabel, base, { path: `/v1/Conversations/${deepSid}/Messages?PageSize=50` }));
  }
  if (deepToken && wanted('deep')) {
    results.push(
      await scenario('deep', 'list messages deep page', dbLabel, base, {
        path: `/v1/Conversations/${deepSid}/Messages?PageSize=50&PageToken=${deepToken}`,
      }),
    );
  }
  onReadsDone?.();
  if (wanted('create')) {
    results.push(
      await scenario('create', 'create message', dbLabel, base, {
        method: 'POST',
        path: `/v1/Conversations/${createSid}/Messages`,
        body: 'Body=benchmark+message+body&Author=bench',
      }),
    );
  }
  return results;
}

/** N inspector live streams (server-sent events), read and counted, as open inspector pages would. */
function openInspectorStreams(base, n) {
  const streams = [];
  for (let i = 0; i < n; i++) {
    const stream = { bytes: 0, close: () => req.destroy() };
    const req = httpRequest(`${base}/_emulator/ui/api/events`, (res) => {
      if (res.statusCode !== 200) throw new Error(`inspector stream answered ${res.statusCode}`);
      res.on('data', (chunk) => (stream.bytes += chunk.length));
    });
    req.on('error', () => {});
    req.end();
    streams.push(stream);
  }
  return streams;
}

/** Sanity-check the pages the scenarios hit, so a broken route is not benchmarked as a fast 4xx. */
async function checkPages(base, deepSid, deepToken, seeded) {
  const page1 = await api(base, 'GET', `/v1/Conversations/${deepSid}/Messages?PageSize=50`);
  if (page1.messages.length !== 50 || !/PageToken=PA/.test(page1.meta.next_page_url ?? '')) {
    throw new Error(`page 1 looks wrong: ${page1.messages.length} messages, next ${page1.meta.next_page_url}`);
  }
  const deep = await api(base, 'GET', `/v1/Conversations/${deepSid}/Messages?PageSize=50&PageToken=${deepToken}`);
  const first = deep.messages[0]?.index;
  if (deep.messages.length !== 50 || first !== seeded - 50) throw new Error(`deep page has ${deep.messages.length} messages from index ${first}`);
  return { page1FirstIndex: page1.messages[0].index, deepFirstIndex: first, deepExpectedFirstIndex: seeded - 50 };
}

// ---------------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------------

function verdict(ok) {
  return ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL';
}

async function main() {
  if (!existsSync(distIndex)) throw new Error('dist/ is missing: run `npm run build` first');
  tempDir = mkdtempSync(join(tmpdir(), 'tce-bench-'));
  const startedAt = new Date().toISOString();
  log(`config ${JSON.stringify({ ...config, only: config.only && [...config.only] })}`);

  // 1. cold start and in-process start, while the machine is quiet
  const loadBefore = loadavg().map((x) => round(x));
  if (loadBefore[0] > 0.5 * cpus().length) log(`warning: load average ${loadBefore.join(' ')} on ${cpus().length} CPUs; figures will be noisy`);
  let coldStart;
  if (wanted('cold')) {
    log(`cold start: ${config.coldRuns} × tce serve on a fresh SQLite file`);
    coldStart = await measureColdStart();
    log(`  median ${coldStart.medianMs} ms (${coldStart.samplesMs.join(', ')})`);
  }
  let createEmulatorRun;
  if (wanted('createEmulator')) {
    log(`createEmulator(:memory:): ${config.createRuns} runs after warm-up`);
    createEmulatorRun = await measureCreateEmulator();
    log(`  median ${createEmulatorRun.medianMs} ms`);
  }
  const rest = ['fetch', 'page1', 'deep', 'create'].some(wanted);

  // 2. seed, then the file-backed server
  const results = [];
  const memory = {};
  let seed;
  let anchor;
  let offset;
  let deepToken;
  if (rest) {
    const dbFile = join(tempDir, 'bench.sqlite');
    log(`seeding ${config.seedMessages} messages into ${dbFile}`);
    seed = await seedDatabase(dbFile, config.seedMessages);
    log(`  ${seed.seconds} s (${seed.rate}/s) via ${seed.method}`);
    // the anchor is the 51st-from-last row, so the page after it is a full 50 (indexes count - 50 … count - 1)
    offset = Math.max(0, config.seedMessages - 51);
    anchor = sidAtOffset(dbFile, seed.deepSid, offset);
    deepToken = `PA${anchor.sid}`;
    log(`  conversation ${seed.deepSid} holds ${anchor.total} messages; deep token PA… at offset ${offset}`);

    if (config.cpuProf) mkdirSync(config.cpuProf, { recursive: true });
    const fileServer = await startServer({
      db: dbFile,
      extraNodeArgs: config.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', config.cpuProf] : [],
    });
    const streams = openInspectorStreams(fileServer.base, config.inspectorStreams);
    try {
      memory.idleAfterStart = procStatus(fileServer.pid);
      const pages = await checkPages(fileServer.base, seed.deepSid, deepToken, config.seedMessages);
      log(`  page check ${JSON.stringify(pages)}`);
      const onReadsDone = () => {
        memory.afterReads = procStatus(fileServer.pid);
      };
      results.push(...(await restScenarios(fileServer.base, 'file', { ...seed, deepToken, onReadsDone })));
      memory.afterAll = procStatus(fileServer.pid);
      log(`  server RSS MB: idle ${memory.idleAfterStart.rssMb}, after reads ${memory.afterReads.rssMb}, peak ${memory.afterAll.hwmMb}`);
      if (streams.length) log(`  inspector streams: ${streams.length} open, ${streams.reduce((n, s) => n + s.bytes, 0)} bytes of events received`);
    } finally {
      for (const s of streams) s.close();
      await stopServer(fileServer);
    }

    // 3. the same without disk (no deep page: the 100k seed lives in the file)
    if (config.memory) {
      const memServer = await startServer({ db: ':memory:' });
      try {
        const conv = await api(memServer.base, 'POST', '/v1/Conversations', { FriendlyName: 'bench memory' });
        for (let i = 0; i < 60; i++) {
          await api(memServer.base, 'POST', `/v1/Conversations/${conv.sid}/Messages`, { Body: `m${i}`, Author: 'seed' });
        }
        const createConv = await api(memServer.base, 'POST', '/v1/Conversations', { FriendlyName: 'bench memory create' });
        results.push(...(await restScenarios(memServer.base, ':memory:', { deepSid: conv.sid, createSid: createConv.sid })));
      } finally {
        await stopServer(memServer);
      }
    }
  }

  // 4. calibration: bare fastify on the same machine, same autocannon settings
  if (config.baseline && (wanted('fetch') || wanted('create'))) {
    const baseServer = await startServer({ script: baselineScript });
    try {
      const sid = 'CH' + '0123456789abcdef'.repeat(2);
      if (wanted('fetch')) results.push(await scenario('fetch', 'baseline: bare fastify GET', 'none', baseServer.base, { path: `/v1/Conversations/${sid}` }));
      if (wanted('create')) {
        results.push(
          await scenario('create', 'baseline: bare fastify POST form', 'none', baseServer.base, {
            method: 'POST',
            path: `/v1/Conversations/${sid}/Messages`,
            body: 'Body=benchmark+message+body&Author=bench',
          }),
        );
      }
    } finally {
      await stopServer(baseServer);
    }
  }
  const loadAfter = loadavg().map((x) => round(x));

  // 5. verdicts (the baseline rows are calibration, not judged)
  const find = (id, db = 'file') => results.find((r) => r.id === id && r.db === db);
  const checks = [];
  const check = (name, target, measured, ok) => checks.push({ name, target, measured, result: verdict(ok) });
  for (const db of ['file', ':memory:']) {
    const create = find('create', db);
    const fetch = find('fetch', db);
    if (create) check(`create message req/s (${db})`, `>= ${TARGETS.createRps}`, create.rps, create.rps >= TARGETS.createRps);
    if (fetch) check(`fetch conversation req/s (${db})`, `>= ${TARGETS.fetchRps}`, fetch.rps, fetch.rps >= TARGETS.fetchRps);
  }
  const judged = results.filter((r) => r.db !== 'none');
  for (const r of judged) check(`p99 ${r.scenario} (${r.db})`, `< ${TARGETS.p99Ms} ms`, r.latencyMs.p99, r.latencyMs.p99 < TARGETS.p99Ms);
  for (const r of judged) {
    const bad = r.errors + r.timeouts + r.non2xx;
    check(`errors + non-2xx ${r.scenario} (${r.db})`, '0', bad, bad === 0);
  }
  const page1 = find('page1');
  const deep = find('deep');
  if (page1 && deep) {
    const ratio = page1.rps / deep.rps;
    check('deep page vs page 1 (page1 req/s ÷ deep req/s)', `<= ${TARGETS.deepVsPage1}×`, round(ratio), ratio <= TARGETS.deepVsPage1);
  }
  if (coldStart) check('tce serve cold start (median)', `< ${TARGETS.coldStartMs} ms`, coldStart.medianMs, coldStart.medianMs < TARGETS.coldStartMs);
  if (createEmulatorRun) {
    check('createEmulator() :memory: (median)', `< ${TARGETS.createEmulatorMs} ms`, createEmulatorRun.medianMs, createEmulatorRun.medianMs < TARGETS.createEmulatorMs);
  }
  const rss = memory.afterReads?.rssMb ?? memory.idleAfterStart?.rssMb;
  const peak = memory.afterAll?.hwmMb;
  if (rss !== undefined) check(`server RSS, ${anchor.total} messages stored (after reads)`, `< ${TARGETS.rssMb} MB`, rss, rss < TARGETS.rssMb);
  if (peak !== undefined) check('server peak RSS (VmHWM, whole file-server run)', `< ${TARGETS.rssMb} MB`, peak, peak < TARGETS.rssMb);

  // 6. print
  const perScenarioTarget = (r) => {
    if (r.db === 'none') return ['(calibration: machine ceiling)', ''];
    const parts = [];
    let ok = r.latencyMs.p99 < TARGETS.p99Ms && r.errors + r.timeouts + r.non2xx === 0;
    if (r.id === 'create') {
      parts.push(`>= ${TARGETS.createRps}/s`);
      ok &&= r.rps >= TARGETS.createRps;
    }
    if (r.id === 'fetch') {
      parts.push(`>= ${TARGETS.fetchRps}/s`);
      ok &&= r.rps >= TARGETS.fetchRps;
    }
    if (r.id === 'deep' && r.db === 'file' && page1) {
      parts.push(`>= ${round(page1.rps / TARGETS.deepVsPage1, 0)}/s (½ page 1)`);
      ok &&= r.rps * TARGETS.deepVsPage1 >= page1.rps;
    }
    parts.push(`p99 < ${TARGETS.p99Ms} ms`);
    return [parts.join(', '), verdict(ok)];
  };
  const rows = results.map((r) => [r.scenario, r.db, r.rps, r.latencyMs.p50, r.latencyMs.p99, `${r.errors + r.timeouts}/${r.non2xx}`, ...perScenarioTarget(r)]);
  if (coldStart) {
    rows.push([`tce serve cold start, median of ${config.coldRuns} (ms)`, 'file', '', coldStart.medianMs, '', '', `< ${TARGETS.coldStartMs} ms`,
      verdict(coldStart.medianMs < TARGETS.coldStartMs)]);
  }
  if (createEmulatorRun) {
    rows.push([`createEmulator(), median of ${config.createRuns} (ms)`, ':memory:', '', createEmulatorRun.medianMs, '', '', `< ${TARGETS.createEmulatorMs} ms`,
      verdict(createEmulatorRun.medianMs < TARGETS.createEmulatorMs)]);
  }
  if (rss !== undefined) {
    rows.push([`server RSS MB, ${anchor.total} msgs (idle / after reads / peak)`, 'file', '',
      `${memory.idleAfterStart.rssMb} / ${memory.afterReads?.rssMb ?? '-'} / ${peak ?? '-'}`, '', '', `< ${TARGETS.rssMb} MB (after reads)`, verdict(rss < TARGETS.rssMb)]);
  }
  const table = renderTable(['scenario', 'db', 'req/s (mean)', 'p50 ms', 'p99 ms', 'errors/non-2xx', 'target', 'result'], rows);
  const summary = renderTable(['check', 'target', 'measured', 'result'], checks.map((c) => [c.name, c.target, c.measured, c.result]));
  process.stdout.write(
    `\ntce REST benchmark — ${config.duration} s × ${config.connections} connections, node ${process.version}, ${cpus().length} CPUs, ` +
      `load average ${loadBefore[0]} → ${loadAfter[0]}\n` +
      (seed ? `seeded ${anchor.total} messages in ${seed.seconds} s (${seed.rate}/s, ${seed.method})\n` : '') +
      `(p50/p99 from autocannon's HDR histogram, 1 ms resolution; autocannon runs in this process on the same machine)\n\n` +
      `${table}\n\n${summary}\n`,
  );

  const report = {
    startedAt,
    finishedAt: new Date().toISOString(),
    git: gitRevision(root),
    machine: machineInfo(loadBefore, loadAfter),
    config: { ...config, only: config.only && [...config.only], out: undefined, cpuProf: config.cpuProf },
    targets: TARGETS,
    seed: seed && { messages: anchor.total, ...seed, deepOffset: offset, deepToken },
    coldStart,
    createEmulator: createEmulatorRun,
    memory,
    scenarios: results,
    checks,
    pass: checks.every((c) => c.result !== 'FAIL'),
  };
  mkdirSync(dirname(config.out), { recursive: true });
  writeFileSync(config.out, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`\nwrote ${config.out}${config.cpuProf ? `; CPU profiles in ${config.cpuProf}` : ''}\n`);
  return report.pass;
}

main()
  .then((pass) => {
    cleanup();
    process.exit(config.strict && !pass ? 1 : 0);
  })
  .catch((error) => {
    process.stderr.write(`bench failed: ${error.stack ?? error}\n`);
    cleanup();
    process.exit(2);
  });
