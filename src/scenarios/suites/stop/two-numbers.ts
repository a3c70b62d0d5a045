/**
 * STOP as real Twilio sees it, with no control plane: the account's number B ("the customer") texts its number A
 * (the consumer's) through the Messaging API. Twilio's own opt-out acts on STOP (a Messaging send from A to B is
 * 400 / 21610 until START); the consumer must suppress B: its send is refused, or Twilio fails it 21610.
 * Everything here is read through Twilio's public REST API, so it runs on `--target twilio` and on the emulator.
 */
import { AssertionFailure, defineScenario, type ScenarioContext } from '../../api.js';
import { conversationsOf, participantState } from '../helpers.js';

/** Twilio delivers a real SMS in seconds, not milliseconds */
const SMS_MS = 30_000;

async function messageIn(ctx: ScenarioContext, conversationSid: string, body: string) {
  return (await ctx.target.client.conversations.v1.conversations(conversationSid).messages.list({ limit: 100 })).find((m) => m.body === body);
}

/** B texts A, and the text reaches a conversation of B's (the consumer's, or Twilio's own routing) */
async function text(ctx: ScenarioContext, body: string): Promise<string> {
  const { service, customer } = ctx.target.numbers!;
  await ctx.target.sendInbound(customer, service, body);
  return ctx.target.waitFor(async () => {
    for (const c of await conversationsOf(ctx, customer)) if (await messageIn(ctx, c.conversationSid, body)) return c.conversationSid;
    return undefined;
  }, SMS_MS, `${JSON.stringify(body)} from ${customer} to reach a conversation`);
}

/** a Messaging API send from A to B: undefined when accepted, else Twilio's error code */
async function twilioRefuses(ctx: ScenarioContext, body: string): Promise<number | undefined> {
  const { service, customer } = ctx.target.numbers!;
  return ctx.target.client.messages.create({ from: service, to: customer, body }).then(() => undefined, (e: { code?: number }) => e.code ?? -1);
}

/** the consumer's send (its API, or an agent's message when it has none) and what Twilio made of it */
async function consumerSend(ctx: ScenarioContext, conversationSid: string, body: string): Promise<{ refused: boolean; messageSid?: string; status: number; reason?: string }> {
  if (ctx.has('router-state')) {
    const answer = await ctx.consumer.send(conversationSid, body);
    if (answer.status >= 400) return { refused: true, status: answer.status, reason: JSON.stringify(answer.body) };
    const posted = await ctx.target.waitFor(() => messageIn(ctx, conversationSid, body), 10_000, `the consumer's send ${JSON.stringify(body)} to reach Twilio`);
    return { refused: false, messageSid: posted.sid, status: answer.status };
  }
  const message = await ctx.target.client.conversations.v1.conversations(conversationSid).messages.create({ author: 'agent', body, xTwilioWebhookEnabled: 'true' });
  return { refused: false, messageSid: message.sid, status: 201 };
}

async function receipts(ctx: ScenarioContext, conversationSid: string, messageSid: string) {
  return ctx.target.client.conversations.v1.conversations(conversationSid).messages(messageSid).deliveryReceipts.list({ limit: 20 });
}

export const stopTwoNumbers = defineScenario({
  name: 'STOP from the customer number suppresses; START lifts it',
  suite: 'stop',
  tags: ['compliance', 'sms', 'two-numbers'],
  needs: ['two-numbers'],
  description: "B texts A over the Messaging API (no control plane): after STOP, Twilio refuses A → B (21610) and the consumer's send is refused or fails 21610; after START both go through",
  async run(ctx) {
    const { customer } = ctx.target.numbers!;
    if (!ctx.has('router-state')) ctx.note("the consumer has no API: its sends are an agent's messages, checked at Twilio");
    const tag = ctx.random.int(1000, 9999);
    const first = await text(ctx, `hello ${tag}`);
    ctx.log(`${customer} opened ${first}`);

    const stopped = await text(ctx, 'STOP');
    if (ctx.has('router-state')) {
      await ctx.eventually(async () => {
        // the participant must be there: a state that has not seen it yet has not seen the STOP either
        const p = await participantState(ctx, stopped, customer);
        ctx.expect.ok(p !== undefined && (p.suppressed || p.removed), `after STOP, the consumer's state shows ${customer} suppressed or removed (got ${JSON.stringify(p)})`);
      }, 10_000);
    }
    ctx.expect.equal(await twilioRefuses(ctx, `twilio after STOP ${tag}`), 21610, `after STOP, a Messaging API send to ${customer}: Twilio's error code`);

    const after = `after STOP ${tag}`;
    const sent = await consumerSend(ctx, stopped, after);
    ctx.log(`the consumer's send after STOP: ${sent.refused ? `refused ${sent.status}` : `accepted ${sent.status} as ${sent.messageSid}`}`);
    if (sent.refused) {
      ctx.expect.equal(await messageIn(ctx, stopped, after), undefined, `a refused send after STOP reached Twilio's conversation ${stopped}`);
    } else {
      await ctx.eventually(async () => {
        const got = await receipts(ctx, stopped, sent.messageSid!);
        if (!got.some((r) => r.status === 'failed' && r.errorCode === 21610)) {
          throw new AssertionFailure(`after STOP, the consumer's send ${sent.messageSid} went out: receipts ${JSON.stringify(got.map((r) => [r.status, r.errorCode]))}, not failed 21610`, { conversationSid: stopped });
        }
      }, SMS_MS);
    }

    // START may reach no conversation (a consumer that removed B on STOP takes it as a keyword only)
    await ctx.target.sendInbound(customer, ctx.target.numbers!.service, 'START');
    let n = 0;
    await ctx.eventually(async () => ctx.expect.equal(await twilioRefuses(ctx, `twilio after START ${tag} ${++n}`), undefined, `after START, a Messaging API send to ${customer} is refused with`), SMS_MS);
    const live = await text(ctx, `back again ${tag}`);
    if (ctx.has('router-state')) {
      await ctx.eventually(async () => {
        // the participant removed on STOP stays in the state, removed; START's is another
        const all = (await ctx.consumer.state(live))?.participants.filter((p) => p.address === customer) ?? [];
        ctx.expect.ok(all.some((p) => !p.suppressed && !p.removed), `after START, ${customer} is a live, unsuppressed participant in ${live} (got ${JSON.stringify(all)})`);
      }, 10_000);
    }
    const again = await consumerSend(ctx, live, `after START ${tag}`);
    ctx.expect.ok(!again.refused, `after START, the consumer refused its send to ${customer} (${again.status} ${again.reason ?? ''})`);
    await ctx.eventually(async () => {
      const got = await receipts(ctx, live, again.messageSid!);
      ctx.expect.ok(got.length > 0 && got.every((r) => r.status !== 'failed' && r.status !== 'undelivered'), `after START, the consumer's send reaches ${customer}: receipts ${JSON.stringify(got.map((r) => [r.status, r.errorCode]))}`);
    }, SMS_MS);
  },
});
