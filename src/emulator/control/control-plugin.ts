/**
 * The control plane, `/_emulator/*`: the emulator's own API (../shared/reference/control-plane.md). JSON in and
 * out (form bodies too), no Twilio auth; `--control-token` requires `Authorization: Bearer <token>` (but on health).
 * It calls the same core as the REST API, never SQL of its own.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { AccountError, type Account } from '../accounts.js';
import type { EmulatorCore } from '../core.js';
import { parseDateTime } from '../wire/dates.js';
import { invalidParameter, twilioError } from '../wire/errors.js';
import { requireControlToken } from './control-token.js';
import { parseRules } from '../webhooks/faults.js';
import { parseHandset } from '../channel/handsets.js';
import { receiptView } from '../channel/channel-handle.js';
import { parseLimits } from '../http/limits.js';
import { parseRestRules } from '../http/rest-faults.js';
import { SenderPools } from '../messaging/senders.js';
import { parseRequestLogFilter } from '../http/request-log.js';
import { journalJsonLines } from './journal-jsonl.js';
import { loadSnapshot, takeSnapshot } from '../snapshot/snapshot.js';

/** the largest snapshot `PUT /_emulator/snapshot` takes (the app's 1 MB body limit is for Twilio-sized bodies) */
const SNAPSHOT_BODY_LIMIT = 256 * 1024 * 1024;

export interface ControlOptions {
  core: EmulatorCore;
  version: string;
  controlToken?: string;
  publicUrl?: string;
}

type Body = Record<string, unknown>;

function body(value: unknown): Body {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Body) : {};
}

function optionalString(b: Body, key: string): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidParameter(`${key} must be a string`);
  return v;
}

