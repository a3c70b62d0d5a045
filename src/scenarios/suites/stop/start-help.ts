/** START lifts a STOP; HELP is answered and suppresses nothing; a STOP counts in every conversation on that sender. */
import { defineScenario } from '../../api.js';
import { PROXY } from '../../consumer.js';
import { conversationsOf, conversationWith, expectDeliveredSend, expectRefusedSend, outboxTo, participantState, settle } from '../helpers.js';

export const startLifts = defineScenario({
  name: 'START lifts the suppression',
  suite: 'stop',
  tags: ['compliance', 'sms'],
  needs: ['control-plane', 'router-state'],
  description: 'STOP, START, then a new message: the consumer sends again and the handset receives it',
  async run(ctx) {
    const handset = ctx.number();
    await ctx.target.sendInbound(handset, PROXY, 'hello');
    const conversationSid = await ctx.target.waitFor(async () => (await conversationsOf(ctx, handset))[0]?.conversationSid, 5000, `the consumer to open a conversation for ${handset}`);
    await settle(ctx);
    await ctx.target.sendInbound(handset, PROXY, 'STOP');
    await settle(ctx);
    await expectRefusedSend(ctx, conversationSid, handset, 'STOP');
    await ctx.target.sendInbound(handset, PROXY, 'START');
    await settle(ctx);
    await ctx.target.sendInbound(handset, PROXY, 'back again');
    await settle(ctx);
    const live = await ctx.target.waitFor(async () => (await conversationsOf(ctx, handset))[0]?.conversationSid, 5000, `${handset} to be a participant again`);
    await expectDeliveredSend(ctx, live, handset, 'START');
  },
});

export const helpReplies = defineScenario({
  name: 'HELP replies without suppressing',
  suite: 'stop',
  tags: ['compliance', 'sms'],
  needs: ['control-plane', 'router-state'],
  description: 'a reply goes to the handset; the next send still reaches it',
  async run(ctx) {
    const handset = ctx.number();
    const { conversationSid } = await conversationWith(ctx, handset);
    await settle(ctx);
    await ctx.target.sendInbound(handset, PROXY, 'HELP');
    await settle(ctx);
    await ctx.eventually(async () => ctx.expect.ok((await outboxTo(ctx, handset)).some((m) => m.direction !== 'inbound'), `HELP from ${handset} gets a reply`), 5000);
    const p = await participantState(ctx, conversationSid, handset);
    ctx.expect.ok(p !== undefined && !p.suppressed, `HELP leaves ${handset} unsuppressed (got ${JSON.stringify(p)})`);
    await expectDeliveredSend(ctx, conversationSid, handset, 'HELP');
  },
});

export const stopEverywhere = defineScenario({
  name: 'STOP in one conversation suppresses every conversation on that sender',
  suite: 'stop',
  tags: ['compliance', 'sms'],
  needs: ['control-plane', 'router-state'],
  description: 'an older (closed) conversation with the same handset and sender is suppressed too',
  async run(ctx) {
    const handset = ctx.number();
    const older = await conversationWith(ctx, handset);
    await ctx.target.client.conversations.v1.conversations(older.conversationSid).update({ state: 'closed', xTwilioWebhookEnabled: 'true' });
    const current = await conversationWith(ctx, handset);
    await settle(ctx);
    await ctx.target.sendInbound(handset, PROXY, 'STOP');
    await settle(ctx);
    for (const { conversationSid } of [current, older]) {
      const p = await participantState(ctx, conversationSid, handset);
      ctx.expect.ok(p?.suppressed === true, `after STOP in ${current.conversationSid}, ${handset} is suppressed in ${conversationSid} (got ${JSON.stringify(p)})`);
      await expectRefusedSend(ctx, conversationSid, handset, `STOP in ${current.conversationSid}`);
    }
  },
});
