/**
 * `tce contracts diff DIR [--emulator-url URL]`: replays a recording's REST exchanges, in order, against a fresh
 * account (an in-process emulator of its own, or a new account on a running one), substituting the SIDs the
 * emulator hands out for the recording's placeholders, and reports every difference (src/contracts/drift.ts).
 * Webhook entries are kept in recordings but not replayed.
 */
import { compareAnswer, type Bindings, type Schema } from './drift.js';
import { readRecording, REPLAYED_HEADERS, type Pairs, type RestEntry } from './recording.js';
import { SID_PLACEHOLDER } from './sanitize.js';
import { loadConversationsSpec } from './spec.js';
import type { OpenAPIV3 } from 'openapi-types';

export interface DiffTarget {
  url: string;
  accountSid: string;
  authToken: string;
  close(): Promise<void>;
}

export interface DiffResult {
  replayed: number;
  webhooksSkipped: number;
  /** one line each: `#3 POST /v1/Conversations: status 201 ≠ 400` */
  differences: string[];
}

type Json = Record<string, unknown>;

/** A fresh account to replay into: an in-process emulator, or a new account on the emulator at `url`. */
export async function diffTarget(url?: string, controlToken?: string): Promise<DiffTarget> {
  if (!url) {
    const { createEmulator } = await import('../index.js');
    const emulator = await createEmulator({ db: ':memory:' });
    return { url: emulator.url, accountSid: emulator.accountSid, authToken: emulator.authToken, close: () => emulator.close() };
  }
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new Error(`--emulator-url must be a URL, got ${url}`);
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...(controlToken ? { Authorization: `Bearer ${controlToken}` } : {}) };
  let answer: Response;
  try {
    answer = await fetch(new URL('/_emulator/accounts', base), { method: 'POST', headers, body: JSON.stringify({ friendlyName: 'tce contracts diff' }), signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new Error(`cannot reach the emulator at ${url}: ${reason(error)}`);
  }
  if (answer.status !== 201) throw new Error(`${url} did not create an account for the replay (POST /_emulator/accounts answered ${answer.status}${answer.status === 401 ? '; pass --control-token' : ''})`);
  const account = (await answer.json()) as { accountSid: string; authToken: string };
  return { url: base.origin, accountSid: account.accountSid, authToken: account.authToken, close: async () => {} };
}

export async function diffRecording(dir: string, target: DiffTarget): Promise<DiffResult> {
  const recording = readRecording(dir);
  const spec = await loadConversationsSpec();
  const schemaFor = schemaLookup(spec.document);
  const bindings: Bindings = new Map();
  if (recording.account) bindings.set(recording.account, target.accountSid);
  const answers = new Map<number, unknown>();
  const differences: string[] = [];
  let replayed = 0;
  let webhooksSkipped = 0;
  const auth = `Basic ${Buffer.from(`${target.accountSid}:${target.authToken}`).toString('base64')}`;
  for (const entry of recording.entries) {
    if (entry.kind === 'webhook') {
      webhooksSkipped++;
      continue;
    }
    const label = `#${entry.n} ${entry.method} ${entry.path}`;
    const request = buildRequest(entry, bindings, answers);
    if ('problem' in request) {
      differences.push(`${label}: not replayed: ${request.problem}`);
      continue;
    }
    // only the headers a recording may replay: a hand-edited file cannot replace the replay's credentials
    const headers = Object.fromEntries(Object.entries(entry.headers).filter(([name]) => REPLAYED_HEADERS.has(name.toLowerCase())));
    const init: RequestInit = { method: entry.method, headers: { ...headers, Authorization: auth }, signal: AbortSignal.timeout(30_000) };
    if (entry.form.length > 0 || entry.method === 'POST') {
      (init.headers as Record<string, string>)['Content-Type'] = 'application/x-www-form-urlencoded';
      init.body = new URLSearchParams(request.form).toString();
    }
    let status: number;
    let body: unknown;
    try {
      const answer = await fetch(new URL(request.pathAndQuery, target.url), init);
      status = answer.status;
      const text = await answer.text();
      body = parseBody(text);
    } catch (error) {
      differences.push(`${label}: no answer: ${reason(error)}`);
      continue;
    }
    replayed++;
    answers.set(entry.n, body);
    const schema = schemaFor(entry.method, entry.path, entry.status);
    for (const d of compareAnswer(entry, { status, body }, schema, bindings)) differences.push(`${label}: ${d}`);
  }
  return { replayed, webhooksSkipped, differences };
}

/** fetch says only "fetch failed": the cause's code (ECONNREFUSED, …) says why */
function reason(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The request to send: placeholders replaced by bound SIDs, a followed page link taken from the emulator's answer. */
function buildRequest(entry: RestEntry, bindings: Bindings, answers: Map<number, unknown>): { pathAndQuery: string; form: Pairs } | { problem: string } {
  // A placeholder no earlier answer named (a missing SID fetched for its 404, a SID from the user's account the
  // fresh replay account lacks) gets a made-up SID of its kind: unknown to the emulator, as it was to the server
  // or as the emulator's answer will show.
  const fill = (text: string) =>
    text.replace(SID_PLACEHOLDER, (placeholder, prefix: string, n: string) => {
      let sid = bindings.get(placeholder);
      if (sid === undefined) bindings.set(placeholder, (sid = `${prefix}${n.padStart(32, 'f')}`));
      return sid;
    });
  let pathAndQuery: string;
  if (entry.follow) {
    const link = entry.follow.link.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), answers.get(entry.follow.n));
    if (typeof link !== 'string' || link === '') return { problem: `the answer to #${entry.follow.n} has no ${entry.follow.link} to follow` };
    const url = new URL(link, 'http://emulator.invalid');
    pathAndQuery = `${url.pathname}${url.search}`;
  } else {
    if (entry.query.some(([name]) => name === 'PageToken')) return { problem: 'a PageToken whose page link was not recorded' };
    const query = new URLSearchParams(entry.query.map(([k, v]) => [k, fill(v)])).toString();
    pathAndQuery = `${fill(entry.path)}${query ? `?${query}` : ''}`;
  }
  const form = entry.form.map(([k, v]): [string, string] => [k, fill(v)]);
  return { pathAndQuery, form };
}

/** The spec's success or error schema of an answer, by method, (placeholder) path and status. */
function schemaLookup(document: OpenAPIV3.Document): (method: string, path: string, status: number) => Schema {
  const routes = Object.entries(document.paths).flatMap(([template, item]) => (item ? [{
    item,
    literal: template.split('/').filter((s) => !s.startsWith('{')).length,
    re: new RegExp(`^${template.split('/').map((s) => (s.startsWith('{') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`),
  }] : []));
  routes.sort((a, b) => b.literal - a.literal);
  return (method, path, status) => {
    const verb = method.toLowerCase() as OpenAPIV3.HttpMethods;
    const route = routes.find((r) => r.re.test(path) && r.item[verb]);
    const answer = route?.item[verb]?.responses[String(status)];
    // dereferenced: no $ref is left
    const json = answer && !('$ref' in answer) ? answer.content?.['application/json'] : undefined;
    return json?.schema as Schema;
  };
}

export function formatDiff(dir: string, result: DiffResult): string {
  const lines = [...result.differences];
  const skipped = result.webhooksSkipped ? `, ${result.webhooksSkipped} webhook entries not replayed` : '';
  const count = result.differences.length;
  lines.push(`${dir}: ${result.replayed} exchanges replayed${skipped}: ${count === 0 ? 'no differences' : `${count} difference${count === 1 ? '' : 's'}`}`);
  return `${lines.join('\n')}\n`;
}
