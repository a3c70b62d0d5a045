/**
 * Small real webhook consumers (fastify + the twilio SDK) for proving that each scenario suite can fail: a sound
 * one, and four each with one classic flaw. They receive the emulator's signed webhooks (checked with
 * twilio.validateRequest), act through the SDK, and serve the consumer contract the scenarios use: the webhook
 * paths, `POST /api/messages`, and (when `stateApi`) the router's state API.
 */
import Fastify from 'fastify';
import twilio from 'twilio';
import { emulatorHttpClient } from '../../src/client.js';
import { CONSUMER_PATHS, TEMPLATE_SID, WHATSAPP_PROXY } from '../../src/scenarios/consumer.js';

export interface Flaws {
  /** keeps no idempotency token, so a duplicate is applied again; inbound is handled naively (no UniqueName, acked first) */
  noDedupe?: boolean;
  /** takes no notice of STOP: keeps sending */
  ignoresStop?: boolean;
  /** a receipt's status is whatever came last (a late `delivered` overwrites `read`, a `read` overwrites `failed`) */
  overwritesRead?: boolean;
  /** falls back again whenever a send fails, the fallback's own failure included */
  loopsOnFailure?: boolean;
  /** serves GET /api/conversations/{id}/state and /api/suppressions */
  stateApi?: boolean;
}

export interface BrokenConsumer {
  url: string;
  apiToken: string;
  close(): Promise<void>;
}

const STOP = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
const START = new Set(['START', 'YES', 'UNSTOP']);
const RANK: Record<string, number> = { queued: 0, sent: 1, delivered: 2, read: 3, failed: 4, undelivered: 4 };
const CARRIER = new Set([30003, 30005, 30006, 30007, 21610, 63016]);

interface Participant { sid: string; conversationSid: string; address: string | null; proxy: string | null; attributes: any; removed: boolean; reachable: boolean; lastErrorCode: number | null }
interface Message { sid: string; conversationSid: string; index: number; author: string; body: string; delivery: Record<string, string> }

