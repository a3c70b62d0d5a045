/** Conversation Services (IS): the container every conversation, user and role lives in. */
import { twilioError } from '../wire/errors.js';
import type { ResourceDescriptor } from './descriptor.js';

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
    beforeDelete(ctx, row) {
      // The account's /v1/... routes are served by its default service; it must be switched before it can go.
      if (row.sid === ctx.account.defaultServiceSid) throw twilioError('DefaultServiceNotDeletable', { sid: row.sid as string });
    },
  },
};
