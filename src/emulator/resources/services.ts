/** Conversation Services (IS): the container every conversation, user and role lives in. */
import { twilioError } from '../wire/errors.js';
import { newSid } from '../wire/sid.js';
import type { Services } from './context.js';
import type { ResourceDescriptor } from './descriptor.js';
import { insertRow } from './engine.js';
import { createDefaultRoles } from './roles.js';
import { ServiceConfigurationResource, serviceConfigurationRow } from './service-configuration.js';

/** What every new service starts with: Twilio's four default roles, and a Configuration pointing at them. */
export function seedService(services: Services, accountSid: string, serviceSid: string, now: number): void {
  const roles = createDefaultRoles(services, accountSid, serviceSid, now);
  insertRow(services.db, ServiceConfigurationResource, {
    sid: newSid(ServiceConfigurationResource.prefix, services.random),
    account_sid: accountSid,
    chat_service_sid: serviceSid,
    ...serviceConfigurationRow(roles),
    date_created: now,
    date_updated: now,
  });
}

export const ServiceResource: ResourceDescriptor = {
  name: 'Service',
  prefix: 'IS',
  table: 'services',
  parents: [],
  columns: [{ name: 'friendly_name', type: 'text', param: 'FriendlyName', maxLength: 256 }],
  links: {
    conversations: 'Conversations',
    users: 'Users',
    roles: 'Roles',
    bindings: 'Bindings',
    configuration: 'Configuration',
    participant_conversations: 'ParticipantConversations',
    conversation_with_participants: 'ConversationWithParticipants',
  },
  hooks: {
    afterCreate(ctx, row) {
      seedService(ctx, ctx.account.sid, row.sid as string, row.date_created as number);
    },
    beforeDelete(ctx, row) {
      // The account's /v1/... routes are served by its default service; it must be switched before it can go.
      if (row.sid === ctx.account.defaultServiceSid) throw twilioError('DefaultServiceNotDeletable', { sid: row.sid as string });
    },
  },
};
