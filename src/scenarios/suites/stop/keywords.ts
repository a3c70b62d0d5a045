/**
 * STOP keywords as Twilio reads them: the whole message, trimmed, any case. The consumer must suppress the address
 * (its next send refused without calling Twilio); a STOP inside a sentence is not an opt-out.
 */
import { defineScenario, type ScenarioContext } from '../../api.js';
import { PROXY } from '../../consumer.js';
import { conversationWith, expectDeliveredSend, expectRefusedSend, outboxTo, participantState, settle } from '../helpers.js';

const VARIANTS = ['stop', ' Stop ', 'STOPALL', 'UNSUBSCRIBE'];

async function stopIn(ctx: ScenarioContext, text: string) {
  const handset = ctx.number();
  const { conversationSid } = await conversationWith(ctx, handset);
  await settle(ctx);
  await ctx.target.sendInbound(handset, PROXY, text);
  return { handset, conversationSid };
}

export const stopVariants = defineScenario({
  name: 'stop variants suppress the address',
  suite: 'stop',
  tags: ['compliance', 'sms'],
  needs: ['control-plane', 'router-state'],
  description: `${VARIANTS.map((v) => JSON.stringify(v)).join(', ')}: the consumer refuses its next send without calling Twilio`,
  async run(ctx) {
    const stopped = await Promise.all(VARIANTS.map((v) => stopIn(ctx, v).then((s) => ({ ...s, variant: v }))));
    await settle(ctx);
    for (const { handset, conversationSid, variant } of stopped) {
      ctx.log(`${JSON.stringify(variant)} from ${handset} in ${conversationSid}`);
      const p = await participantState(ctx, conversationSid, handset);
      ctx.expect.ok(p?.suppressed === true, `after ${JSON.stringify(variant)}, the consumer's state shows ${handset} suppressed (got ${JSON.stringify(p)})`);
      await expectRefusedSend(ctx, conversationSid, handset, JSON.stringify(variant));
    }
  },
});

export const stopInSentence = defineScenario({
  name: "'stop by later' does not suppress",
  suite: 'stop',
  tags: ['compliance', 'sms'],
  needs: ['control-plane', 'router-state'],
  description: 'only a single-word message opts out: the consumer still sends, the handset receives',
  async run(ctx) {
    const { handset, conversationSid } = await stopIn(ctx, 'stop by later');
    await settle(ctx);
    const p = await participantState(ctx, conversationSid, handset);
    ctx.expect.ok(p !== undefined && !p.suppressed && !p.removed, `'stop by later' leaves ${handset} a live participant (got ${JSON.stringify(p)})`);
    await expectDeliveredSend(ctx, conversationSid, handset, "'stop by later'");
  },
});

/** House decision (README, unverified at Twilio): punctuation is part of the message, so `Stop.` is no keyword */
export const stopWithPunctuation = defineScenario({
  name: "'Stop.' is not a keyword (house decision)",
  suite: 'stop',
  tags: ['compliance', 'sms'],
  needs: ['control-plane', 'router-state'],
  description: 'the emulator and the consumer agree that a keyword with punctuation opts nothing out',
  async run(ctx) {
    const { handset, conversationSid } = await stopIn(ctx, 'Stop.');
    await settle(ctx);
    const p = await participantState(ctx, conversationSid, handset);
    ctx.expect.ok(p !== undefined && !p.suppressed && !p.removed, `'Stop.' leaves ${handset} a live participant (got ${JSON.stringify(p)})`);
    await expectDeliveredSend(ctx, conversationSid, handset, "'Stop.'");
  },
});

export const stopThenSend = defineScenario({
  name: 'after STOP a send is refused or fails 21610',
  suite: 'stop',
  tags: ['compliance', 'sms'],
  needs: ['control-plane'],
  description: "refused by the consumer, or failed 21610 at Twilio; the handset never receives it",
  async run(ctx) {
    const { handset, conversationSid } = await stopIn(ctx, 'STOP');
    await settle(ctx);
    const body = `are you there ${ctx.random.int(1000, 9999)}`;
    if (ctx.has('router-state')) {
      const answer = await ctx.consumer.send(conversationSid, body);
      ctx.log(`the consumer's send after STOP answered ${answer.status}`);
    } else {
      // no consumer API: what Twilio itself does with a send to an opted-out handset
      ctx.note('checked what Twilio sees only');
      const refused = await ctx.target.client.messages.create({ from: PROXY, to: handset, body }).then(() => undefined, (e: { code?: number }) => e.code);
      ctx.expect.equal(refused, 21610, 'a Messaging API send to an opted-out handset: error code');
    }
    await settle(ctx);
    const got = await outboxTo(ctx, handset, body);
    ctx.expect.ok(got.every((m) => m.status === 'failed' && m.errorCode === 21610), `a send after STOP either never reaches Twilio or fails 21610 (outbox: ${JSON.stringify(got.map((m) => [m.status, m.errorCode]))})`);
  },
});
