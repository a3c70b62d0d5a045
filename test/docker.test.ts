/**
 * The Dockerfile and compose.yaml, checked without a Docker engine (there is none here, nor in CI): the Dockerfile
 * is parsed, its build stage replayed on the host in a temp dir holding exactly what its COPY lines name, its
 * runtime stage assembled the same way, and its CMD started there with its ENV applied; the HEALTHCHECK must then
 * pass. compose.yaml is parsed and its services, ports, health checks and wiring checked against what the
 * emulator and the router really accept.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorHttpClient } from '../src/client.js';
import { parseRouterArgs, resolveRouterConfig } from '../src/router/config.js';
import { parse as parseYaml } from 'yaml';
import { freePort } from './support/free-port.js';

const ROOT = new URL('..', import.meta.url).pathname;
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

// ---- a small Dockerfile reader: the instructions this repo's Dockerfile uses, in the forms it uses them ----

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    // comments and blank lines are dropped, also inside a continued instruction (as docker does)
    if (line === '' || line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  if (pending) logical.push(pending);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line) as RegExpExecArray;
    const k = keyword.toUpperCase();
    if (k === 'FROM') {
      const [from, as, name] = args.split(/\s+/);
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
      continue;
    }
    if (stages.length === 0) throw new Error(`Dockerfile: ${k} before any FROM`);
    stages[stages.length - 1].instructions.push({ keyword: k, args });
  }
  return stages;
}

/** A CMD / RUN / HEALTHCHECK CMD: the exec form (a JSON array) as is, the shell form through `sh -c`. */
function commandOf(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : ['/bin/sh', '-c', args];
}
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
function only(stage: Stage, keyword: string): Instruction {
  const found = all(stage, keyword);
  if (found.length !== 1) throw new Error(`Dockerfile: expected one ${keyword} in the stage FROM ${stage.from}, found ${found.length}`);
  return found[0];
}
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of all(stage, 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq < 1) throw new Error(`Dockerfile: ENV ${args}: only KEY=VALUE pairs are read here`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}
function healthcheckOf(stage: Stage): string[] {
  const m = /^(?:--\S+\s+)*CMD\s+(.*)$/.exec(only(stage, 'HEALTHCHECK').args);
  if (!m) throw new Error('Dockerfile: HEALTHCHECK without CMD');
  return commandOf(m[1]);
}

