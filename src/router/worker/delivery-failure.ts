/**
 * A message that could not reach a participant (onDeliveryUpdated failed / undelivered with a channel error):
 * derived state marks the participant unreachable (state/fold.ts); here, a 21610 puts the address on the
 * suppression list, and the message falls back ONCE to the next channel configured for that person:
 * `config.fallback.order` of `whatsapp`, `sms` (addresses from the participant's attributes
 * `{"fallback": {"whatsapp": "whatsapp:+1…", "sms": "+1…"}}`) and `task` (an agent task in the conversation's
 * attributes, `agentTasks`). Fallback sends go through the Messaging API, whose status callbacks never trigger
 * another fallback, so a failing fallback cannot loop.
 */
import type { LoggedEvent } from '../events.js';
import type { HandlerContext, HandlerDeps } from './handlers.js';
import { eventTime, participantOf, senderParams } from './compliance.js';
import { UNREACHABLE_CODES } from '../state/delivery-rank.js';
import { insideWhatsappWindow } from '../compliance/whatsapp-window.js';
const GUARD_TTL_SECONDS = 7 * 24 * 3600;

type Outcome = { outcome: 'sent'; channel: string; sid: string } | { outcome: 'task' } | { outcome: 'skipped' };

function parseJson(text: string | null | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text ?? '{}');
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function suppressFor21610(deps: HandlerDeps, event: LoggedEvent, address: string, sender: string, partitionKey: string): Promise<void> {
  await deps.suppressions.add({ address, sender, reason: '21610', since: eventTime(event) });
  await deps.audit.record(
    'suppressionAdded',
    event.dedupeKey,
    partitionKey,
    { Address: address, Sender: sender, Reason: '21610', At: new Date(eventTime(event)).toISOString() },
    event.correlationId,
  );
}

export async function handleDeliveryFailure(deps: HandlerDeps, context: HandlerContext, event: LoggedEvent): Promise<void> {
  const p = event.params;
  const code = Number(p.ErrorCode);
  const conversationSid = p.ConversationSid;
  const participantSid = p.ParticipantSid;
  const messageSid = p.MessageSid;
  if (!UNREACHABLE_CODES.has(code) || !conversationSid || !participantSid || !messageSid) return;
  const participant = await participantOf(deps, conversationSid, participantSid);
  const sender = participant?.proxyAddress ?? p.MessagingServiceSid;
  if (code === 21610 && participant?.address && sender) await suppressFor21610(deps, event, participant.address, sender, conversationSid);

  // once per (message, participant): 'pending:<event>' lets a retry of the same event finish what it started
  const guard = `fallback:${messageSid}|${participantSid}`;
  const mine = `pending:${event.dedupeKey}`;
  if (!(await deps.kv.setIfAbsent(guard, mine, GUARD_TTL_SECONDS)) && (await deps.kv.get(guard)) !== mine) return;

  const result = await fallback(deps, context, { conversationSid, participantSid, messageSid, code, failedAddress: participant?.address ?? null, attributes: participant?.attributes ?? null });
  await deps.audit.record(
    'fallback',
    `${messageSid}|${participantSid}`,
    conversationSid,
    {
      ConversationSid: conversationSid,
      ParticipantSid: participantSid,
      MessageSid: messageSid,
      ErrorCode: String(code),
      Outcome: result.outcome,
      Channel: result.outcome === 'sent' ? result.channel : result.outcome,
      ...(result.outcome === 'sent' ? { FallbackSid: result.sid } : {}),
    },
    event.correlationId,
  );
  await deps.kv.set(guard, 'done', GUARD_TTL_SECONDS);
  context.log.info({ conversationSid, participantSid, code, outcome: result.outcome }, 'delivery failure handled');
}

interface Failure {
  conversationSid: string;
  participantSid: string;
  messageSid: string;
  code: number;
  failedAddress: string | null;
  attributes: string | null;
}

async function fallback(deps: HandlerDeps, context: HandlerContext, failure: Failure): Promise<Outcome> {
  const { config } = deps;
  const failedChannel = failure.failedAddress?.startsWith('whatsapp:') ? 'whatsapp' : 'sms';
  const targets = parseJson(failure.attributes).fallback as Record<string, unknown> | undefined;
  for (const channel of config.fallback.order) {
    if (channel === failedChannel) continue;
    if (channel === 'task') {
      await addAgentTask(deps, failure);
      return { outcome: 'task' };
    }
    const to = typeof targets?.[channel] === 'string' ? (targets[channel] as string) : undefined;
    const from = channel === 'whatsapp' ? config.defaultWhatsappProxy : config.defaultProxyAddress;
    if (!to || !from) continue;
    if (await deps.suppressions.find(to, [from])) continue;
    let contentSid: string | undefined;
    if (channel === 'whatsapp') {
      const [contact] = await deps.events.entities([{ kind: 'contact', id: to }]);
      const lastInboundAt = (contact?.doc as { lastInboundAt?: number | null } | undefined)?.lastInboundAt ?? null;
      if (!insideWhatsappWindow(lastInboundAt, Date.now())) {
        // a freeform message would fail with 63016: a template, or the next channel
        if (!config.fallback.whatsappTemplateSid) continue;
        contentSid = config.fallback.whatsappTemplateSid;
      }
    }
    const body = contentSid ? undefined : await messageBody(deps, failure);
    const sent = await deps.gateway.sendMessage({
      to,
      ...senderParams(from),
      ...(contentSid ? { contentSid } : { body: body ?? '' }),
      ...(config.publicUrl ? { statusCallback: new URL(config.paths.status, config.publicUrl).toString() } : {}),
    });
    context.log.info({ channel, sid: sent.sid }, 'fallback sent');
    return { outcome: 'sent', channel, sid: sent.sid };
  }
  return { outcome: 'skipped' };
}

async function messageBody(deps: HandlerDeps, failure: Failure): Promise<string | undefined> {
  const [known] = await deps.events.entities([{ kind: 'message', id: failure.messageSid }]);
  const body = (known?.doc as { body?: string | null } | undefined)?.body;
  if (typeof body === 'string') return body;
  return (await deps.gateway.fetchMessage(failure.conversationSid, failure.messageSid))?.body ?? undefined;
}

async function addAgentTask(deps: HandlerDeps, failure: Failure): Promise<void> {
  const conversation = await deps.gateway.fetchConversation(failure.conversationSid);
  if (!conversation) return; // removed meanwhile: no one left to give the task to
  const attributes = conversation.attributes;
  const tasks = Array.isArray(attributes.agentTasks) ? (attributes.agentTasks as Array<Record<string, unknown>>) : [];
  if (tasks.some((t) => t.messageSid === failure.messageSid && t.participantSid === failure.participantSid)) return;
  tasks.push({ type: 'delivery_failed', messageSid: failure.messageSid, participantSid: failure.participantSid, errorCode: failure.code });
  await deps.gateway.updateConversationAttributes(failure.conversationSid, { ...attributes, agentTasks: tasks });
}

/** A Messaging status callback (the router's own sends): a 21610 suppresses; no fallback from a fallback. */
export async function handleStatusFailure(deps: HandlerDeps, _context: HandlerContext, event: LoggedEvent): Promise<void> {
  const p = event.params;
  const sender = p.MessagingServiceSid || p.From;
  if (Number(p.ErrorCode) === 21610 && p.To && sender) await suppressFor21610(deps, event, p.To, sender, event.partitionKey);
}
