/**
 * The ordering workload: a WhatsApp conversation with two handsets that read what they get, so each agent
 * message draws sent, delivered and read receipts. Run once in order and once under a fault; the consumer's
 * derived state must come out the same, with every message once and in Index order, as Twilio's REST state shows.
 */
import { AssertionFailure, type ScenarioContext } from '../../api.js';
import { WHATSAPP_PROXY, type StateView } from '../../consumer.js';
import type { WebhookFaultRule } from '../../target.js';
import { agentSays, conversationWith, settle } from '../helpers.js';
import { aimWebhooks } from '../../runner.js';

const MESSAGES = 4;

export interface Outcome {
  conversationSid: string;
  /** REST: messages by Index, receipts by participant label */
  rest: unknown;
  /** the consumer's state, SIDs and numbers replaced by labels; undefined without the state API */
  state: unknown;
}

async function run(ctx: ScenarioContext, label: string): Promise<Outcome> {
  const handsets = [ctx.number(), ctx.number()].map((n) => `whatsapp:${n}`);
  const labels = new Map<string, string>(handsets.map((h, i) => [h, `handset${i + 1}`]));
  for (const h of handsets) await ctx.target.setHandset(h, { outcome: 'delivered', read: true });
  const conversation = await ctx.target.client.conversations.v1.conversations.create({ uniqueName: `${label}-${ctx.seed}`, xTwilioWebhookEnabled: 'true' });
  const conversationSid = conversation.sid;
  const participants = new Map<string, string>();
  for (const h of handsets) {
    const p = await ctx.target.client.conversations.v1.conversations(conversationSid).participants.create({ 'messagingBinding.address': h, 'messagingBinding.proxyAddress': WHATSAPP_PROXY, xTwilioWebhookEnabled: 'true' });
    participants.set(p.sid, labels.get(h)!);
    // the 24-hour window opens: each handset writes first
    await ctx.target.sendInbound(h, WHATSAPP_PROXY, `hi from ${labels.get(h)}`);
  }
  for (let i = 0; i < MESSAGES; i++) await agentSays(ctx, conversationSid, `update ${i + 1}`);
  const messages = ctx.target.client.conversations.v1.conversations(conversationSid).messages;
  await ctx.target.waitFor(async () => {
    const listed = await messages.list({ limit: 50 });
    for (const m of listed.filter((x) => x.author === 'agent')) {
      const receipts = await messages(m.sid).deliveryReceipts.list();
      if (receipts.length !== handsets.length || receipts.some((r) => r.status !== 'read')) return false;
    }
    return true;
  }, 8000, `every receipt in ${label} to be read`);
  await settle(ctx, 15_000);
  const rest = [];
  for (const m of (await messages.list({ limit: 50 })).sort((a, b) => a.index - b.index)) {
    const receipts = await messages(m.sid).deliveryReceipts.list();
    rest.push({ index: m.index, author: labels.get(m.author) ?? m.author, body: m.body, delivery: Object.fromEntries(receipts.map((r) => [participants.get(r.participantSid), r.status]).sort()) });
  }
  const view = ctx.has('router-state') ? await ctx.consumer.state(conversationSid) : undefined;
  return { conversationSid, rest, state: view && normalize(view, labels, participants) };
}

function normalize(view: StateView, labels: Map<string, string>, participants: Map<string, string>) {
  return {
    participants: view.participants
      .map((p) => ({ who: labels.get(p.address ?? '') ?? p.address, reachable: p.reachable, suppressed: p.suppressed, removed: p.removed }))
      .sort((a, b) => String(a.who).localeCompare(String(b.who))),
    messages: view.messages.map((m) => ({
      index: m.index,
      author: labels.get(m.author ?? '') ?? m.author,
      body: m.body,
      delivery: Object.fromEntries(Object.entries(m.delivery ?? {}).map(([sid, s]) => [participants.get(sid) ?? sid, s]).sort()),
    })),
  };
}

/** the in-order run, then the same under `rules`; compares both with each other and with REST */
export async function inOrderThenFaulted(ctx: ScenarioContext, rules: WebhookFaultRule[], fragment = ''): Promise<void> {
  const baseline = await run(ctx, 'in-order');
  ctx.log('webhook faults', rules);
  await ctx.target.injectWebhookFaults(rules);
  if (fragment) {
    await aimWebhooks(ctx.target, ctx.consumer, fragment);
  }
  const faulted = await run(ctx, 'faulted');
  ctx.expect.equal(faulted.rest, baseline.rest, "Twilio's messages and receipts, faulted run vs in-order run");
  if (!ctx.has('router-state')) {
    ctx.note('checked what Twilio sees only');
    return;
  }
  const fail = (what: string, actual: unknown, expected: unknown) => {
    throw new AssertionFailure(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`, { conversationSid: faulted.conversationSid });
  };
  const state = faulted.state as ReturnType<typeof normalize>;
  const indexes = state.messages.map((m) => m.index);
  if (new Set(state.messages.map((m) => `${m.index}`)).size !== indexes.length) fail('no message applied twice (indexes in the consumer state)', indexes, [...new Set(indexes)]);
  const sorted = [...indexes].sort((a, b) => Number(a) - Number(b));
  if (JSON.stringify(indexes) !== JSON.stringify(sorted)) fail('messages sort by Index in the consumer state', indexes, sorted);
  const fromRest = (faulted.rest as Array<{ index: number; author: string; body: string; delivery: object }>).map((m) => ({ index: m.index, author: m.author, body: m.body, delivery: m.delivery }));
  if (JSON.stringify(state.messages) !== JSON.stringify(fromRest)) fail("the consumer's messages and receipts vs Twilio's (faulted run)", state.messages, fromRest);
  if (JSON.stringify(state) !== JSON.stringify(baseline.state)) fail("the consumer's state, faulted run vs in-order run", state, baseline.state);
}