/** .dockerignore entries (top-level names and `*` globs, the forms it uses) that exclude `path` from the context. */
function ignoredBy(ignore: string, path: string): string[] {
  const top = path.replace(/^\.\//, '').split('/')[0];
  return ignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .filter((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`).test(top));
}

/**
 * Replays a stage in `root` (its filesystem root): WORKDIR, COPY from the context or an earlier stage, and, when
 * `run` is given, RUN lines through it.
 */
function replayStage(stage: Stage, root: string, stageRoots: Map<string, string>, run?: (command: string, cwd: string) => void): string {
  let workdir = '/';
  const ignore = read('.dockerignore');
  for (const { keyword, args } of stage.instructions) {
    if (keyword === 'WORKDIR') {
      workdir = args.startsWith('/') ? args : join(workdir, args);
      mkdirSync(join(root, workdir), { recursive: true });
    } else if (keyword === 'COPY') {
      const words = args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((w) => !w.startsWith('--'));
      const dest = paths.pop() as string;
      const target = join(root, dest.startsWith('/') ? dest : join(workdir, dest));
      for (const source of paths) {
        let sourcePath: string;
        if (from !== undefined) {
          const fromRoot = stageRoots.get(from);
          if (!fromRoot) throw new Error(`Dockerfile: COPY --from=${from}: no such earlier stage`);
          sourcePath = join(fromRoot, source);
        } else {
          const excluded = ignoredBy(ignore, source);
          if (excluded.length) throw new Error(`Dockerfile: COPY ${source}, but .dockerignore excludes it (${excluded.join(', ')})`);
          sourcePath = join(ROOT, source);
        }
        if (!existsSync(sourcePath)) throw new Error(`Dockerfile: COPY ${source}: not found (${sourcePath})`);
        // `COPY a b ./` puts files into the directory; `COPY src ./src` copies the directory's contents there
        const into = dest.endsWith('/') ? join(target, source.split('/').pop() as string) : target;
        mkdirSync(dirname(into), { recursive: true });
        cpSync(sourcePath, into, { recursive: true });
      }
    } else if (keyword === 'RUN' && run) {
      run(args, join(root, workdir));
    }
  }
  return join(root, workdir);
}

// npm ci / rebuild / prune install into node_modules, here a symlink to this checkout's (already installed) one:
// running them would change it for everyone, so they are skipped and the symlink stands for their result.
// `npm run build` and anything else really runs.
const INSTALL_STEP = /^npm (ci|rebuild|prune)\b/;


// ---- compose.yaml, read with the `yaml` package (merge keys on, as compose reads them) ----

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const loadCompose = (text: string) => parseYaml(text, { merge: true }) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };

/** Compose's `${VAR:-default}` and `${VAR:?message}` against `env`, as `docker compose` interpolates them. */
function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_all, name: string, op?: string, arg?: string) => {
    const set = env[name] !== undefined && env[name] !== '';
    if (set) return env[name] as string;
    if (op === '-') return arg as string;
    if (op === '?') throw new Error(`compose: ${name}: ${arg}`);
    return '';
  });
}
const environmentOf = (service: ComposeService, env: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), env)]));
/** "127.0.0.1:4510:4510" → its container port */
const containerPorts = (service: ComposeService) => (service.ports ?? []).map((p) => Number(String(p).split(':').pop()));

// ---- the tests ----

const dockerfile = parseDockerfile(read('Dockerfile'));
const [buildStage, runtime] = [dockerfile[0], dockerfile[dockerfile.length - 1]];
const compose = loadCompose(read('compose.yaml'));
const CONTROL_TOKEN = 'docker-test-control-token';

describe('Dockerfile', () => {
  it('builds on node:20-bookworm-slim in two stages, runs as a non-root user with a /data volume and both ports', () => {
    expect(dockerfile.map((s) => s.from)).toEqual(['node:20-bookworm-slim', 'node:20-bookworm-slim']);
    expect(buildStage.name).toBeDefined();
    expect(all(runtime, 'COPY').some((c) => c.args.includes(`--from=${buildStage.name}`))).toBe(true);
    const user = only(runtime, 'USER').args;
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(only(runtime, 'VOLUME').args).toBe('/data');
    expect(only(runtime, 'EXPOSE').args.split(/\s+/).sort()).toEqual(['4510', '4520']);
    // the volume is where the default command keeps its database
    expect(commandOf(only(runtime, 'CMD').args).join(' ')).toMatch(/--db \/data\/\S+/);
  });

  describe('replayed on the host', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tce-docker-'));
    const roots = new Map<string, string>();
    const ranInBuild: string[] = [];
    let appDir = '';
    const children: ChildProcessWithoutNullStreams[] = [];

    beforeAll(() => {
      const buildRoot = join(dir, 'build');
      replayStage(buildStage, buildRoot, roots, (command, cwd) => {
        if (INSTALL_STEP.test(command)) {
          if (!existsSync(join(cwd, 'node_modules'))) symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(cwd, 'node_modules'));
          return;
        }
        ranInBuild.push(command);
        const r = spawnSync('/bin/sh', ['-c', command], { cwd, encoding: 'utf8', timeout: 240_000 });
        if (r.status !== 0) throw new Error(`Dockerfile: RUN ${command} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
      });
      roots.set(buildStage.name as string, buildRoot);
      // the runtime stage's own RUN lines (mkdir, chown of /data) need root: its /data is made here instead
      appDir = replayStage(runtime, join(dir, 'runtime'), roots);
      mkdirSync(join(dir, 'runtime', 'data'), { recursive: true });
    }, 300_000);

    afterAll(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    /** The runtime CMD with the image's ENV, `env` on top, 4510 swapped for a free port and /data for the temp one. */
    async function startCmd(env: Record<string, string>) {
      const port = await freePort();
      const swap = (arg: string) => arg.replaceAll('4510', String(port)).replaceAll('/data/', `${join(dir, 'runtime', 'data')}/`);
      const [file, ...args] = commandOf(only(runtime, 'CMD').args).map(swap);
      const child = spawn(file, args, { cwd: appDir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...envOf(runtime), ...env } });
      children.push(child);
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return { child, port, swap, exited, output: () => output };
    }

    it('builds with `npm run build` and serves from the runtime stage: the HEALTHCHECK passes, the control plane wants TCE_CONTROL_TOKEN', async () => {
      expect(ranInBuild).toContain('npm run build');
      expect(existsSync(join(appDir, 'dist', 'cli.js'))).toBe(true);

      // the emulator service's environment from compose.yaml: the router's credentials must work against it
      const composeEnv = { TCE_CONTROL_TOKEN: CONTROL_TOKEN };
      const env = environmentOf(compose.services.emulator, composeEnv);
      const started = await startCmd(env);
      const deadline = Date.now() + 20_000;
      while (!/listening on/.test(started.output()) && Date.now() < deadline) {
        if (started.child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(started.output()).toMatch(/listening on http:\/\/0\.0\.0\.0:\d+/);

      // the image's HEALTHCHECK command, run as docker would (in the container's workdir), exits 0
      const [hcFile, ...hcArgs] = healthcheckOf(runtime).map(started.swap);
      const hc = spawnSync(hcFile, hcArgs, { cwd: appDir, encoding: 'utf8', timeout: 10_000 });
      expect(hc.status).toBe(0);
      const url = /http:\/\/[^'"\s)]+/.exec(hcArgs.join(' '))?.[0] as string;
      expect(new URL(url).pathname).toBe('/_emulator/health');
      const health = await fetch(url);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { status: string }).status).toBe('ok');

      const base = `http://127.0.0.1:${started.port}`;
      expect((await fetch(`${base}/_emulator/accounts`)).status).toBe(401);
      expect((await fetch(`${base}/_emulator/accounts`, { headers: { authorization: `Bearer ${CONTROL_TOKEN}` } })).status).toBe(200);

      // the router service's configuration, resolved by the router itself, talks to this emulator
      const router = compose.services.router;
      const config = await resolveRouterConfig(parseRouterArgs((router.command as string[]).slice(3)).flags, environmentOf(router, composeEnv));
      const client = twilio(config.accountSid as string, config.authToken as string, { httpClient: emulatorHttpClient(base) });
      const created = await client.conversations.v1.conversations.create({ uniqueName: 'docker' });
      expect((await client.conversations.v1.conversations('docker').fetch()).sid).toBe(created.sid);
      // and the state is on the /data volume
      expect(existsSync(join(dir, 'runtime', 'data', 'emulator.sqlite'))).toBe(true);

      started.child.kill('SIGTERM');
      expect(await started.exited).toBe(0);
    }, 60_000);

    it('refuses to start without TCE_CONTROL_TOKEN, naming it, and listens on nothing', async () => {
      const started = await startCmd({});
      expect(await started.exited).not.toBe(0);
      expect(started.output()).toMatch(/TCE_CONTROL_TOKEN/);
      expect(started.output()).not.toMatch(/listening on/);
      await expect(fetch(`http://127.0.0.1:${started.port}/_emulator/health`)).rejects.toThrow();
    });
  });
});

