/** First inbound messages from many senders, their webhooks duplicated, failed and delayed: each posted once. */
import { AssertionFailure, defineScenario } from '../../api.js';
import { PROXY } from '../../consumer.js';
import type { WebhookFaultRule } from '../../target.js';
import { conversationsOf, outboxTo, settle } from '../helpers.js';
import { aimWebhooks } from '../../runner.js';

export const inboundOnce = defineScenario({
  name: 'inbound webhooks duplicated, failed and delayed post each message once',
  suite: 'ordering',
  tags: ['webhooks', 'inbound', 'dedupe'],
  needs: ['control-plane', 'webhook-faults'],
  description: "what Twilio sees: one conversation, one participant and one message per sender, nothing echoed",
  async run(ctx) {
    const rules: WebhookFaultRule[] = [
      { match: { eventType: 'messaging.inbound' }, times: 4, action: { type: 'duplicate', count: 9 } },
      { match: { eventType: 'messaging.inbound' }, times: 2, action: { type: 'fail', status: 500 } },
      { match: { eventType: 'messaging.inbound' }, action: { type: 'delay', lognormal: { medianMs: ctx.random.int(5, 20), sigma: 1 } } },
    ];
    ctx.log('webhook faults', rules);
    await ctx.target.injectWebhookFaults(rules);
    await aimWebhooks(ctx.target, ctx.consumer, '#rc=3&rp=5xx');
    const senders = Array.from({ length: 8 }, () => ctx.number());
    await Promise.all(senders.map((from, i) => ctx.target.sendInbound(from, PROXY, `first message ${i}`)));
    await settle(ctx, 15_000);
    for (const [i, from] of senders.entries()) {
      const conversations = await ctx.eventually(async () => {
        const found = await conversationsOf(ctx, from);
        ctx.expect.ok(found.length > 0, `a conversation for ${from}`);
        return found;
      }, 5000);
      if (conversations.length !== 1) throw new AssertionFailure(`${from}: one conversation, got ${conversations.length}`);
      const sid = conversations[0].conversationSid;
      const messages = await ctx.target.client.conversations.v1.conversations(sid).messages.list({ limit: 50 });
      const bodies = messages.map((m) => m.body);
      if (JSON.stringify(bodies) !== JSON.stringify([`first message ${i}`])) {
        throw new AssertionFailure(`${from}: the message posted once, got ${JSON.stringify(bodies)}`, { conversationSid: sid });
      }
      ctx.expect.count(await ctx.target.client.conversations.v1.conversations(sid).participants.list(), 1, `${from}: participants`);
      ctx.expect.equal((await outboxTo(ctx, from)).filter((m) => m.body === `first message ${i}`), [], `${from}: its own message echoed back`);
    }
  },
});
