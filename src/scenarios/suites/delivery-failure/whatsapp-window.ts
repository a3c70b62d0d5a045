/**
 * WhatsApp's 24-hour window: a day after the handset last wrote, a free-form message is not delivered. The consumer
 * sends a template, refuses the send without calling Twilio, or its free-form send fails 63016; the handset never
 * receives a free-form message outside the window.
 */
import { AssertionFailure, defineScenario } from '../../api.js';
import { WHATSAPP_PROXY } from '../../consumer.js';
import { conversationWith, outboxTo, received, sendsSince, settle } from '../helpers.js';

export const whatsappWindow = defineScenario({
  name: 'WhatsApp outside the 24 h window: template, refusal or 63016',
  suite: 'delivery-failure',
  tags: ['whatsapp', 'clock'],
  needs: ['control-plane', 'clock', 'router-state'],
  description: 'the handset wrote 25 hours ago (clock advanced): no free-form message reaches it',
  async run(ctx) {
    const handset = `whatsapp:${ctx.number()}`;
    const { conversationSid } = await conversationWith(ctx, handset, { proxy: WHATSAPP_PROXY });
    await ctx.target.sendInbound(handset, WHATSAPP_PROXY, 'hi');
    await settle(ctx);
    await ctx.target.advanceClock(25 * 3600);
    const since = new Date().toISOString();
    const body = `your code is ${ctx.random.int(1000, 9999)}`;
    const answer = await ctx.consumer.send(conversationSid, body);
    await settle(ctx);
    if (answer.status >= 400) {
      ctx.log(`refused: ${answer.status} ${JSON.stringify(answer.body)}`);
      ctx.expect.equal((await sendsSince(ctx, since)).map((r) => r.path), [], 'sends reaching Twilio after the refusal');
      return;
    }
    const messages = await ctx.target.client.conversations.v1.conversations(conversationSid).messages.list({ limit: 50 });
    const sent = messages.filter((m) => m.author !== handset);
    ctx.expect.ok(sent.length > 0, `the consumer answered ${answer.status} but posted nothing`);
    for (const m of sent) {
      if (m.contentSid) continue; // the template path
      const receipts = await ctx.eventually(async () => {
        const r = await ctx.target.client.conversations.v1.conversations(conversationSid).messages(m.sid).deliveryReceipts.list();
        ctx.expect.ok(r.length > 0 && r.every((x) => x.status === 'failed' || x.status === 'undelivered' || x.status === 'delivered' || x.status === 'read'), `a final receipt for ${m.sid}`);
        return r;
      }, 5000);
      if (receipts.some((r) => r.status === 'delivered' || r.status === 'read')) throw new AssertionFailure(`a free-form message reached ${handset} outside the window`, { conversationSid });
      ctx.expect.equal(receipts.map((r) => r.errorCode), receipts.map(() => 63016), `free-form ${m.sid} outside the window: error codes`);
    }
    ctx.expect.equal((await outboxTo(ctx, handset, body)).filter(received), [], `free-form "${body}" received by ${handset}`);
  },
});
