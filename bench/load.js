#!/usr/bin/env node
/**
 * `tce load` ceiling benchmark (run `npm run build` first; this reads dist/).
 *
 *   node bench/load.js                         rates 2000, 5000, 8000 for 8 s each
 *   BENCH_RATES=5000 BENCH_DURATION=10 node bench/load.js
 *
 * What it does, all on 127.0.0.1:
 *   1. A trivial consumer in a child process (node:http, keep-alive, answers 200 at once, counts requests and
 *      unique idempotency tokens, GET → {"applied": unique}).
 *   2. For each rate: runLoad() from dist/load/runner.js in this process (the engine `tce load` runs), with
 *      BENCH_CONNECTIONS connections, --duplicates 0.05 --reorder 0.02, --check-url on the consumer.
 *   3. Measured: achieved rate (requests sent / sending time), answers/s, p50/p90/p99/max latency, errors
 *      (non-2xx, timeouts, connection errors), drops at the in-flight cap, max in flight, lost / applied twice by the
 *      consumer's count, and CPU time per request (and cores busy) of this process (the load generator) and of the
 *      consumer child (/proc/<pid>/stat), to tell which side saturates the machine.
 *   4. A rate is sustained when achieved ≥ 97 % of asked, no errors, no drops, nothing lost, and p99 < 100 ms.
 *      Target: 5000/s sustained. Prints a table and writes bench/results/load-latest.json.
 *
 * Environment:
 *   BENCH_RATES          comma list of requests/s (default 2000,5000,8000)
 *   BENCH_DURATION       seconds per rate (default 8)
 *   BENCH_CONNECTIONS    keep-alive connections (default 128)
 *   BENCH_CONVERSATIONS  conversations (default 500)
 *   BENCH_WARMUP         seconds of discarded warm-up at the first rate (default 1; 0 disables)
 *   BENCH_STRICT         1: exit with status 1 when the target FAILs
 *   BENCH_OUT            JSON output path (default bench/results/load-latest.json)
 */
import { spawn } from 'node:child_process';
import { envNumber, machineInfo } from './lib.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const runnerPath = join(root, 'dist', 'load', 'runner.js');
if (!existsSync(runnerPath)) {
  console.error('bench/load.js: dist/load/runner.js is missing; run `npm run build` first');
  process.exit(1);
}
const { runLoad } = await import(pathToFileURL(runnerPath).href);


const config = {
  rates: (process.env.BENCH_RATES || '2000,5000,8000').split(',').map(Number).filter((n) => n > 0),
  duration: envNumber('BENCH_DURATION', 8),
  connections: envNumber('BENCH_CONNECTIONS', 128),
  conversations: envNumber('BENCH_CONVERSATIONS', 500),
  warmup: envNumber('BENCH_WARMUP', 1),
  strict: process.env.BENCH_STRICT === '1',
  out: process.env.BENCH_OUT || join(root, 'bench', 'results', 'load-latest.json'),
};
const TARGET = 5000;
const AUTH_TOKEN = 'bench-load-token';

const CONSUMER = `
const { createServer } = require('node:http');
let requests = 0;
const tokens = new Set();
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    if (req.url === '/reset') { requests = 0; tokens.clear(); }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ applied: tokens.size, requests }));
    return;
  }
  req.on('data', () => {});
  req.on('end', () => {
    requests++;
    tokens.add(req.headers['i-twilio-idempotency-token']);
    res.writeHead(200);
    res.end();
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
`;

function startConsumer() {
  const child = spawn(process.execPath, ['-e', CONSUMER], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`consumer exited with ${code}`)));
  });
}

async function reset(port) {
  await fetch(`http://127.0.0.1:${port}/reset`).then((r) => r.text());
}

/** utime + stime of a child, in µs (Linux /proc; NaN elsewhere) */
function childCpuUs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // clock ticks, USER_HZ = 100
  } catch {
    return NaN;
  }
}

