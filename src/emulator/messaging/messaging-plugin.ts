/**
 * Programmable Messaging (api.twilio.com/2010-04-01): send, fetch, list and delete Messages of the simulated
 * SMS / WhatsApp channel. Sending goes through the channel service (handsets, status callbacks, opt-outs, the
 * WhatsApp window); this plugin only checks parameters, answers in the 2010 format and pages the 2010 way.
 * It serves the account's own phone numbers too (IncomingPhoneNumbers, incoming-phone-numbers.ts).
 * Registered under the /2010-04-01 prefix with its own Basic auth hook, like the /v1 plugin.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Account } from '../accounts.js';
import type { EmulatorCore } from '../core.js';
import { notFound } from '../http/error-handler.js';
import type { RawParams } from '../http/form.js';
import { guardRequests } from '../http/auth.js';
import { isHttpUrl } from '../wire/url.js';
import type { Row, SqlValue } from '../store/database.js';
import { parseDateTime } from '../wire/dates.js';
import { invalidParameter, TwilioError, twilioError } from '../wire/errors.js';
import { listPage } from './list-page.js';
import { newSid } from '../wire/sid.js';
import { API_VERSION, representMessage } from './representation.js';
import { channelAddress, validSender } from './addresses.js';
import { SenderPools } from './senders.js';
import { IncomingPhoneNumbers, representNumber } from './incoming-phone-numbers.js';
import { testSendError } from './test-credentials.js';
import { paramsOf } from '../http/form.js';
import { many, one, type Params } from './params.js';

export interface MessagingOptions {
  core: EmulatorCore;
  /** the emulator's public base URL, when set (`--public-url`), for URLs in the webhooks a send causes */
  publicUrl?: string;
}

const MAX_BODY = 1600;
const DAY_MS = 86_400_000;

// Routes carry the operationIds of Twilio's 2010 spec (api_v2010.yaml), for fault rules and the request log.
const MESSAGES = '/Accounts/:AccountSid/Messages.json';
const MESSAGE = '/Accounts/:AccountSid/Messages/:Sid.json';
const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/[^/]+\/Messages\.json$/;
const NUMBERS = '/Accounts/:AccountSid/IncomingPhoneNumbers.json';
const NUMBER = '/Accounts/:AccountSid/IncomingPhoneNumbers/:Sid.json';
const SERVED = [
  MESSAGES_PATH,
  /^\/2010-04-01\/Accounts\/[^/]+\/Messages\/[^/]+\.json$/,
  /^\/2010-04-01\/Accounts\/[^/]+\/IncomingPhoneNumbers(\/[^/]+)?\.json$/,
];

/**
 * DateSent filters. A bare date means that whole GMT day (`DateSent<` on and before it, `DateSent>` on and
 * after it); a date-time (twilio-node sends `YYYY-MM-DDTHH:MM:SSZ`) means that day for `DateSent` and the
 * instant itself for the bounds.
 */
function dateFilters(params: Params): { where: string[]; args: SqlValue[] } {
  const where: string[] = [];
  const args: SqlValue[] = [];
  const parse = (name: string): { at: number; dayOnly: boolean } | undefined => {
    const raw = one(params, name);
    if (raw === undefined) return undefined;
    const text = raw.trim();
    const dayOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
    const at = parseDateTime(text) ?? (/[A-Za-z]{3},? /.test(text) ? Date.parse(text) : NaN);
    if (at === undefined || Number.isNaN(at)) throw invalidParameter(`Invalid ${name}: ${raw}. Use YYYY-MM-DD or an ISO-8601 date-time`);
    return { at, dayOnly };
  };
  const exact = parse('DateSent');
  if (exact) {
    const day = Math.floor(exact.at / DAY_MS) * DAY_MS;
    where.push('date_sent >= ?', 'date_sent < ?');
    args.push(day, day + DAY_MS);
  }
  const before = parse('DateSent<');
  if (before) {
    where.push(before.dayOnly ? 'date_sent < ?' : 'date_sent <= ?');
    args.push(before.dayOnly ? before.at + DAY_MS : before.at);
  }
  const after = parse('DateSent>');
  if (after) {
    where.push('date_sent >= ?');
    args.push(after.at);
  }
  return { where, args };
}

