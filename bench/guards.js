#!/usr/bin/env node
/**
 * What rate limiting and REST fault rules cost when they are loaded but do not bite (target: < 5%).
 * Runs `tce serve` (build first: npm run build) and alternates autocannon runs of `fetch conversation`:
 * plain, then with a generous rate limit and 10 non-matching fault rules loaded. Loopback only.
 *
 *   node bench/guards.js            BENCH_DURATION=5 (seconds per run), BENCH_ROUNDS=3
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const duration = Number(process.env.BENCH_DURATION ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const account = 'AC' + 'b'.repeat(32);
const token = 'guards-bench';
const auth = 'Basic ' + Buffer.from(`${account}:${token}`).toString('base64');

const server = spawn(process.execPath, [join(root, 'bin', 'tce.js'), 'serve', '--port', '0', '--db', ':memory:', '--account-sid', account, '--auth-token', token]);
const base = await new Promise((ok, fail) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = /listening on (\S+)/.exec(out);
    if (m) ok(m[1]);
  });
  server.on('exit', (code) => fail(new Error(`tce serve exited ${code}: ${out}`)));
});

async function call(method, path, body, json = false) {
  const headers = { authorization: auth };
  if (body) headers['content-type'] = json ? 'application/json' : 'application/x-www-form-urlencoded';
  const r = await fetch(base + path, { method, headers, body });
  return r.status === 204 ? null : r.json();
}

const conversation = (await call('POST', '/v1/Conversations', 'FriendlyName=guards')).sid;
const guards = async (on) => {
  await call('PUT', '/_emulator/limits', JSON.stringify(on ? { rps: 1e9, burst: 1e9, concurrency: 1e6 } : { rps: null, burst: null, concurrency: null }), true);
  const rules = on ? Array.from({ length: 10 }, (_, i) => ({ match: { path: `/v1/Nowhere${i}/*`, method: 'DELETE' }, action: { type: 'error', status: 500, code: 20500 } })) : [];
  await call('PUT', '/_emulator/faults/rest', JSON.stringify({ rules }), true);
};

async function run() {
  const result = await autocannon({ url: `${base}/v1/Conversations/${conversation}`, connections: 10, duration, headers: { authorization: auth } });
  if (result.non2xx || result.errors) throw new Error(`unexpected answers: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

const plain = [];
const guarded = [];
try {
  for (let i = 0; i < rounds; i++) {
    await guards(false);
    plain.push(await run());
    await guards(true);
    guarded.push(await run());
  }
} finally {
  server.kill('SIGTERM');
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const overhead = (1 - mean(guarded) / mean(plain)) * 100;
console.log('| run | plain req/s | limits + 10 fault rules req/s |');
console.log('|---|---|---|');
plain.forEach((p, i) => console.log(`| ${i + 1} | ${p.toFixed(0)} | ${guarded[i].toFixed(0)} |`));
console.log(`\nmean plain ${mean(plain).toFixed(0)} req/s, guarded ${mean(guarded).toFixed(0)} req/s: overhead ${overhead.toFixed(1)}% (target < 5%) ${overhead < 5 ? 'PASS' : 'FAIL'}`);