export async function startConsumer(options: { twilioUrl: string; accountSid: string; authToken: string; flaws?: Flaws }): Promise<BrokenConsumer> {
  const flaws = options.flaws ?? {};
  const apiToken = 'consumer-token';
  const client = twilio(options.accountSid, options.authToken, { httpClient: emulatorHttpClient(options.twilioUrl) });
  const seen = new Set<string>();
  const conversations = new Map<string, { sid: string; uniqueName: string | null }>();
  const participants = new Map<string, Participant>();
  const messages: Message[] = [];
  const suppressed = new Set<string>();
  const fellBack = new Map<string, number>();
  const fallbackOf = new Map<string, Participant>();
  const lanes = new Map<string, Promise<unknown>>();
  let backlog = 0;
  let base = '';

  const key = (address: string | null, proxy: string | null) => `${address}|${proxy}`;
  const app = Fastify();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  const signed = (request: { headers: Record<string, unknown>; url: string; body: unknown }) =>
    twilio.validateRequest(options.authToken, String(request.headers['x-twilio-signature'] ?? ''), base + request.url, request.body as Record<string, string>);
  /** false: a duplicate to ignore */
  const firstTime = (token: unknown) => {
    if (flaws.noDedupe || !token) return true;
    if (seen.has(String(token))) return false;
    seen.add(String(token));
    return true;
  };
  /** one inbound sender at a time, as a queue per key would */
  const lane = <T>(k: string, work: () => Promise<T>): Promise<T> => {
    const next = (lanes.get(k) ?? Promise.resolve()).then(work, work);
    lanes.set(k, next.catch(() => undefined));
    return next;
  };

  async function fallBack(p: Participant): Promise<void> {
    const to = p.attributes?.fallback?.whatsapp as string | undefined;
    if (!to) return;
    const count = fellBack.get(p.sid) ?? 0;
    if (count >= (flaws.loopsOnFailure ? 4 : 1)) return;
    fellBack.set(p.sid, count + 1);
    fallbackOf.set(to, p);
    await client.messages.create({ from: WHATSAPP_PROXY, to, contentSid: TEMPLATE_SID, statusCallback: base + CONSUMER_PATHS.status });
  }

  app.post(CONSUMER_PATHS.webhook, async (request, reply) => {
    if (!signed(request)) return reply.code(403).send();
    const p = request.body as Record<string, string>;
    if (!firstTime(request.headers['i-twilio-idempotency-token'])) return reply.send();
    switch (p.EventType) {
      case 'onConversationAdded':
        conversations.set(p.ConversationSid, { sid: p.ConversationSid, uniqueName: p.UniqueName || null });
        break;
      case 'onParticipantAdded':
        participants.set(p.ParticipantSid, {
          sid: p.ParticipantSid, conversationSid: p.ConversationSid, address: p['MessagingBinding.Address'] || null, proxy: p['MessagingBinding.ProxyAddress'] || null,
          attributes: JSON.parse(p.Attributes || '{}'), removed: false, reachable: true, lastErrorCode: null,
        });
        break;
      case 'onParticipantRemoved': {
        const found = participants.get(p.ParticipantSid);
        if (found) found.removed = true;
        break;
      }
      case 'onMessageAdded': {
        messages.push({ sid: p.MessageSid, conversationSid: p.ConversationSid, index: Number(p.Index), author: p.Author, body: p.Body, delivery: {} });
        const word = (p.Body ?? '').trim().toUpperCase();
        const author = [...participants.values()].find((x) => x.sid === p.ParticipantSid);
        if (author && !flaws.ignoresStop && (p.Source === 'SMS' || p.Source === 'WHATSAPP')) {
          if (STOP.has(word)) suppressed.add(key(author.address, author.proxy));
          if (START.has(word)) suppressed.delete(key(author.address, author.proxy));
        }
        break;
      }
      case 'onDeliveryUpdated': {
        const m = messages.find((x) => x.sid === p.MessageSid);
        if (m) {
          const old = m.delivery[p.ParticipantSid];
          if (flaws.overwritesRead || old === undefined || RANK[p.Status] > RANK[old]) m.delivery[p.ParticipantSid] = p.Status;
        }
        const code = Number(p.ErrorCode);
        const participant = participants.get(p.ParticipantSid);
        if (participant && (p.Status === 'failed' || p.Status === 'undelivered') && CARRIER.has(code)) {
          participant.reachable = false;
          participant.lastErrorCode = code;
          await fallBack(participant);
        }
        break;
      }
    }
    return reply.send();
  });

  app.post(CONSUMER_PATHS.status, async (request, reply) => {
    if (!signed(request)) return reply.code(403).send();
    const p = request.body as Record<string, string>;
    // the flaw: a failed fallback is just another failure, so it falls back again
    if (flaws.loopsOnFailure && (p.MessageStatus === 'failed' || p.MessageStatus === 'undelivered')) {
      const owner = fallbackOf.get(p.To);
      if (owner) await fallBack(owner);
    }
    return reply.send();
  });

  async function routeInbound(p: Record<string, string>): Promise<void> {
    const from = p.From;
    const word = (p.Body ?? '').trim().toUpperCase();
    if (!flaws.ignoresStop && STOP.has(word)) suppressed.add(key(from, p.To));
    if (!flaws.ignoresStop && START.has(word)) suppressed.delete(key(from, p.To));
    if (flaws.noDedupe) {
      // naive: look the sender up, create a conversation when there is none (no UniqueName), add, post
      const existing = await client.conversations.v1.participantConversations.list({ address: from, limit: 20 });
      let sid = existing[0]?.conversationSid;
      if (!sid) {
        sid = (await client.conversations.v1.conversations.create({ friendlyName: from })).sid;
        await client.conversations.v1.conversations(sid).participants.create({ 'messagingBinding.address': from, 'messagingBinding.proxyAddress': p.To }).catch(() => undefined);
      }
      await client.conversations.v1.conversations(sid).messages.create({ author: from, body: p.Body });
      return;
    }
    const uniqueName = `${from.startsWith('whatsapp:') ? '' : 'sms:'}${from}`;
    const conversation = await client.conversations.v1.conversations.create({ uniqueName, friendlyName: uniqueName, xTwilioWebhookEnabled: 'true' })
      .catch(async (e: { code?: number }) => {
        if (e.code !== 50353) throw e;
        return client.conversations.v1.conversations(uniqueName).fetch();
      });
    await client.conversations.v1.conversations(conversation.sid).participants
      .create({ 'messagingBinding.address': from, 'messagingBinding.proxyAddress': p.To, xTwilioWebhookEnabled: 'true' })
      .catch((e: { code?: number }) => {
        if (e.code !== 50416 && e.code !== 50433) throw e;
      });
    await client.conversations.v1.conversations(conversation.sid).messages.create({ author: from, body: p.Body, xTwilioWebhookEnabled: 'true' });
  }

  app.post(CONSUMER_PATHS.inbound, async (request, reply) => {
    if (!signed(request)) return reply.code(403).send();
    const p = request.body as Record<string, string>;
    reply.type('text/xml');
    if (!firstTime(request.headers['i-twilio-idempotency-token'] ?? p.MessageSid)) return reply.send('<Response/>');
    if (flaws.noDedupe) {
      // acknowledged first, handled after: the classic "answer fast" consumer
      backlog++;
      void routeInbound(p).catch(() => undefined).finally(() => backlog--);
      return reply.send('<Response/>');
    }
    await lane(p.From, () => routeInbound(p));
    return reply.send('<Response/>');
  });

  const authorized = (request: { headers: Record<string, unknown> }) => request.headers.authorization === `Bearer ${apiToken}`;
  const conversationOf = async (id: string) => {
    const known = [...conversations.values()].find((c) => c.sid === id || c.uniqueName === id);
    if (known) return known.sid;
    return (await client.conversations.v1.conversations(id).fetch().catch(() => undefined))?.sid;
  };

  app.post('/api/messages', async (request, reply) => {
    if (!authorized(request)) return reply.code(401).send({ error: 'unauthorized' });
    const b = (request.body ?? {}) as { conversation?: string; body?: string };
    if (!b.conversation || !b.body) return reply.code(400).send({ error: 'invalid_request' });
    const sid = await conversationOf(b.conversation);
    if (!sid) return reply.code(404).send({ error: 'not_found' });
    const live = await client.conversations.v1.conversations(sid).participants.list();
    const known = [...participants.values()].filter((p) => p.conversationSid === sid);
    for (const p of [...known, ...live.map((x) => ({ address: (x.messagingBinding as any)?.address ?? null, proxy: (x.messagingBinding as any)?.proxy_address ?? null, reachable: true }))]) {
      if (!flaws.ignoresStop && suppressed.has(key(p.address, p.proxy))) return reply.code(422).send({ error: 'suppressed' });
      if (!p.reachable) return reply.code(422).send({ error: 'unreachable' });
    }
    const message = await client.conversations.v1.conversations(sid).messages.create({ author: 'agent', body: b.body, xTwilioWebhookEnabled: 'true' });
    return reply.code(201).send({ sid: message.sid });
  });

  app.get('/stats', async () => ({ depth: backlog }));

  if (flaws.stateApi) {
    app.get('/api/suppressions', async (request, reply) => {
      if (!authorized(request)) return reply.code(401).send({ error: 'unauthorized' });
      return { suppressions: [...suppressed].map((k) => ({ address: k.split('|')[0], sender: k.split('|')[1] })) };
    });
    app.get<{ Params: { id: string } }>('/api/conversations/:id/state', async (request, reply) => {
      if (!authorized(request)) return reply.code(401).send({ error: 'unauthorized' });
      const conversation = [...conversations.values()].find((c) => c.sid === request.params.id || c.uniqueName === request.params.id);
      if (!conversation) return reply.code(404).send({ error: 'not_found' });
      return {
        conversation: { sid: conversation.sid, uniqueName: conversation.uniqueName, state: null, attributes: null, removed: false },
        participants: [...participants.values()].filter((p) => p.conversationSid === conversation.sid).map((p) => ({
          sid: p.sid, address: p.address, proxyAddress: p.proxy, reachable: p.reachable, suppressed: !flaws.ignoresStop && suppressed.has(key(p.address, p.proxy)), lastErrorCode: p.lastErrorCode, removed: p.removed,
        })),
        messages: messages.filter((m) => m.conversationSid === conversation.sid).sort((a, b) => a.index - b.index)
          .map((m) => ({ sid: m.sid, index: m.index, author: m.author, body: m.body, delivery: m.delivery })),
      };
    });
  }

  base = await app.listen({ port: 0, host: '127.0.0.1' });
  base = base.replace('localhost', '127.0.0.1');
  return { url: base, apiToken, close: () => app.close() };
}
