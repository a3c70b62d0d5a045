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
import { UserResource } from './users.js';
import { RoleResource } from './roles.js';
import { CredentialResource } from './credentials.js';
import { BindingResource } from './bindings.js';
import { ConversationWebhookResource } from './conversations/webhooks.js';
import { ConfigurationAddressResource, ConfigurationWebhookResource, configurationOperations } from './configuration.js';
import {
  ServiceConfigurationResource,
  ServiceNotificationResource,
  ServiceWebhookConfigurationResource,
} from './service-configuration.js';
import { userConversationOperations } from './user-conversations.js';
import { IN_SERVICE } from './scopes.js';

export const descriptors: ResourceDescriptor[] = [
  ServiceResource,
  ConversationResource,
  ParticipantResource,
  MessageResource,
  ReceiptResource,
  RoleResource,
  UserResource,
  CredentialResource,
  BindingResource,
  ConversationWebhookResource,
  ConfigurationWebhookResource,
  ConfigurationAddressResource,
  ServiceConfigurationResource,
  ServiceNotificationResource,
  ServiceWebhookConfigurationResource,
];

const inService: ParentDef[] = [IN_SERVICE];

/** Operations with their own handler, by operationId as served at the default mount (the Service twin shares it). */
export const specialOperations: Record<string, SpecialOperation> = {
  ListParticipantConversation: { handler: listParticipantConversations, parents: inService, serviceTwin: true },
  CreateConversationWithParticipants: { handler: createConversationWithParticipants, parents: inService, serviceTwin: true },
  ...configurationOperations,
  ...userConversationOperations,
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
