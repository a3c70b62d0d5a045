/**
 * The inspector, `/_emulator/ui`: the page (static files built by scripts/build-ui.mjs into dist/ui, served from
 * memory) and its read API under `/_emulator/ui/api/*`, with a live stream of changes. The page itself is open
 * (it asks for the token); the API, like the rest of the control plane, requires `Authorization: Bearer <token>`
 * under `--control-token`. Writes go through the existing control endpoints.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { EmulatorCore } from '../core.js';
import { twilioError } from '../wire/errors.js';
import { requireControlToken } from '../control/control-token.js';
import { listClientSessions } from './client-sessions.js';
import { InspectorQueries } from './inspector-queries.js';
import { LiveFeed, MAX_CLIENTS } from './live-feed.js';

export interface InspectorOptions {
  core: EmulatorCore;
  controlToken?: string;
}

/** where `npm run build` puts the page: dist/ui, from src/emulator/ui and dist/emulator/ui alike */
export const UI_DIR = fileURLToPath(new URL('../../../dist/ui/', import.meta.url));

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** The built files, read once (a few hundred KB at most); undefined when the page was never built. */
function loadFiles(): Map<string, Buffer> | undefined {
  try {
    const files = new Map<string, Buffer>();
    files.set('index.html', readFileSync(`${UI_DIR}index.html`));
    for (const name of Object.keys(ASSETS)) files.set(name, readFileSync(`${UI_DIR}assets/${name}`));
    return files;
  } catch {
    return undefined;
  }
}

export async function inspectorPlugin(app: FastifyInstance, options: InspectorOptions): Promise<void> {
  const { core } = options;
  const queries = new InspectorQueries(core);
  const feed = new LiveFeed(core);
  let files: Map<string, Buffer> | undefined;
  const file = (name: string) => (files ??= loadFiles())?.get(name);

  // the page and its assets are open (the page asks for the token); every other route of this plugin is not
  if (options.controlToken) app.addHook('onRequest', requireControlToken(options.controlToken, new Set(['/_emulator/ui', '/_emulator/ui/', '/_emulator/ui/assets/:name'])));

  // Open streams end before the server waits for its connections to close.
  app.addHook('preClose', async () => feed.close());

  const notBuilt = () =>
    twilioError('NotFound', { path: '/_emulator/ui (the inspector page is not built: run `npm run build`, which writes dist/ui)' });

  app.get('/', async (_request, reply) => {
    const html = file('index.html');
    if (!html) throw notBuilt();
    return reply.type('text/html; charset=utf-8').header('content-security-policy', CSP).header('cache-control', 'no-cache').send(html);
  });

  app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const type = ASSETS[request.params.name];
    if (!type) throw twilioError('NotFound', { path: request.url });
    const body = file(request.params.name);
    if (!body) throw notBuilt();
    return reply.type(type).header('cache-control', 'no-cache').send(body);
  });

  app.get('/api/scopes', async () => queries.scopes());

  app.get('/api/conversations', async (request) => queries.conversations(request.query as Record<string, string | undefined>));

  app.get<{ Params: { sid: string } }>('/api/conversations/:sid', async (request) => queries.conversation(request.params.sid));

  app.get<{ Params: { sid: string } }>('/api/conversations/:sid/messages', async (request) =>
    queries.messages(request.params.sid, request.query as Record<string, string | undefined>),
  );

  app.get<{ Params: { sid: string } }>('/api/conversations/:sid/webhooks', async (request) => queries.webhooks(request.params.sid));

  app.get('/api/phones', async () => queries.phones());

  app.get('/api/clients', async () => listClientSessions(core));

  app.get('/api/events', async (request, reply) => {
    if (feed.size >= MAX_CLIENTS) throw twilioError('TooManyRequests');
    reply.hijack();
    if (!feed.add(reply.raw)) reply.raw.writeHead(503).end();
  });
}
