/**
 * ConversationWithParticipants: a conversation and up to 10 participants in one call, all or nothing.
 * `Participant` is repeated, each a JSON object shaped like a participant create:
 * `{"identity": "alice"}` or `{"messaging_binding": {"address": "+1…", "proxy_address": "+1…"}}`
 * (`attributes`, `role_sid` and `messaging_binding.projected_address` too).
 */
import { twilioError } from '../wire/errors.js';
import { jsonTooDeep, jsonTooDeepError } from '../wire/json-depth.js';
import { create, represent } from './engine.js';
import type { Input } from './descriptor.js';
import type { Answer, Call } from './operation.js';
import { ConversationResource } from './conversations/index.js';
import { ParticipantResource } from './participants/index.js';

const MAX_PARTICIPANTS = 10;

function participantInput(raw: string): Input {
  if (jsonTooDeep(raw)) throw jsonTooDeepError('Participant');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw twilioError('InvalidParameter', { message: `Participant must be a JSON object, got: ${raw}` });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw twilioError('InvalidParameter', { message: `Participant must be a JSON object, got: ${raw}` });
  }
  const p = parsed as Record<string, unknown>;
  const binding = (p.messaging_binding ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v));
  return {
    Identity: text(p.identity),
    Attributes: text(p.attributes),
    RoleSid: text(p.role_sid),
    'MessagingBinding.Address': text(binding.address ?? p['messaging_binding.address']),
    'MessagingBinding.ProxyAddress': text(binding.proxy_address ?? p['messaging_binding.proxy_address']),
    'MessagingBinding.ProjectedAddress': text(binding.projected_address ?? p['messaging_binding.projected_address']),
  };
}

export function createConversationWithParticipants(call: Call): Answer {
  const { ctx, input } = call;
  const raw = (input.Participant as string[] | undefined) ?? [];
  if (raw.length > MAX_PARTICIPANTS) {
    throw twilioError('TooManyParticipantsInRequest', { limit: MAX_PARTICIPANTS });
  }
  const participants = raw.map(participantInput);
  const conversation = ctx.db.transaction(() => {
    const row = create(ctx, ConversationResource, input);
    const scoped = { ...ctx, parents: { ...ctx.parents, Conversation: row } };
    for (const p of participants) create(scoped, ParticipantResource, p);
    return row;
  });
  return { status: call.op.status, body: call.project(represent(ctx, ConversationResource, conversation)) };
}
