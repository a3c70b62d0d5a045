/** A 20429 storm: rate limits with Retry-After plus injected 429s; the consumer backs off and loses nothing. */
import { AssertionFailure, defineScenario } from '../../api.js';
import { PROXY } from '../../consumer.js';
import type { RestFaultRule } from '../../target.js';
import { conversationsOf, settle } from '../helpers.js';

export const storm = defineScenario({
  name: 'a 20429 storm with Retry-After is absorbed',
  suite: 'rate-limit',
  tags: ['rest', 'backoff'],
  needs: ['control-plane', 'rest-faults'],
  description: "first messages from 4 senders while Twilio answers 429 / 20429: every one ends up posted once",
  async run(ctx) {
    const senders = Array.from({ length: 4 }, () => ctx.number());
    const since = new Date().toISOString();
    const limits = { rps: 50, burst: 4, concurrency: null };
    const rule: RestFaultRule = { match: { path: '/v1/*' }, probability: Math.round((0.2 + ctx.random.next() * 0.2) * 100) / 100, times: 3, action: { type: 'error', status: 429, code: 20429 } };
    ctx.log('rate limits', limits, 'REST faults', rule);
    await ctx.target.setRateLimit(limits);
    await ctx.target.injectRestFaults([rule]);
    await Promise.all(senders.map((from, i) => ctx.target.sendInbound(from, PROXY, `hello ${i}`)));
    await settle(ctx, 20_000);
    const refused = (await ctx.target.requests({ since })).filter((r) => r.status === 429);
    // the scenario's own checks below must not meet the storm
    await ctx.target.setRateLimit({ rps: null });
    await ctx.target.injectRestFaults([]);
    ctx.log(`429s served: ${refused.length}`);
    ctx.expect.ok(refused.length > 0, 'the storm served at least one 429 (else it proved nothing)');
    for (const [i, from] of senders.entries()) {
      const conversations = await ctx.eventually(async () => {
        const found = await conversationsOf(ctx, from);
        ctx.expect.ok(found.length === 1, `one conversation for ${from}, got ${found.length}`);
        return found;
      }, 10_000);
      const sid = conversations[0].conversationSid;
      const bodies = await ctx.eventually(async () => {
        const b = (await ctx.target.client.conversations.v1.conversations(sid).messages.list({ limit: 20 })).map((m) => m.body);
        ctx.expect.ok(b.length > 0, `${from}'s message posted`);
        return b;
      }, 10_000);
      if (JSON.stringify(bodies) !== JSON.stringify([`hello ${i}`])) throw new AssertionFailure(`${from}: lost or doubled under 429s: ${JSON.stringify(bodies)}`, { conversationSid: sid });
    }
  },
});
