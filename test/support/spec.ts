/** Facts read from the vendored spec itself, so tests assert against the contract, not against our own copy. */
import { readFileSync } from 'node:fs';
import { conversationsSpecPath } from '../../src/contracts/spec.js';

type Schema = { properties: Record<string, { pattern?: string }> };
const spec = JSON.parse(readFileSync(conversationsSpecPath, 'utf8')) as { components: { schemas: Record<string, Schema> } };

/** The spec's `pattern` for a property, e.g. specPattern('conversations.v1.conversation', 'sid') → /^CH[0-9a-fA-F]{32}$/ */
export function specPattern(schema: string, property: string): RegExp {
  const pattern = spec.components.schemas[schema]?.properties[property]?.pattern;
  if (!pattern) throw new Error(`no pattern for ${schema}.${property}`);
  return new RegExp(pattern);
}

export const SID = {
  account: specPattern('conversations.v1.conversation', 'account_sid'),
  service: specPattern('conversations.v1.service', 'sid'),
  conversation: specPattern('conversations.v1.conversation', 'sid'),
  participant: specPattern('conversations.v1.conversation.conversation_participant', 'sid'),
  message: specPattern('conversations.v1.conversation.conversation_message', 'sid'),
  messagingService: specPattern('conversations.v1.conversation', 'messaging_service_sid'),
  receipt: specPattern('conversations.v1.conversation.conversation_message.conversation_message_receipt', 'sid'),
};

/** REST JSON dates: ISO-8601 UTC to the second. */
export const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
