/**
 * Delivery Receipts (DY): one per non-chat recipient of a message. Read-only over REST; the simulated channel
 * (src/emulator/channel) writes them as a message leaves and moves them forward. `error_code` is null until a delivery fails: real Twilio sends null there although
 * the spec declares a plain integer (see test/receipts.test.ts).
 */
import type { ResourceDescriptor } from './descriptor.js';
import { IN_CONVERSATION, IN_SERVICE, OF_MESSAGE } from './scopes.js';

export const ReceiptResource: ResourceDescriptor = {
  name: 'ConversationMessageReceipt',
  prefix: 'DY',
  table: 'receipts',
  parents: [IN_SERVICE, IN_CONVERSATION, OF_MESSAGE],
  columns: [
    { name: 'participant_sid', type: 'text' },
    { name: 'channel_message_sid', type: 'text' },
    { name: 'status', type: 'text', initial: 'sent' },
    { name: 'error_code', type: 'integer' },
  ],
  indexes: [['message_sid', 'status']],
};
