#!/usr/bin/env node
/**
 * Create-message throughput of `tce serve` on a SQLite file, per `--durability` level (run `npm run build` first).
 * The levels run interleaved (off, normal, full, off, normal, full, …) in the same run, so a noisy machine hurts
 * each alike; each level's figure is the median of its rounds, and its ratio is to the `off` median of this run.
 *
 *   node bench/durability.js
 *
 * Environment:
 *   BENCH_DURATION     seconds per round (default 10)
 *   BENCH_WARMUP       seconds of discarded warm-up per round (default 1)
 *   BENCH_ROUNDS       rounds per level (default 3)
 *   BENCH_CONNECTIONS  autocannon connections (default 10)
 *   BENCH_LEVELS       comma list (default off,normal,full)
 *   BENCH_DIR          where the database files go (default the OS temp dir; it must not be a tmpfs)
 *   BENCH_OUT          JSON output path (default bench/results/durability-latest.json)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { apiCall, call, envNumber, freePort, gitRevision, machineInfo, renderTable, FORM } from './lib.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'tce.js');
const config = {
  duration: envNumber('BENCH_DURATION', 10),
  warmup: envNumber('BENCH_WARMUP', 1),
  rounds: Math.max(1, Math.floor(envNumber('BENCH_ROUNDS', 3))),
  connections: Math.max(1, Math.floor(envNumber('BENCH_CONNECTIONS', 10))),
  levels: (process.env.BENCH_LEVELS ?? 'off,normal,full').split(',').map((s) => s.trim()),
  out: resolve(process.env.BENCH_OUT ?? join(root, 'bench', 'results', 'durability-latest.json')),
};
const ACCOUNT_SID = 'AC' + 'de' + '0'.repeat(30);
const AUTH_TOKEN = 'bench-auth-token';
const AUTHORIZATION = 'Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64');
const log = (line) => process.stderr.write(`${line}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const round = (n, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

async function startServer(db, durability) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const args = [bin, 'serve', '--port', String(port), '--db', db, '--durability', durability, '--account-sid', ACCOUNT_SID, '--auth-token', AUTH_TOKEN];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`tce serve exited: ${stderr}`);
    const ok = await call(`${base}/_emulator/health`).then((r) => r.status === 200, () => false);
    if (ok) return { child, base };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`tce serve did not start: ${stderr}`);
}

async function stopServer({ child }) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function cannon(opts) {
  return new Promise((done, reject) => {
    const instance = autocannon({ connections: config.connections, pipelining: 1, timeout: 10, ...opts }, (e, r) => (e ? reject(e) : done(r)));
    instance.on('error', () => {});
  });
}

/** One round: a fresh file, a fresh server, create messages into one conversation. */
async function round1(dir, durability, index) {
  const db = join(dir, `${durability}-${index}.sqlite`);
  const server = await startServer(db, durability);
  try {
    const conversation = await apiCall(AUTHORIZATION, server.base, 'POST', '/v1/Conversations', { FriendlyName: 'bench durability' });
    const opts = {
      url: `${server.base}/v1/Conversations/${conversation.sid}/Messages`,
      method: 'POST',
      headers: { authorization: AUTHORIZATION, 'content-type': FORM },
      body: 'Body=benchmark+message+body&Author=bench',
    };
    if (config.warmup > 0) await cannon({ ...opts, duration: config.warmup });
    const r = await cannon({ ...opts, duration: config.duration });
    const bad = r.errors + r.timeouts + r.non2xx;
    if (bad) throw new Error(`${durability}: ${bad} failed requests`);
    log(`  ${durability} round ${index + 1}: ${round(r.requests.mean)} req/s, p99 ${r.latency.p99} ms`);
    return { rps: r.requests.mean, p99: r.latency.p99 };
  } finally {
    await stopServer(server);
  }
}

async function main() {
  // a real disk: on tmpfs an fsync costs nothing (BENCH_DIR: where the files go; default the OS temp dir)
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'tce-bench-durability-'));
  const loadBefore = loadavg();
  const samples = Object.fromEntries(config.levels.map((l) => [l, []]));
  try {
    for (let i = 0; i < config.rounds; i++) for (const level of config.levels) samples[level].push(await round1(dir, level, i));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const base = median(samples.off?.map((s) => s.rps) ?? [NaN]);
  const levels = config.levels.map((level) => {
    const rps = median(samples[level].map((s) => s.rps));
    return { level, medianRps: round(rps), ratioToOff: round(rps / base, 3), medianP99Ms: median(samples[level].map((s) => s.p99)), roundsRps: samples[level].map((s) => round(s.rps)) };
  });
  const table = renderTable(
    ['durability', 'create req/s (median)', 'ratio to off', 'p99 ms (median)', 'rounds req/s'],
    levels.map((l) => [l.level, l.medianRps, l.ratioToOff, l.medianP99Ms, l.roundsRps.join(' / ')]),
  );
  process.stdout.write(`${table}\n`);
  const result = { date: new Date().toISOString(), revision: gitRevision(root), machine: machineInfo(loadBefore, loadavg()), config, levels };
  writeFileSync(config.out, JSON.stringify(result, null, 1) + '\n');
  log(`wrote ${config.out}`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