async function scenario(consumer, rate, seconds) {
  const { port, child } = consumer;
  await reset(port);
  const consumerBefore = childCpuUs(child.pid);
  const cpuBefore = process.cpuUsage();
  const stats = await runLoad({
    url: `http://127.0.0.1:${port}/twilio/conversations/webhook`,
    checkUrl: `http://127.0.0.1:${port}/applied`,
    authToken: AUTH_TOKEN,
    rate,
    durationMs: seconds * 1000,
    conversations: config.conversations,
    duplicates: 0.05,
    reorder: 0.02,
    connections: config.connections,
    seed: `bench-${rate}`,
  });
  const cpu = process.cpuUsage(cpuBefore);
  const consumerCpuUs = childCpuUs(child.pid) - consumerBefore;
  const cpuUsPerRequest = stats.sent ? (cpu.user + cpu.system) / stats.sent : 0;
  const lost = stats.check?.lost ?? NaN;
  const sustained =
    stats.achievedRate >= rate * 0.97 && stats.errors === 0 && stats.dropped === 0 && lost === 0 && stats.latencyMs.p99 < 100;
  return {
    rate,
    achievedRate: stats.achievedRate,
    answeredPerSec: Math.round((stats.status2xx * 1000) / stats.totalMs),
    sent: stats.sent,
    errors: stats.errors,
    dropped: stats.dropped,
    timeouts: stats.timeouts,
    connectionErrors: stats.connectionErrors,
    latencyMs: stats.latencyMs,
    maxInFlight: stats.maxInFlightSeen,
    lost,
    appliedTwice: stats.check?.appliedTwice ?? NaN,
    generatorCpuUsPerRequest: Math.round(cpuUsPerRequest * 10) / 10,
    generatorCpuCores: Math.round(((cpu.user + cpu.system) / 1000 / stats.totalMs) * 100) / 100,
    consumerCpuUsPerRequest: stats.sent ? Math.round((consumerCpuUs / stats.sent) * 10) / 10 : 0,
    consumerCpuCores: Math.round((consumerCpuUs / 1000 / stats.totalMs) * 100) / 100,
    sustained,
  };
}

const pad = (v, n) => String(v).padStart(n);

async function main() {
  const consumer = await startConsumer();
  const rows = [];
  try {
    if (config.warmup > 0) await scenario(consumer, Math.min(...config.rates), config.warmup);
    for (const rate of config.rates) {
      process.stderr.write(`rate ${rate}/s for ${config.duration} s …\n`);
      rows.push(await scenario(consumer, rate, config.duration));
    }
  } finally {
    consumer.child.kill('SIGTERM');
  }
  console.log(`\ntce load ceiling: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  console.log(`${config.duration} s per rate, ${config.connections} connections, ${config.conversations} conversations, duplicates 0.05, reorder 0.02\n`);
  console.log(' rate/s  achieved/s  answered/s  p50 ms  p90 ms  p99 ms  max ms  errors  dropped  lost  in flight  tce cpu µs/req (cores)  consumer cpu µs/req (cores)  sustained');
  for (const r of rows) {
    console.log(
      `${pad(r.rate, 7)}  ${pad(r.achievedRate.toFixed(0), 10)}  ${pad(r.answeredPerSec, 10)}  ${pad(r.latencyMs.p50.toFixed(2), 6)}  ` +
        `${pad(r.latencyMs.p90.toFixed(2), 6)}  ${pad(r.latencyMs.p99.toFixed(2), 6)}  ${pad(r.latencyMs.max.toFixed(1), 6)}  ` +
        `${pad(r.errors, 6)}  ${pad(r.dropped, 7)}  ${pad(r.lost, 4)}  ${pad(r.maxInFlight, 9)}  ${pad(`${r.generatorCpuUsPerRequest} (${r.generatorCpuCores.toFixed(2)})`, 22)}  ` +
        `${pad(`${r.consumerCpuUsPerRequest} (${r.consumerCpuCores.toFixed(2)})`, 27)}  ${r.sustained ? 'yes' : 'NO'}`,
    );
  }
  const ceiling = Math.max(0, ...rows.filter((r) => r.sustained).map((r) => r.rate));
  const pass = ceiling >= TARGET;
  console.log(`\nhighest rate sustained: ${ceiling}/s — target ≥ ${TARGET}/s: ${pass ? 'PASS' : 'FAIL'}`);
  mkdirSync(dirname(config.out), { recursive: true });
  writeFileSync(
    config.out,
    JSON.stringify({ date: new Date().toISOString(), machine: machineInfo(undefined, loadavg()), config, rows, ceiling, target: TARGET, pass }, null, 1) + '\n',
  );
  console.log(`wrote ${config.out}`);
  if (config.strict && !pass) process.exitCode = 1;
}

await main();
