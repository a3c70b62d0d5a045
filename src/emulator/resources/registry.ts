/**
 * Every resource the emulator serves, and the few operations that are not plain CRUD. The route table pairs
 * these with the spec's operations by operationId noun.
 */
import type { ResourceDescriptor } from './descriptor.js';
import type { ParentDef } from './descriptor.js';
import type { SpecialOperation } from './operation.js';
import { ServiceResource } from './services.js';
import { ConversationResource } from './conversations/index.js';
import { ParticipantResource } from './participants/index.js';
import { MessageResource } from './messages/index.js';
import { ReceiptResource } from './receipts.js';
import { listParticipantConversations } from './participant-conversations.js';
import { createConversationWithParticipants } from './conversation-with-participants.js';

export const descriptors: ResourceDescriptor[] = [
  ServiceResource,
  ConversationResource,
  ParticipantResource,
  MessageResource,
  ReceiptResource,
];

const inService: ParentDef[] = [{ pathParam: 'ChatServiceSid', column: 'chat_service_sid', resource: 'Service' }];

/** Operations with their own handler, by operationId as served at the default mount (the Service twin shares it). */
export const specialOperations: Record<string, SpecialOperation> = {
  ListParticipantConversation: { handler: listParticipantConversations, parents: inService, serviceTwin: true },
  CreateConversationWithParticipants: { handler: createConversationWithParticipants, parents: inService, serviceTwin: true },
};

const byName = new Map(descriptors.map((d) => [d.name, d]));

export function descriptorNamed(name: string): ResourceDescriptor | undefined {
  return byName.get(name);
}

/** Tables below `name` and the column holding its SID there: every descendant carries its ancestors' columns. */
export function descendantsOf(name: string): { table: string; column: string }[] {
  const out: { table: string; column: string }[] = [];
  for (const d of descriptors) {
    const link = d.parents.find((p) => p.resource === name);
    if (link) out.push({ table: d.table, column: link.column });
  }
  return out;
}
