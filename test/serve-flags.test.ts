/**
 * The serve flag table (src/emulator/serve-flags.ts, shared with `tce exec`) against its documentation: the
 * README's `tce serve` flags table and `tce --help` list every flag, and nothing else.
 * Where `tce serve` listens: `npm start -- --port N` (the README's form), else TCE_PORT, else PORT, else 4510; a bad
 * variable is a usage error naming it. `tce exec` reads neither variable: PORT there belongs to the command.
 * Runs dist/ (built by the suite's global setup) and npm itself, as a user does.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TCE_BIN } from './support/spawned.js';
import { SERVE_FLAGS } from '../src/emulator/serve-flags.js';
import { freePort } from './support/free-port.js';

const root = fileURLToPath(new URL('../', import.meta.url));
/** no port or credentials from the environment the tests run in, unless a test sets them */
const CLEAN_ENV = { ...process.env, PORT: '', TCE_PORT: '', TWILIO_ACCOUNT_SID: '', TWILIO_AUTH_TOKEN: '' };


const started: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  // each child leads its own process group (npm start runs node under a shell): stop the whole group
  await Promise.all(
    started.splice(0).map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          process.kill(-child.pid!, 'SIGTERM');
        }),
    ),
  );
});

/** Start `command args`, resolve with the URL its banner names, once health answers there. */
function listening(command: string, args: string[], env: Record<string, string>): Promise<string> {
  const child = spawn(command, args, { cwd: root, env: { ...CLEAN_ENV, ...env }, detached: true });
  started.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(' ')} did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url && output.includes('default Conversation Service')) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}:\n${output}`));
    });
  });
}

async function healthy(url: string): Promise<string> {
  const answer = await fetch(`${url}/_emulator/health`);
  return ((await answer.json()) as { status: string }).status;
}

describe('the serve flags, documented', () => {
  const flags = Object.keys(SERVE_FLAGS).filter((f) => f !== 'help').map((f) => `--${f}`).sort();

  it("the README's `tce serve` flags table has a row for every flag, and none for a flag that does not exist", () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const start = readme.indexOf('\n## `tce serve` flags\n');
    const table = readme.slice(start, readme.indexOf('\n#', start + 1));
    const rows = [...table.matchAll(/^\| `(--[a-z-]+)/gm)].map((m) => m[1]).sort();
    expect(rows).toEqual(flags);
  });

  it('tce --help lists every flag under "serve options"', () => {
    const help = spawnSync(process.execPath, [TCE_BIN, '--help'], { encoding: 'utf8' }).stdout;
    const serveOptions = help.slice(help.indexOf('serve options:'), help.indexOf('load options'));
    const listed = [...serveOptions.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]).sort();
    expect(listed).toEqual(flags);
  });
});

describe('the port tce serve listens on', () => {
  it('npm start -- --port N', async () => {
    const port = await freePort();
    const url = await listening('npm', ['start', '--', '--port', String(port), '--db', ':memory:'], {});
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(await healthy(url)).toBe('ok');
  });

  it('TCE_PORT, else PORT; --port before both', async () => {
    const [a, b, c] = [await freePort(), await freePort(), await freePort()];
    const serve = (args: string[], env: Record<string, string>) => listening(process.execPath, [TCE_BIN, 'serve', '--db', ':memory:', ...args], env);
    const viaTcePort = await serve([], { TCE_PORT: String(a), PORT: String(b) });
    expect(viaTcePort).toBe(`http://127.0.0.1:${a}`);
    expect(await healthy(viaTcePort)).toBe('ok');
    const viaPort = await serve([], { PORT: String(b) });
    expect(viaPort).toBe(`http://127.0.0.1:${b}`);
    expect(await serve(['--port', String(c)], { TCE_PORT: '1', PORT: '2' })).toBe(`http://127.0.0.1:${c}`);
  });

  it('a bad TCE_PORT or PORT is named, exit 2, nothing started', () => {
    for (const [name, value] of [['TCE_PORT', 'eighty'], ['PORT', '70000']]) {
      const r = spawnSync(process.execPath, [TCE_BIN, 'serve', '--db', ':memory:'], { cwd: root, env: { ...CLEAN_ENV, [name]: value }, encoding: 'utf8', timeout: 15_000 });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 2, stdout: '', stderr: `tce: ${name} must be 0-65535, got ${value}\n` });
    }
  });

  it('tce exec leaves PORT and TCE_PORT to the command and takes a free port', async () => {
    const taken = await freePort();
    const r = spawnSync(
      process.execPath,
      [TCE_BIN, 'exec', '--', 'node', '-e', 'console.log(JSON.stringify([process.env.TCE_URL, process.env.PORT, process.env.TCE_PORT]))'],
      { cwd: root, env: { ...CLEAN_ENV, PORT: String(taken), TCE_PORT: String(taken) }, encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const [url, port, tcePort] = JSON.parse(r.stdout) as string[];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toBe(`http://127.0.0.1:${taken}`);
    expect([port, tcePort]).toEqual([String(taken), String(taken)]);
  });
});
