/**
 * Side effects per event, run by the worker before the event is applied to derived state. Every one is safe to run
 * twice (a retry, or a lease taken over after a crash): removals of what is gone succeed, audit facts and fallbacks
 * are guarded by keys.
 *
 * - SMS/WhatsApp STOP / START / HELP (in a conversation, or a plain Messaging inbound): compliance.ts
 * - a plain Messaging inbound that is no keyword: routed into its conversation (twilio/inbound-routing.ts)
 * - a failed receipt (onDeliveryUpdated) or status callback with a channel error: delivery-failure.ts
 * - the router's own audit events: nothing (they only feed the fold)
 */
import type { Logger } from 'pino';
import type { LoggedEvent } from '../events.js';
import type { RouterConfig } from '../config-types.js';
import type { EventStore } from '../store/types.js';
import type { TwilioGateway } from '../twilio/gateway.js';
import { routeInbound } from '../twilio/inbound-routing.js';
import { keywordOf } from '../compliance/keywords.js';
import type { SuppressionList } from '../compliance/suppression-list.js';
import type { AuditRecorder } from './audit.js';
import { handleKeyword, participantOf } from './compliance.js';
import { handleDeliveryFailure, handleStatusFailure } from './delivery-failure.js';
import type { KeyValueStore } from '../store/types.js';

export interface HandlerContext {
  log: Logger;
  /** aborted at the event's deadline */
  signal: AbortSignal;
  attempt: number;
}

/** What an event makes the router do, run by the worker before the event is applied. */
export type SideEffect = (context: HandlerContext) => Promise<void>;

/**
 * The side effect of an event, or undefined when it has none (most events: they only feed the fold). Deciding is
 * pure and synchronous, so the worker can apply a run of effect-free events together.
 */
export type EventHandler = (event: LoggedEvent) => SideEffect | undefined;

export interface HandlerDeps {
  config: RouterConfig;
  events: EventStore;
  kv: KeyValueStore;
  gateway: TwilioGateway;
  suppressions: SuppressionList;
  audit: AuditRecorder;
}

const CHANNEL_SOURCES = new Set(['SMS', 'WHATSAPP']);

export function createEventHandler(deps: HandlerDeps): EventHandler {
  const { config } = deps;
  return (event) => {
    const p = event.params;
    switch (event.source) {
      case 'conversations': {
        if (event.eventType === 'onMessageAdded' && CHANNEL_SOURCES.has(p.Source ?? '') && p.Author) {
          const kind = keywordOf(p.Body, config.compliance);
          if (!kind) return undefined;
          const author = p.Author;
          return async (context) => {
            const participant = p.ConversationSid && p.ParticipantSid ? await participantOf(deps, p.ConversationSid, p.ParticipantSid) : undefined;
            const sender = participant?.proxyAddress ?? p.MessagingServiceSid;
            if (!sender) throw new Error(`cannot tell which sender ${p.ConversationSid}/${p.ParticipantSid} wrote to`);
            await handleKeyword(deps, context, event, { kind, address: author, sender, conversationSid: p.ConversationSid });
          };
        }
        if (event.eventType === 'onDeliveryUpdated' && (p.Status === 'failed' || p.Status === 'undelivered')) {
          return (context) => handleDeliveryFailure(deps, context, event);
        }
        return undefined;
      }
      case 'messaging-inbound': {
        const from = p.From;
        const to = p.To;
        if (!from || !to) return undefined;
        const kind = keywordOf(p.Body, config.compliance);
        if (kind) return (context) => handleKeyword(deps, context, event, { kind, address: from, sender: p.MessagingServiceSid || to });
        return async (context) => {
          const mediaUrls = Object.keys(p)
            .filter((k) => /^MediaUrl\d+$/.test(k))
            .sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)))
            .map((k) => p[k] as string);
          const routed = await routeInbound(deps.gateway, config, { from, to, body: p.Body ?? '', mediaUrls, messageSid: p.MessageSid });
          context.log.info({ conversationSid: routed.conversationSid, created: routed.createdConversation }, 'inbound routed');
        };
      }
      case 'messaging-status':
        if (p.MessageStatus === 'failed' || p.MessageStatus === 'undelivered') return (context) => handleStatusFailure(deps, context, event);
        return undefined;
      case 'router':
        return undefined;
    }
  };
}