export async function controlPlugin(app: FastifyInstance, options: ControlOptions): Promise<void> {
  const { core } = options;


  // health stays open: container health checks carry no token
  if (options.controlToken) app.addHook('onRequest', requireControlToken(options.controlToken, new Set(['/_emulator/health'])));

  // Answers leave once what they wrote is committed (writes are group-committed per event-loop turn).
  app.addHook('onSend', (_request, _reply, payload, done) => {
    core.db.whenCommitted((error) => (error ? done(error as FastifyError) : done(null, payload)));
  });

  const accountError = (error: unknown): never => {
    if (error instanceof AccountError) throw invalidParameter(error.message);
    throw error;
  };

  app.get('/health', async () => ({
    status: 'ok',
    version: options.version,
    uptimeSeconds: Math.round((Date.now() - core.startedAt) / 100) / 10,
    webhookTransport: core.webhooks.transport.kind,
    durability: core.db.durability,
  }));

  app.post('/reset', async (request, reply) => {
    const accountSid = optionalString(body(request.body), 'accountSid');
    if (accountSid && !core.accounts.get(accountSid)) throw twilioError('NotFound', { path: `/_emulator/accounts/${accountSid}` });
    core.reset(accountSid);
    return reply.code(204).send();
  });

  app.get('/snapshot', async (request) => takeSnapshot(core, optionalString(body(request.query), 'accountSid')));

  app.put('/snapshot', { bodyLimit: SNAPSHOT_BODY_LIMIT }, async (request, reply) => {
    loadSnapshot(core, request.body);
    return reply.code(204).send();
  });

  /** An account with its credentials, live and test (the operator's own API: tokens included). */
  const credentials = (account: Account) => ({
    accountSid: account.sid,
    authToken: account.authToken,
    defaultServiceSid: account.defaultServiceSid,
    testAccountSid: account.testAccountSid,
    testAuthToken: account.testAuthToken,
  });

  app.post('/accounts', async (request, reply) => {
    const b = body(request.body);
    try {
      const account = core.accounts.create({
        accountSid: optionalString(b, 'accountSid'),
        authToken: optionalString(b, 'authToken'),
        friendlyName: optionalString(b, 'friendlyName'),
        testAccountSid: optionalString(b, 'testAccountSid'),
        testAuthToken: optionalString(b, 'testAuthToken'),
      });
      return reply.code(201).send(credentials(account));
    } catch (error) {
      return accountError(error);
    }
  });

  app.get<{ Params: { accountSid: string } }>('/accounts/:accountSid', async (request) => {
    const account = core.accounts.get(request.params.accountSid);
    if (!account) throw twilioError('NotFound', { path: `/_emulator/accounts/${request.params.accountSid}` });
    return credentials(account);
  });

  app.get('/accounts', async () => ({
    accounts: core.accounts.list().map((a) => ({ accountSid: a.sid, friendlyName: a.friendlyName, defaultServiceSid: a.defaultServiceSid })),
  }));

  app.post<{ Params: { accountSid: string } }>('/accounts/:accountSid/keys', async (request, reply) => {
    if (!core.accounts.get(request.params.accountSid)) {
      throw twilioError('NotFound', { path: `/_emulator/accounts/${request.params.accountSid}` });
    }
    const key = core.accounts.createKey(request.params.accountSid, optionalString(body(request.body), 'friendlyName'));
    return reply.code(201).send({ sid: key.sid, secret: key.secret, friendlyName: key.friendlyName });
  });

  app.delete<{ Params: { accountSid: string; keySid: string } }>('/accounts/:accountSid/keys/:keySid', async (request, reply) => {
    if (!core.accounts.deleteKey(request.params.accountSid, request.params.keySid)) {
      throw twilioError('NotFound', { path: request.url });
    }
    return reply.code(204).send();
  });

  app.post('/push-bindings', async (request, reply) => {
    const b = body(request.body);
    const binding = core.createPushBinding({
      chatServiceSid: optionalString(b, 'chatServiceSid'),
      identity: optionalString(b, 'identity'),
      bindingType: optionalString(b, 'bindingType'),
      address: optionalString(b, 'address'),
      credentialSid: optionalString(b, 'credentialSid'),
      messageTypes: Array.isArray(b.messageTypes) ? b.messageTypes.map(String) : undefined,
    }, options.publicUrl ?? `${request.protocol}://${request.host}`);
    return reply.code(201).send(binding);
  });

  app.get('/webhooks/deliveries', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw invalidParameter('limit must be a positive integer');
    const format = q.format ?? 'json';
    if (format !== 'json' && format !== 'jsonl') throw invalidParameter(`format must be json or jsonl, got ${format}`);
    const deliveries = core.webhooks.journal({ eventType: q.eventType, conversationSid: q.conversationSid, state: q.status ?? q.state, limit });
    // jsonl: the input of `tce replay` (journal-jsonl.ts)
    if (format === 'jsonl') return reply.type('application/jsonl; charset=utf-8').send(journalJsonLines(deliveries));
    return { deliveries };
  });

  app.delete('/webhooks/deliveries', async (_request, reply) => {
    core.webhooks.clearJournal();
    return reply.code(204).send();
  });

  app.get('/requests', async (request) => {
    const filter = parseRequestLogFilter(request.query as Record<string, string | undefined>);
    return { requests: core.requestLog.list(filter), dropped: core.requestLog.dropped };
  });

  app.delete('/requests', async (_request, reply) => {
    core.requestLog.clear();
    return reply.code(204).send();
  });

  app.get('/faults/webhooks', async () => ({ rules: core.webhooks.faults.rules }));

  app.put('/faults/webhooks', async (request) => {
    core.webhooks.faults.rules = parseRules(request.body);
    return { rules: core.webhooks.faults.rules };
  });

  app.delete('/faults/webhooks', async (_request, reply) => {
    core.webhooks.faults.rules = [];
    return reply.code(204).send();
  });

  app.post('/inbound', async (request, reply) => {
    const result = await core.channel.inbound(body(request.body), options.publicUrl ?? `${request.protocol}://${request.host}`);
    return reply.code(201).send(result);
  });

  app.get<{ Params: { address: string } }>('/handsets/:address', async (request) => core.channel.handsets.get(request.params.address));

  app.put<{ Params: { address: string } }>('/handsets/:address', async (request) => {
    return core.channel.handsets.set(parseHandset(request.params.address, request.body));
  });

  app.post<{ Params: { address: string } }>('/handsets/:address/advance', async (request) => ({
    receipts: core.channel.advance(request.params.address).map(receiptView),
  }));

  // a number's incoming-message webhook (messaging/numbers.ts); the address URL-encoded, as for handsets
  app.get<{ Params: { address: string } }>('/numbers/:address', async (request) => core.channel.numbers.get(request.params.address));

  app.put<{ Params: { address: string } }>('/numbers/:address', async (request) => core.channel.numbers.set(request.params.address, request.body));

  app.delete<{ Params: { address: string } }>('/numbers/:address', async (request, reply) => {
    core.channel.numbers.delete(request.params.address);
    return reply.code(204).send();
  });

  app.get('/outbox', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    return { messages: core.channel.outbox({ to: q.to, from: q.from, conversationSid: q.conversationSid }) };
  });

  app.get('/opt-outs', async () => ({ optOuts: core.channel.optOuts() }));

  const senderPools = new SenderPools(core.db);
  app.get<{ Params: { sid: string } }>('/messaging-services/:sid/senders', async (request) => senderPools.get(request.params.sid));
  app.put<{ Params: { sid: string } }>('/messaging-services/:sid/senders', async (request) => senderPools.set(request.params.sid, request.body));

  app.get('/limits', async () => core.limits.current);

  app.put('/limits', async (request) => core.limits.set(parseLimits(request.body)));

  app.get('/faults/rest', async () => ({ rules: core.restFaults.rules }));

  app.put('/faults/rest', async (request) => {
    core.restFaults.rules = parseRestRules(request.body);
    return { rules: core.restFaults.rules };
  });

  app.delete('/faults/rest', async (_request, reply) => {
    core.restFaults.rules = [];
    return reply.code(204).send();
  });

  app.post('/clock', async (request) => {
    const b = body(request.body);
    // {"reset": true}: wall time again (real mode, no offset), before any other field of the body applies
    if (b.reset !== undefined) {
      if (b.reset !== true && b.reset !== 'true') throw invalidParameter('reset must be true');
      core.clock.reset();
    }
    const mode = b.mode;
    if (mode !== undefined) {
      if (mode !== 'real' && mode !== 'manual') throw invalidParameter("mode must be 'real' or 'manual'");
      core.clock.setMode(mode);
    }
    if (b.set !== undefined) {
      const ms = typeof b.set === 'string' ? parseDateTime(b.set) : undefined;
      if (ms === undefined) throw invalidParameter('set must be an ISO 8601 date-time');
      core.clock.set(ms);
    }
    if (b.advanceSeconds !== undefined) {
      const seconds = Number(b.advanceSeconds);
      if (!Number.isFinite(seconds) || seconds < 0) throw invalidParameter('advanceSeconds must be a number >= 0');
      core.clock.advance(seconds);
    }
    return { now: new Date(core.clock.now()).toISOString(), mode: core.clock.currentMode };
  });
}
