/**
 * Receipts cannot be created over REST (the simulated channel writes them), so tests insert them with the
 * emulator's own engine, one per recipient, and record the message's recipient count as the channel does.
 */
import { create } from '../../src/emulator/resources/engine.js';
import { ReceiptResource } from '../../src/emulator/resources/receipts.js';
import type { Row } from '../../src/emulator/store/database.js';
import type { EmulatorHandle } from '../../src/index.js';

export type ReceiptStatus = 'sent' | 'delivered' | 'read' | 'failed' | 'undelivered';

export function addReceipts(
  emulator: EmulatorHandle,
  messageSid: string,
  receipts: { participantSid: string; status: ReceiptStatus; errorCode?: number }[],
  total = receipts.length,
): string[] {
  const db = emulator.core.db;
  const message = db.get('SELECT * FROM messages WHERE sid = ?', messageSid) as Row;
  const conversation = db.get('SELECT * FROM conversations WHERE sid = ?', message.conversation_sid) as Row;
  const service = db.get('SELECT * FROM services WHERE sid = ?', conversation.chat_service_sid) as Row;
  const account = emulator.core.accounts.get(message.account_sid as string);
  if (!account) throw new Error(`no account ${String(message.account_sid)}`);
  const ctx = emulator.core.systemContext(account, emulator.url);
  ctx.parents = { Service: service, Conversation: conversation, ConversationMessage: message };
  const rows = receipts.map((r, i) =>
    create(ctx, ReceiptResource, {}, {
      participant_sid: r.participantSid,
      channel_message_sid: 'SM' + (i + 1).toString(16).padStart(32, '0'),
      status: r.status,
      error_code: r.errorCode ?? null,
    }),
  );
  db.run('UPDATE messages SET receipts_total = ? WHERE sid = ?', total, messageSid);
  return rows.map((r) => r.sid as string);
}
