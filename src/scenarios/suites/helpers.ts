/** Steps the suites share: conversations with handsets, waiting for quiet, reading what Twilio sees. */
import { AssertionFailure, type ScenarioContext } from '../api.js';
import { PROXY } from '../consumer.js';
import type { OutboxMessage } from '../target.js';

const on = { xTwilioWebhookEnabled: 'true' } as const;

/** a conversation with one SMS (or WhatsApp) participant, created as an app would: webhooks on */
export async function conversationWith(ctx: ScenarioContext, handset: string, options: { proxy?: string; uniqueName?: string; attributes?: object } = {}) {
  const conversation = await ctx.target.client.conversations.v1.conversations.create({ friendlyName: `scenario ${handset}`, ...(options.uniqueName ? { uniqueName: options.uniqueName } : {}), ...on });
  const participant = await ctx.target.client.conversations.v1.conversations(conversation.sid).participants.create({
    'messagingBinding.address': handset,
    'messagingBinding.proxyAddress': options.proxy ?? PROXY,
    ...(options.attributes ? { attributes: JSON.stringify(options.attributes) } : {}),
    ...on,
  });
  return { conversationSid: conversation.sid, participantSid: participant.sid };
}

/** an agent's message, with webhooks on */
export async function agentSays(ctx: ScenarioContext, conversationSid: string, body: string) {
  return ctx.target.client.conversations.v1.conversations(conversationSid).messages.create({ author: 'agent', body, ...on });
}

/** the target owes no webhook and the consumer has applied what it accepted (checked twice in a row) */
export async function settle(ctx: ScenarioContext, timeoutMs = 10_000): Promise<void> {
  let quiet = 0;
  await ctx.target.waitFor(async () => {
    const done = (await ctx.target.settled()) && (await ctx.consumer.idle());
    quiet = done ? quiet + 1 : 0;
    return quiet >= 2;
  }, timeoutMs, 'the webhooks to be delivered and applied');
}

/** a send of this REST request log entry: Conversations message create or Messaging API create */
export const isSend = (r: { method: string; path: string }) => r.method === 'POST' && /\/Messages(\.json)?(\?|$)/.test(r.path);

export async function sendsSince(ctx: ScenarioContext, since: string) {
  return (await ctx.target.requests({ method: 'POST', since })).filter(isSend);
}

/** what reached the handset (or was attempted), by body */
export async function outboxTo(ctx: ScenarioContext, address: string, body?: string): Promise<OutboxMessage[]> {
  const all = await ctx.target.outbox({ to: address });
  return body === undefined ? all : all.filter((m) => m.body === body);
}

export const received = (m: OutboxMessage) => m.status !== 'failed' && m.status !== 'undelivered';

/** the conversations where this address is a participant (what Twilio knows, whoever created them) */
export async function conversationsOf(ctx: ScenarioContext, address: string) {
  return ctx.target.client.conversations.v1.participantConversations.list({ address, limit: 50 });
}

/** a consumer's send through its API, expected refused without a request to Twilio */
export async function expectRefusedSend(ctx: ScenarioContext, conversation: string, handset: string, what: string): Promise<void> {
  const since = new Date().toISOString();
  const body = `after ${what} ${ctx.random.int(1000, 9999)}`;
  const answer = await ctx.consumer.send(conversation, body);
  const sends = await sendsSince(ctx, since);
  if (answer.status < 400 || sends.length) {
    const outcome = (await outboxTo(ctx, handset, body)).map((m) => `${m.status}${m.errorCode ? ` ${m.errorCode}` : ''}`);
    throw new AssertionFailure(
      `after ${what}, the consumer's send to ${handset} answered ${answer.status} and ${sends.length} send(s) reached Twilio (${sends.map((s) => `${s.method} ${s.path} ${s.status}`).join(', ') || 'none'})` +
        `${outcome.length ? `; Twilio's outcome: ${outcome.join(', ')}` : ''}: the consumer did not suppress the address`,
      { conversationSid: conversation.startsWith('CH') ? conversation : undefined },
    );
  }
  ctx.expect.equal((await outboxTo(ctx, handset, body)).filter(received), [], `the handset ${handset} received the send after ${what}`);
}

/** a consumer's send through its API, expected to reach the handset */
export async function expectDeliveredSend(ctx: ScenarioContext, conversation: string, handset: string, what: string): Promise<void> {
  const body = `after ${what} ${ctx.random.int(1000, 9999)}`;
  const answer = await ctx.consumer.send(conversation, body);
  if (answer.status >= 300) throw new AssertionFailure(`after ${what}, the consumer refused a send to ${handset}: ${answer.status} ${JSON.stringify(answer.body)}`);
  await ctx.eventually(async () => {
    const got = await outboxTo(ctx, handset, body);
    ctx.expect.ok(got.some(received), `after ${what}, the handset ${handset} receives the consumer's send (outbox: ${JSON.stringify(got.map((m) => [m.status, m.errorCode]))})`);
  }, 5000);
}

export async function participantState(ctx: ScenarioContext, conversation: string, address: string) {
  const state = await ctx.consumer.state(conversation);
  return state?.participants.find((p) => p.address === address);
}