describe('compose.yaml', () => {
  const { services } = compose;

  it('has the emulator, the router, PostgreSQL 15 and Redis 7, each on its port with a health check', () => {
    expect(Object.keys(services).sort()).toEqual(['emulator', 'postgres', 'redis', 'router']);
    expect(services.emulator.build).toBeDefined();
    expect(services.router.image).toBe(services.emulator.image);
    expect(services.postgres.image).toBe('postgres:15');
    expect(services.redis.image).toBe('redis:7');
    expect(containerPorts(services.emulator)).toEqual([4510]);
    expect(containerPorts(services.router)).toEqual([4520]);
    expect(containerPorts(services.postgres)).toEqual([5432]);
    expect(containerPorts(services.redis)).toEqual([6379]);
    const test = (name: string) => (services[name].healthcheck?.test ?? []).join(' ');
    expect(test('emulator')).toContain('http://127.0.0.1:4510/_emulator/health');
    // the image's own HEALTHCHECK, so that `docker run` and compose agree
    expect(services.emulator.healthcheck?.test.slice(1)).toEqual(healthcheckOf(runtime));
    expect(test('router')).toContain('http://127.0.0.1:4520/readyz');
    expect(test('postgres')).toMatch(/^CMD pg_isready\b/);
    expect(test('redis')).toBe('CMD redis-cli ping');
    expect(services.emulator.volumes).toContain('emulator-data:/data');
  });

  it('starts the router once the other three are healthy, wired to them by service name', async () => {
    const router = services.router;
    expect(router.depends_on).toEqual({
      emulator: { condition: 'service_healthy' },
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    const env = { TCE_CONTROL_TOKEN: CONTROL_TOKEN };
    expect((router.command as string[]).slice(0, 3)).toEqual(['node', 'bin/tce.js', 'router']);
    const { command, flags } = parseRouterArgs((router.command as string[]).slice(3));
    expect(command).toBe('serve');
    const config = await resolveRouterConfig(flags, environmentOf(router, env));
    expect([config.host, config.port]).toEqual(['0.0.0.0', 4520]);
    expect(config.twilioUrl).toBe('http://emulator:4510');
    const pg = environmentOf(services.postgres, env);
    expect(config.databaseUrl).toBe(`postgres://${pg.POSTGRES_USER}:${pg.POSTGRES_PASSWORD}@postgres:5432/${pg.POSTGRES_DB}`);
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(config.apiToken).toBeTruthy();
    // one account on both sides
    const emulator = environmentOf(services.emulator, env);
    expect([config.accountSid, config.authToken]).toEqual([emulator.TWILIO_ACCOUNT_SID, emulator.TWILIO_AUTH_TOKEN]);
  });

  it('will not start the emulator without TCE_CONTROL_TOKEN', () => {
    expect(() => environmentOf(services.emulator, {})).toThrow(/TCE_CONTROL_TOKEN/);
    expect(environmentOf(services.emulator, { TCE_CONTROL_TOKEN: 't' }).TCE_CONTROL_TOKEN).toBe('t');
  });
});
