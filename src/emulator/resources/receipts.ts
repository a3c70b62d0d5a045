/**
 * Delivery Receipts (DY): one per non-chat recipient of a message. Read-only over REST; the simulated channel
 * (a later issue) writes them. `error_code` is null until a delivery fails: real Twilio sends null there although
 * the spec declares a plain integer (see test/receipts.test.ts).
 */
import type { ResourceDescriptor } from './descriptor.js';

export const ReceiptResource: ResourceDescriptor = {
  name: 'ConversationMessageReceipt',
  prefix: 'DY',
  table: 'receipts',
  parents: [
    { pathParam: 'ChatServiceSid', column: 'chat_service_sid', resource: 'Service' },
    { pathParam: 'ConversationSid', column: 'conversation_sid', resource: 'Conversation' },
    { pathParam: 'MessageSid', column: 'message_sid', resource: 'ConversationMessage' },
  ],
  columns: [
    { name: 'participant_sid', type: 'text' },
    { name: 'channel_message_sid', type: 'text' },
    { name: 'status', type: 'text', initial: 'sent' },
    { name: 'error_code', type: 'integer' },
  ],
  indexes: [['message_sid', 'status']],
};
