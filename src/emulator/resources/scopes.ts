/** Parent chains shared by many descriptors. */
import type { ParentDef } from './descriptor.js';

export const IN_SERVICE: ParentDef = { pathParam: 'ChatServiceSid', column: 'chat_service_sid', resource: 'Service' };
export const IN_CONVERSATION: ParentDef = { pathParam: 'ConversationSid', column: 'conversation_sid', resource: 'Conversation' };
export const OF_USER: ParentDef = { pathParam: 'UserSid', column: 'user_sid', resource: 'User' };
export const OF_MESSAGE: ParentDef = { pathParam: 'MessageSid', column: 'message_sid', resource: 'ConversationMessage' };
