/** Helpers the benchmarks share: env knobs, plain HTTP on a fresh connection, a free port, the report. */
import { execFileSync } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import { cpus, platform, release, totalmem } from 'node:os';

export const FORM = 'application/x-www-form-urlencoded';

/** A non-negative number from the environment, or the fallback. */
export function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return n;
}

/** One HTTP request on a fresh connection; resolves { status, body } or rejects on a socket error. */
export function call(url, { method = 'GET', headers = {}, body, timeoutMs = 30_000 } = {}) {
  return new Promise((resolveCall, reject) => {
    const req = httpRequest(url, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolveCall({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout ${method} ${url}`)));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** A Twilio REST call with Basic auth and a form body; the parsed JSON answer, or an error for a non-2xx. */
export async function apiCall(authorization, base, method, path, form) {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  const res = await call(base + path, {
    method,
    headers: { authorization, ...(body !== undefined ? { 'content-type': FORM, 'content-length': Buffer.byteLength(body) } : {}) },
    body,
  });
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path} answered ${res.status}: ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body);
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

/** The machine a result was measured on, for the JSON results. */
export function machineInfo(loadAverageBefore, loadAverageAfter) {
  return {
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    totalMemMb: Math.round(totalmem() / 2 ** 20),
    loadAverageBefore,
    loadAverageAfter,
  };
}

/** A Markdown table, columns padded to their widest cell. */
export function renderTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
  return [line(headers), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

/** The short commit of the checkout in `cwd`, for result files; undefined outside git. */
export function gitRevision(cwd) {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}
