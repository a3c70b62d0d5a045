/**
 * Carrier failures on SMS: the participant is marked unreachable and the consumer falls back exactly once, to the
 * address in the participant's attributes (`{"fallback": {"whatsapp": "whatsapp:+1…"}}`) through the Messaging
 * API; a fallback that fails too is not retried in a loop; a late read receipt does not revive a failed one.
 */
import { AssertionFailure, defineScenario, type ScenarioContext } from '../../api.js';
import { agentSays, conversationWith, outboxTo, participantState, settle } from '../helpers.js';

const CODES = [30003, 30005, 30006, 30007];

async function failingParticipant(ctx: ScenarioContext, code: number, fallbackFails = false) {
  const handset = ctx.number();
  const whatsapp = `whatsapp:${handset}`;
  await ctx.target.setHandset(handset, { outcome: 'failed', errorCode: code });
  await ctx.target.setHandset(whatsapp, fallbackFails ? { outcome: 'failed', errorCode: 30003 } : { outcome: 'delivered' });
  const { conversationSid, participantSid } = await conversationWith(ctx, handset, { attributes: { fallback: { whatsapp } } });
  return { handset, whatsapp, conversationSid, participantSid, code };
}

async function expectOneFallback(ctx: ScenarioContext, whatsapp: string, conversationSid: string): Promise<void> {
  const sent = await outboxTo(ctx, whatsapp);
  if (sent.length !== 1) {
    throw new AssertionFailure(`exactly one fallback to ${whatsapp}: got ${sent.length} (${sent.map((m) => `${m.status}${m.errorCode ? ` ${m.errorCode}` : ''}`).join(', ')})`, { conversationSid });
  }
}

export const failureFallsBackOnce = defineScenario({
  name: 'carrier failures mark unreachable and fall back once',
  suite: 'delivery-failure',
  tags: ['sms', 'fallback'],
  needs: ['control-plane', 'handsets', 'webhook-faults'],
  description: `${CODES.join('/')} on SMS, each failure receipt delivered 3 times: the participant unreachable, one fallback`,
  async run(ctx) {
    const rule = { match: { eventType: 'onDeliveryUpdated' }, action: { type: 'duplicate' as const, count: 2 } };
    ctx.log('webhook faults', rule);
    await ctx.target.injectWebhookFaults([rule]);
    const cases = await Promise.all(CODES.map((code) => failingParticipant(ctx, code)));
    await settle(ctx);
    await Promise.all(cases.map((c) => agentSays(ctx, c.conversationSid, `your order shipped (${c.code})`)));
    for (const c of cases) {
      await ctx.target.waitFor(async () => (await outboxTo(ctx, c.whatsapp)).length > 0, 5000, `a fallback to ${c.whatsapp} after ${c.code}`).catch(() => {
        throw new AssertionFailure(`no fallback to ${c.whatsapp} after an SMS failure ${c.code}`, { conversationSid: c.conversationSid });
      });
    }
    await settle(ctx);
    for (const c of cases) {
      await expectOneFallback(ctx, c.whatsapp, c.conversationSid);
      if (ctx.has('router-state')) {
        const p = await participantState(ctx, c.conversationSid, c.handset);
        ctx.expect.ok(p?.reachable === false && p.lastErrorCode === c.code, `after ${c.code}, the consumer's state marks ${c.handset} unreachable with ${c.code} (got ${JSON.stringify(p)})`);
      }
    }
    if (!ctx.has('router-state')) ctx.note('checked what Twilio sees only');
  },
});

export const failedFallbackDoesNotLoop = defineScenario({
  name: 'a failed fallback does not loop',
  suite: 'delivery-failure',
  tags: ['sms', 'whatsapp', 'fallback'],
  needs: ['control-plane', 'handsets'],
  description: 'the SMS fails 30003, its WhatsApp fallback fails too: one fallback, nothing more',
  async run(ctx) {
    const c = await failingParticipant(ctx, 30003, true);
    await settle(ctx);
    await agentSays(ctx, c.conversationSid, 'your order shipped');
    await ctx.target.waitFor(async () => (await outboxTo(ctx, c.whatsapp)).some((m) => m.status === 'failed'), 5000, `the fallback to ${c.whatsapp} to fail`).catch(() => {
      throw new AssertionFailure(`no failed fallback to ${c.whatsapp}`, { conversationSid: c.conversationSid });
    });
    // the fallback's failure status callback has come back and been applied: any loop would have sent again
    await settle(ctx);
    await settle(ctx);
    await expectOneFallback(ctx, c.whatsapp, c.conversationSid);
    ctx.expect.count(await outboxTo(ctx, c.handset), 1, `SMS sends to ${c.handset}`);
  },
});

export const readAfterFailureStaysFailed = defineScenario({
  name: 'a read receipt after a failure stays failed',
  suite: 'delivery-failure',
  tags: ['receipts'],
  needs: ['control-plane', 'handsets', 'router-state'],
  description: 'a late onDeliveryUpdated read for a failed receipt: the consumer keeps it failed, as Twilio does',
  async run(ctx) {
    const c = await failingParticipant(ctx, 30003);
    await settle(ctx);
    const message = await agentSays(ctx, c.conversationSid, 'your order shipped');
    await ctx.target.waitFor(async () => (await outboxTo(ctx, c.whatsapp)).length > 0, 5000, 'the fallback');
    await settle(ctx);
    const failed = (await ctx.target.deliveries({ eventType: 'onDeliveryUpdated', conversationSid: c.conversationSid })).find((d) => d.params.Status === 'failed');
    if (!failed) throw new AssertionFailure('no failed onDeliveryUpdated in the journal', { conversationSid: c.conversationSid });
    const params: Record<string, string> = Object.fromEntries(Object.entries(failed.params).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
    const late: Record<string, string> = { ...params, Status: 'read', ErrorCode: '0', DateUpdated: new Date(Date.parse(params.DateUpdated ?? new Date().toISOString()) + 1000).toISOString(), RetryCount: '0' };
    ctx.log('late receipt', { DeliveryReceiptSid: late.DeliveryReceiptSid, Status: late.Status, DateUpdated: late.DateUpdated });
    const status = await ctx.target.deliverWebhook(ctx.consumer.webhookUrl, late);
    ctx.expect.ok(status >= 200 && status < 300, `the consumer accepts the late receipt (answered ${status})`);
    await settle(ctx);
    const receipts = await ctx.target.client.conversations.v1.conversations(c.conversationSid).messages(message.sid).deliveryReceipts.list();
    ctx.expect.equal(receipts.map((r) => r.status), ['failed'], "Twilio's receipt");
    const state = await ctx.consumer.state(c.conversationSid);
    const routed = state?.messages.find((m) => m.sid === message.sid);
    if (routed?.delivery[c.participantSid] !== 'failed') {
      throw new AssertionFailure(`a read receipt after a failure: the consumer's state shows ${JSON.stringify(routed?.delivery)} for ${message.sid}, Twilio's receipt is failed`, { conversationSid: c.conversationSid });
    }
    await expectOneFallback(ctx, c.whatsapp, c.conversationSid);
  },
});
