/**
 * Whether the router may send into a conversation, decided from what it knows (derived state and the suppression
 * list), before any call to Twilio: a refused send never reaches Twilio.
 *
 * The recipients are the conversation's SMS/WhatsApp participants (those removed because they opted out count,
 * so a conversation emptied by STOP still refuses). Refused when every recipient is suppressed; else when none of
 * the rest is reachable; else when every reachable one is a WhatsApp contact outside its 24-hour window and no
 * template is configured (a freeform send would draw 63016).
 */
import type { ConversationStateView } from '../state/types.js';
import type { SuppressionList } from '../compliance/suppression-list.js';
import { insideWhatsappWindow } from '../compliance/whatsapp-window.js';

export type SendRefusal = 'suppressed' | 'outside_whatsapp_window' | 'unreachable';

export type SendDecision = { send: true; contentSid?: string } | { send: false; error: SendRefusal; message: string };


export async function decideSend(
  view: ConversationStateView,
  suppressions: SuppressionList,
  options: { channel?: 'sms' | 'whatsapp'; whatsappTemplateSid?: string; now: number; messagingServiceSid?: string },
): Promise<SendDecision> {
  const onChannel = (address: string) => !options.channel || (options.channel === 'whatsapp') === address.startsWith('whatsapp:');
  const candidates = view.participants.filter((p) => p.address && onChannel(p.address));
  const recipients: Array<(typeof candidates)[number] & { suppressedNow: boolean }> = [];
  for (const p of candidates) {
    const listed = await suppressions.find(p.address as string, [p.proxyAddress, options.messagingServiceSid]);
    // the list is written before the audit event that the fold turns into `suppressed`: it is never behind the view
    const suppressedNow = listed !== undefined;
    if (!p.removed || suppressedNow) recipients.push({ ...p, suppressedNow });
  }
  if (recipients.length === 0) return { send: true };
  const allowed = recipients.filter((p) => !p.removed && !p.suppressedNow);
  if (allowed.length === 0) return { send: false, error: 'suppressed', message: `every recipient opted out: ${recipients.map((p) => p.address).join(', ')}` };
  const reachable = allowed.filter((p) => p.reachable);
  if (reachable.length === 0) {
    const codes = allowed.map((p) => `${p.address} (${p.lastErrorCode ?? 'error'})`).join(', ');
    return { send: false, error: 'unreachable', message: `no recipient is reachable: ${codes}` };
  }
  const inWindow = (p: (typeof reachable)[number]) =>
    !p.address?.startsWith('whatsapp:') || insideWhatsappWindow(p.lastInboundAt, options.now);
  if (reachable.some(inWindow)) return { send: true };
  if (options.whatsappTemplateSid) return { send: true, contentSid: options.whatsappTemplateSid };
  return {
    send: false,
    error: 'outside_whatsapp_window',
    message: 'the WhatsApp recipients last wrote more than 24 hours ago: a freeform message would fail with 63016; configure a template (fallback.whatsapp_template_sid)',
  };
}
