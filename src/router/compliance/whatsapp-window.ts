/** WhatsApp's customer-service window: free-form messages only within 24 hours of the contact's last inbound. */
const WHATSAPP_WINDOW_MS = 24 * 3600 * 1000;

/** true when a free-form message may go out at `now` (outside the window Twilio fails it with 63016) */
export function insideWhatsappWindow(lastInboundAt: number | null, now: number): boolean {
  return lastInboundAt !== null && now - lastInboundAt <= WHATSAPP_WINDOW_MS;
}
