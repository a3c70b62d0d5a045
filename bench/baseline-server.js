#!/usr/bin/env node
/**
 * Calibration server for bench/rest.js: bare fastify (the same version tce uses) answering a conversation-sized
 * JSON document, behind the same kind of Basic-auth onRequest hook, with no SQLite and no resource layer.
 * Its req/s is the ceiling this machine + autocannon can reach, so tce's figures can be read against it.
 *
 *   node bench/baseline-server.js --port 4600
 */
import Fastify from 'fastify';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const expected = 'Basic ' + Buffer.from(`AC${'be'}${'0'.repeat(30)}:bench-auth-token`).toString('base64');

const base = 'http://127.0.0.1';
const sid = 'CH' + '0123456789abcdef'.repeat(2);
const conversation = {
  account_sid: 'AC' + 'be' + '0'.repeat(30),
  chat_service_sid: 'IS' + 'f'.repeat(32),
  messaging_service_sid: 'MG' + 'e'.repeat(32),
  sid,
  friendly_name: 'bench deep',
  unique_name: null,
  attributes: '{}',
  state: 'active',
  date_created: '2026-01-01T00:00:00Z',
  date_updated: '2026-01-01T00:00:00Z',
  timers: {},
  url: `${base}/v1/Conversations/${sid}`,
  links: {
    participants: `${base}/v1/Conversations/${sid}/Participants`,
    messages: `${base}/v1/Conversations/${sid}/Messages`,
    webhooks: `${base}/v1/Conversations/${sid}/Webhooks`,
    export: `${base}/v1/Conversations/${sid}/Export`,
  },
  bindings: null,
};

const app = Fastify({ logger: false });
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
  done(null, Object.fromEntries(new URLSearchParams(body)));
});
app.get('/_emulator/health', async () => ({ status: 'ok' }));
app.register(
  async (v1) => {
    v1.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization !== expected) {
        reply.code(401);
        throw new Error('unauthenticated');
      }
    });
    v1.get('/Conversations/:Sid', async () => conversation);
    v1.post('/Conversations/:Sid/Messages', async (request, reply) => {
      reply.code(201);
      return { ...conversation, body: request.body.Body, author: request.body.Author };
    });
  },
  { prefix: '/v1' },
);

await app.listen({ port: Number(values.port), host: '127.0.0.1' });
process.stdout.write(`baseline listening on http://127.0.0.1:${app.server.address().port}\n`);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => app.close().then(() => process.exit(0)));
