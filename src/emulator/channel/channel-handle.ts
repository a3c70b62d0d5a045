/**
 * `emulator.channel`: the simulated SMS / WhatsApp channel driven in-process, calling the same service as
 * `/_emulator/inbound`, `/_emulator/outbox` and `/_emulator/handsets/*` (no HTTP to itself), plus two waits that
 * poll the store until a deadline, so they work whether or not any webhook is configured.
 */
import type { Row } from '../store/database.js';
import { parseHandset, type Handset, type Outcome, type Progression } from './handsets.js';
import type { ChannelMessage, ChannelService, InboundResult } from './service.js';

/** how often a wait looks at the store again */
const POLL_MS = 10;
/** how many outbox entries a timeout message lists */
const LISTED = 20;

export interface ReceiptView {
  sid: string;
  messageSid: string;
  participantSid: string;
  channelMessageSid: string;
  status: string;
  errorCode: number | null;
}

/** A receipt row as `POST /_emulator/handsets/{address}/advance` shows it. */
export function receiptView(r: Row): ReceiptView {
  return {
    sid: r.sid as string,
    messageSid: r.message_sid as string,
    participantSid: r.participant_sid as string,
    channelMessageSid: r.channel_message_sid as string,
    status: r.status as string,
    errorCode: (r.error_code as number | null) ?? null,
  };
}

export interface HandsetScript {
  outcome?: Outcome;
  errorCode?: number;
  read?: boolean;
  progression?: Progression;
}

export interface ChannelHandle {
  /** a handset writes to one of the account's addresses, as POST /_emulator/inbound */
  inbound(message: { from: string; to: string; body?: string; mediaUrl?: string | string[]; mediaContentType?: string | string[] }): Promise<InboundResult>;
  /** what the channel sent (and Twilio's keyword replies), oldest first, as GET /_emulator/outbox */
  outbox(filter?: { to?: string; from?: string; conversationSid?: string }): ChannelMessage[];
  /** script a handset, as PUT /_emulator/handsets/{address}; an outcome alone is `{ outcome }` */
  setHandset(address: string, script: Outcome | HandsetScript): Handset;
  /** one step for every message in flight to a manual handset, as POST /_emulator/handsets/{address}/advance */
  advance(address: string): ReceiptView[];
  /** the first outbox entry the predicate accepts; rejects at the deadline, listing the outbox */
  waitForOutbox(predicate: (m: ChannelMessage) => boolean, timeoutMs?: number): Promise<ChannelMessage>;
  /**
   * Wait until the message (a Messaging API SM…/MM…, or a conversation message IM…: every recipient) has reached
   * `status`; a later success step counts (delivered → read). Resolves with its channel messages; rejects at the
   * deadline, or at once when one ended failed / undelivered instead.
   */
  waitForReceipt(messageSid: string, status: string, timeoutMs?: number): Promise<ChannelMessage[]>;
}

/** the success path; a status reached means any later one on it is too */
const PATH = ['accepted', 'queued', 'sent', 'delivered', 'read'];
const DEAD_ENDS = new Set(['failed', 'undelivered']);

function reached(current: string, wanted: string): boolean {
  if (current === wanted) return true;
  const at = PATH.indexOf(current);
  const want = PATH.indexOf(wanted);
  return at >= 0 && want >= 0 && at >= want;
}

function describe(m: ChannelMessage): string {
  return `${m.sid} to ${m.to} ${m.status}${m.errorCode ? ` (${m.errorCode})` : ''}`;
}

async function poll<T>(check: () => T | undefined, timeoutMs: number, onTimeout: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(onTimeout());
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
  }
}

export function channelHandle(channel: ChannelService, baseUrl: () => string): ChannelHandle {
  const ofMessage = (sid: string) => channel.outbox({}).filter((m) => m.sid === sid || m.messageSid === sid);
  return {
    inbound: (m) => channel.inbound({ From: m.from, To: m.to, Body: m.body, MediaUrl: m.mediaUrl, MediaContentType: m.mediaContentType }, baseUrl()),
    outbox: (filter = {}) => channel.outbox(filter),
    setHandset: (address, script) => channel.handsets.set(parseHandset(address, typeof script === 'string' ? { outcome: script } : script)),
    advance: (address) => channel.advance(address).map(receiptView),
    waitForOutbox: (predicate, timeoutMs = 5000) =>
      poll(
        () => channel.outbox({}).find(predicate),
        timeoutMs,
        () => {
          const all = channel.outbox({});
          const listed = all.slice(-LISTED).map((m) => `${describe(m)} from ${m.from}: ${JSON.stringify(m.body)}`);
          return `no outbox message matched within ${timeoutMs} ms; the outbox holds ${all.length}${all.length ? `:\n  ${listed.join('\n  ')}` : ''}`;
        },
      ),
    waitForReceipt: (messageSid, status, timeoutMs = 5000) =>
      poll(
        () => {
          const messages = ofMessage(messageSid);
          if (messages.length === 0) return undefined;
          const dead = messages.find((m) => DEAD_ENDS.has(m.status) && !reached(m.status, status));
          if (dead) throw new Error(`${messageSid} will never be ${status}: ${describe(dead)}`);
          return messages.every((m) => reached(m.status, status)) ? messages : undefined;
        },
        timeoutMs,
        () => {
          const messages = ofMessage(messageSid);
          return messages.length === 0
            ? `${messageSid} was not ${status} within ${timeoutMs} ms: the channel has no message for it (is it a message SID, with an SMS or WhatsApp recipient?)`
            : `${messageSid} was not ${status} within ${timeoutMs} ms: ${messages.map(describe).join('; ')}`;
        },
      ),
  };
}
