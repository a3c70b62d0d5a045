/** Concurrent first contact: one conversation and one participant, however many messages race in. */
import { AssertionFailure, defineScenario } from '../../api.js';
import { PROXY } from '../../consumer.js';
import { conversationsOf, settle } from '../helpers.js';

const CONCURRENT = 20;

export const concurrentFirstInbound = defineScenario({
  name: '20 concurrent first messages from one number give one conversation',
  suite: 'idempotency',
  tags: ['inbound', 'concurrency'],
  needs: ['control-plane', 'webhook-faults'],
  description: 'each inbound webhook may also come twice (same idempotency token): one conversation, one participant, 20 messages once each',
  async run(ctx) {
    const rule = { match: { eventType: 'messaging.inbound' }, probability: 0.5, action: { type: 'duplicate' as const, count: 1 } };
    ctx.log('webhook faults', rule);
    await ctx.target.injectWebhookFaults([rule]);
    const handset = ctx.number();
    const bodies = Array.from({ length: CONCURRENT }, (_, i) => `message ${i + 1}`);
    await Promise.all(bodies.map((body) => ctx.target.sendInbound(handset, PROXY, body)));
    await settle(ctx, 15_000);
    const conversations = await conversationsOf(ctx, handset);
    const all = await ctx.target.client.conversations.v1.conversations.list({ limit: 100 });
    if (conversations.length !== 1 || all.length !== 1) {
      throw new AssertionFailure(`one conversation for ${handset}: it is a participant in ${conversations.length}, and ${all.length} exist (${all.map((c) => c.uniqueName ?? c.sid).join(', ')})`);
    }
    const sid = conversations[0].conversationSid;
    const participants = await ctx.target.client.conversations.v1.conversations(sid).participants.list();
    ctx.expect.count(participants, 1, `participants of ${sid}`);
    const posted = (await ctx.target.client.conversations.v1.conversations(sid).messages.list({ limit: 200 })).map((m) => m.body ?? '');
    const twice = posted.filter((b, i) => posted.indexOf(b) !== i);
    const missing = bodies.filter((b) => !posted.includes(b));
    if (twice.length || missing.length) {
      throw new AssertionFailure(`each message posted once: ${twice.length ? `twice: ${JSON.stringify(twice)}` : ''}${missing.length ? ` missing: ${JSON.stringify(missing)}` : ''}`, { conversationSid: sid });
    }
  },
});

export const concurrentUniqueName = defineScenario({
  name: 'concurrent creates with one UniqueName give one conversation',
  suite: 'idempotency',
  tags: ['rest', 'concurrency'],
  description: "10 simultaneous creates: one 201, the others 409 / 50353; a consumer can rely on Twilio's unique key",
  async run(ctx) {
    const uniqueName = `order-${ctx.seed}`;
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () =>
        ctx.target.client.conversations.v1.conversations.create({ uniqueName, xTwilioWebhookEnabled: 'true' }).then(
          (c) => ({ created: c.sid }),
          (e: { status?: number; code?: number }) => ({ refused: `${e.status}/${e.code}` }),
        ),
      ),
    );
    const created = outcomes.flatMap((o) => ('created' in o ? [o.created] : []));
    const refused = outcomes.flatMap((o) => ('refused' in o ? [o.refused] : []));
    ctx.expect.count(created, 1, 'creates answered 201');
    ctx.expect.equal([...new Set(refused)], ['409/50353'], 'the other creates');
    const found = await ctx.target.client.conversations.v1.conversations(uniqueName).fetch();
    ctx.expect.equal(found.sid, created[0], 'the conversation fetched by UniqueName');
    await settle(ctx);
    if (ctx.has('router-state')) {
      const state = await ctx.consumer.state(uniqueName);
      ctx.expect.equal(state?.conversation.sid, created[0], "the consumer's conversation for the UniqueName");
    }
  },
});