export async function messagingPlugin(app: FastifyInstance, options: MessagingOptions): Promise<void> {
  const { core } = options;
  const senderPools = new SenderPools(core.db);
  const numbers = new IncomingPhoneNumbers(core);


  // An account's test credentials may only send (twilio.com/docs/iam/test-credentials); the rest is 403 / 20008.
  guardRequests(app, core, (request) => request.method === 'POST' && MESSAGES_PATH.test(request.url.split('?')[0]));

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    if (!SERVED.some((re) => re.test(path))) return notFound(request, reply);
    const error = twilioError('MethodNotAllowed', { method: request.method, path });
    return reply.code(error.status).send(error.toJSON());
  });

  /** The authenticated account, when the path names it; another account's path is a 404 like any unknown one. */
  const accountOf = (request: FastifyRequest): Account => {
    const account = request.account as Account;
    const own = account.testCredentials ? account.testAccountSid : account.sid;
    if ((request.params as { AccountSid: string }).AccountSid !== own) throw twilioError('NotFound', { path: request.url.split('?')[0] });
    return account;
  };

  /** Answer once pending writes are committed: an acknowledged write is a stored write. */
  const answer = (reply: FastifyReply, status: number, body?: unknown) => {
    if (!core.db.pending) reply.code(status).send(body);
    else core.db.whenCommitted((error) => (error ? reply.send(error) : reply.code(status).send(body)));
  };

  const findRow = (request: FastifyRequest, account: Account): Row => {
    const sid = (request.params as { Sid: string }).Sid;
    const row = core.db.get('SELECT * FROM channel_messages WHERE sid = ? AND account_sid = ?', sid, account.sid);
    if (!row) throw twilioError('NotFound', { path: request.url.split('?')[0] });
    return row;
  };

  app.post(MESSAGES, { config: { operationId: 'CreateMessage' } }, (request, reply) => {
    const account = accountOf(request);
    const params = paramsOf(request.body);
    const to = one(params, 'To');
    const from = one(params, 'From');
    const messagingServiceSid = one(params, 'MessagingServiceSid');
    const body = params.Body === undefined ? undefined : (Array.isArray(params.Body) ? params.Body[params.Body.length - 1] : params.Body);
    const media = many(params, 'MediaUrl');
    const contentSid = one(params, 'ContentSid');
    const statusCallback = one(params, 'StatusCallback');

    if (to === undefined) throw twilioError('MessagingToRequired');
    if (from === undefined && messagingServiceSid === undefined) throw twilioError('MessagingFromRequired');
    if ((body === undefined || body === '') && media.length === 0 && contentSid === undefined) throw twilioError('MessagingBodyRequired');
    const target = channelAddress(to);
    if (target.problem) throw twilioError('MessagingInvalidTo', { to });
    if (from !== undefined) {
      if (!validSender(from)) throw twilioError('MessagingInvalidFrom', { from });
      if (from.startsWith('whatsapp:') !== (target.channel === 'whatsapp')) throw twilioError('MessagingChannelMismatch');
    }
    if (body !== undefined && [...body].length > MAX_BODY) throw twilioError('MessagingBodyTooLong', { limit: MAX_BODY });
    if (media.some((u) => !isHttpUrl(u))) throw twilioError('MessagingInvalidMediaUrl');
    if (messagingServiceSid !== undefined && !/^MG[0-9a-fA-F]{32}$/.test(messagingServiceSid)) throw invalidParameter(`Invalid MessagingServiceSid: ${messagingServiceSid}`);
    if (contentSid !== undefined && !/^HX[0-9a-fA-F]{32}$/.test(contentSid)) throw invalidParameter(`Invalid ContentSid: ${contentSid}`);
    if (statusCallback !== undefined && !isHttpUrl(statusCallback)) throw invalidParameter(`Invalid StatusCallback: ${statusCallback}`);
    if (account.testCredentials) {
      const refused = testSendError({ to, from, messagingServiceSid });
      if (refused) throw refused;
      answer(reply, 201, representMessage(testMessageRow(account, { to, from: from as string, body, media, contentSid })));
      return;
    }
    // A Messaging Service picks its sender (senders.ts) after answering; `from` shows it from `queued` on.
    const sender = from ?? senderPools.pick(messagingServiceSid as string, to);
    // Twilio refuses a send to a handset that texted STOP to this sender, at once and without storing it.
    if (core.channel.optedOut(account.sid, to, sender)) throw twilioError('MessagingUnsubscribed');

    // the send and its answer are one transaction: an answer that cannot be built stores no message
    const sent = core.db.transaction(() => representMessage(core.channel.send(account, {
      to,
      from: sender,
      accepted: from === undefined,
      body: body ?? null,
      media,
      contentSid: contentSid ?? null,
      messagingServiceSid: messagingServiceSid ?? null,
      statusCallback: statusCallback ?? null,
      baseUrl: options.publicUrl ?? `${request.protocol}://${request.host}`,
    })));
    answer(reply, 201, sent);
  });

  /** What a successful test-credential send describes: `queued`, under the test AccountSid, stored nowhere. */
  const testMessageRow = (account: Account, input: { to: string; from: string; body: string | undefined; media: string[]; contentSid: string | undefined }): Row => {
    const now = core.clock.now();
    return {
      sid: newSid(input.media.length ? 'MM' : 'SM', core.random),
      account_sid: account.testAccountSid,
      direction: 'outbound-api',
      to_address: input.to,
      from_address: input.from,
      messaging_service_sid: null,
      body: input.body ?? null,
      media: input.media.length ? JSON.stringify(input.media) : null,
      content_sid: input.contentSid ?? null,
      status: 'queued',
      error_code: null,
      date_created: now,
      date_updated: now,
      date_sent: null,
    };
  };

  app.get(MESSAGE, { config: { operationId: 'FetchMessage' } }, (request, reply) => {
    const account = accountOf(request);
    answer(reply, 200, representMessage(findRow(request, account)));
  });

  app.delete(MESSAGE, { config: { operationId: 'DeleteMessage' } }, (request, reply) => {
    const account = accountOf(request);
    const row = findRow(request, account);
    core.db.transaction(() => {
      core.db.run('DELETE FROM channel_messages WHERE seq = ?', row.seq);
      // a page token naming the deleted message keeps working (store/paging.ts)
      core.db.run('INSERT OR REPLACE INTO page_anchors (sid, seq) VALUES (?, ?)', row.sid, row.seq);
    });
    answer(reply, 204);
  });

  app.get(MESSAGES, { config: { operationId: 'ListMessage' } }, (request, reply) => {
    const account = accountOf(request);
    const params = paramsOf(request.query);
    const where = ['account_sid = ?'];
    const args: SqlValue[] = [account.sid];
    const filters: [string, string][] = [];
    for (const name of ['To', 'From']) {
      const value = one(params, name);
      if (value === undefined) continue;
      where.push(name === 'To' ? 'to_address = ?' : 'from_address = ?');
      args.push(value);
    }
    const dates = dateFilters(params);
    where.push(...dates.where);
    args.push(...dates.args);
    // filters echo in page URIs in the order they were given
    for (const name of Object.keys(params)) {
      if (!['To', 'From', 'DateSent', 'DateSent<', 'DateSent>'].includes(name)) continue;
      const v = one(params, name);
      if (v !== undefined) filters.push([name, v]);
    }

    // newest first, as Twilio lists messages
    answer(reply, 200, listPage(core.db, {
      params, table: 'channel_messages', where, args, filters, listUrl: `/${API_VERSION}/Accounts/${account.sid}/Messages.json`,
      key: 'messages', order: 'desc', represent: representMessage,
    }));
  });

  // ---- IncomingPhoneNumbers: the account's own numbers (incoming-phone-numbers.ts) ----------------------------

  const pathOf = (request: FastifyRequest) => request.url.split('?')[0];
  const numberSid = (request: FastifyRequest) => (request.params as { Sid: string }).Sid;

  app.post(NUMBERS, { config: { operationId: 'CreateIncomingPhoneNumber' } }, (request, reply) => {
    const account = accountOf(request);
    answer(reply, 201, representNumber(numbers.create(account, paramsOf(request.body))));
  });

  app.get(NUMBERS, { config: { operationId: 'ListIncomingPhoneNumber' } }, (request, reply) => {
    const account = accountOf(request);
    answer(reply, 200, numbers.list(account, paramsOf(request.query)));
  });

  app.get(NUMBER, { config: { operationId: 'FetchIncomingPhoneNumber' } }, (request, reply) => {
    const account = accountOf(request);
    answer(reply, 200, representNumber(numbers.find(account, numberSid(request), pathOf(request))));
  });

  app.post(NUMBER, { config: { operationId: 'UpdateIncomingPhoneNumber' } }, (request, reply) => {
    const account = accountOf(request);
    answer(reply, 200, representNumber(numbers.update(account, numberSid(request), paramsOf(request.body), pathOf(request))));
  });

  app.delete(NUMBER, { config: { operationId: 'DeleteIncomingPhoneNumber' } }, (request, reply) => {
    const account = accountOf(request);
    numbers.delete(account, numberSid(request), pathOf(request));
    answer(reply, 204);
  });
}
