/**
 * `tce router serve` as a real process (kill -9, two replicas, RSS under load), and a signed-webhook sender.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import twilio from 'twilio';
import { TCE_BIN } from './spawned.js';
import type { OpenStoresOptions } from '../../src/router/store/open-stores.js';

export interface RouterProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  readonly output: string;
  /** resident set size in bytes, from /proc */
  rss(): Promise<number>;
}

const running = new Set<ChildProcessWithoutNullStreams>();

/** the store flags for a backend */
export function storeFlags(stores: OpenStoresOptions): string[] {
  const flags: string[] = [];
  if (stores.db) flags.push('--db', stores.db);
  if (stores.databaseUrl) flags.push('--database-url', stores.databaseUrl);
  if (stores.redisUrl) flags.push('--redis-url', stores.redisUrl);
  return flags;
}

/** the store environment a backend needs beyond flags (schema, key prefix) */
export function storeEnv(stores: OpenStoresOptions): Record<string, string> {
  return {
    ...(stores.databaseSchema ? { TCE_ROUTER_DATABASE_SCHEMA: stores.databaseSchema } : {}),
    ...(stores.redisKeyPrefix ? { TCE_ROUTER_REDIS_KEY_PREFIX: stores.redisKeyPrefix } : {}),
  };
}

export function spawnRouter(args: string[], env: Record<string, string>, startMs = 30_000): Promise<RouterProcess> {
  const child = spawn(process.execPath, [TCE_BIN, 'router', 'serve', '--log-level', 'warn', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tce router did not start in ${startMs} ms:\n${output}`)), startMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /tce router listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1] as string,
          get output() {
            return output;
          },
          async rss() {
            const { readFile } = await import('node:fs/promises');
            const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
            return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`tce router exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
}

/** `tce router <args>` to its end: exit code and output */
export function runRouterCommand(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TCE_BIN, 'router', ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

export async function killRouters(): Promise<void> {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** a Twilio-like signed POST; the answer's status (0 when the connection failed) */
export async function postSignedForm(url: string, params: Record<string, string>, authToken: string, headers: Record<string, string> = {}): Promise<number> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params), ...headers },
      body: new URLSearchParams(params).toString(),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** A round-robin HTTP proxy on `port` (0: any): request n goes to targets[n % targets.length], body and headers unchanged. */
export async function roundRobinProxy(targets: string[], port = 0): Promise<{ url: string; close(): Promise<void> }> {
  let n = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const target = new URL(req.url ?? '/', targets[n++ % targets.length]);
    const upstream = httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502).end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${bound}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
