/**
 * Pre-event decisions (Twilio's pre-event contract: a 200 lets the change through, any other status refuses it).
 * Answered synchronously from the request alone (plus a conversation lookup for the tenant); nothing is enqueued.
 * Policies (RouterConfig.preEvent):
 * - identity: onParticipantAdd needs an Identity matching one of `allowedIdentities` (globs) when any are set.
 *   A participant without Identity (an SMS/WhatsApp binding) is not an identity and is not refused by it.
 * - tenant: for onParticipantAdd / onMessageAdd the acting identity's tenant (`tenant:user` → `tenant`) must equal
 *   the conversation's `attributes.tenantId`. Participant and message pre-events carry their own Attributes, not
 *   the conversation's, so the conversation's come from `lookupConversation`; when its tenant cannot be established
 *   (no lookup, unknown conversation, no tenantId, lookup failed or slow) the change is refused. Messaging
 *   participants (no Identity) and messages authored by an address (`+E164`, `whatsapp:+E164`) or by `system` carry
 *   no identity and are not checked: they come from the channel, not from a signed-in user.
 * - pii: onMessageAdd / onMessageUpdate whose Body matches any of `piiPatterns` is refused.
 */
import type { RouterConfig } from '../config-types.js';
import type { EventParams } from '../events.js';
import { compileGlob, type Glob } from '../../shared/glob.js';

/** The conversation's attributes (parsed, or as the JSON text Twilio stores), or undefined when unknown. */
export type LookupConversation = (conversationSid: string) => Promise<Record<string, unknown> | string | undefined>;

export interface PreEventPolicy {
  allowedIdentities: Glob[];
  enforceTenant: boolean;
  piiPatterns: RegExp[];
}

export type PreEventPolicyName = 'identity' | 'tenant' | 'pii';

export type PreEventDecision = { allow: true } | { allow: false; policy: PreEventPolicyName; reason: string };

export interface PreEventDeps {
  lookupConversation?: LookupConversation;
  /** Twilio waits 5 s for the whole exchange: a slower lookup refuses (default 2000 ms) */
  lookupTimeoutMs?: number;
}

/** Compile the configured policy once; a bad regular expression is a configuration error (thrown). */
export function compilePreEventPolicy(config: RouterConfig['preEvent']): PreEventPolicy {
  return {
    allowedIdentities: config.allowedIdentities.map(compileGlob),
    enforceTenant: config.enforceTenant,
    piiPatterns: config.piiPatterns.map(compilePattern),
  };
}

/** `source` or `/source/flags`; `g`/`y` are dropped (they make `test` stateful across requests). */
export function compilePattern(pattern: string): RegExp {
  const literal = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  const [source, flags] = literal ? [literal[1], literal[2].replace(/[gy]/g, '')] : [pattern, ''];
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new Error(`preEvent.piiPatterns: invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}

export async function decidePreEvent(policy: PreEventPolicy, params: EventParams, deps: PreEventDeps = {}): Promise<PreEventDecision> {
  const eventType = params.EventType;
  if (eventType === 'onParticipantAdd') {
    const identity = params.Identity;
    if (identity && policy.allowedIdentities.length > 0 && !policy.allowedIdentities.some((match) => match(identity))) {
      return deny('identity', 'identity is not allowed');
    }
    if (policy.enforceTenant && identity) return tenantCheck(identity, params.ConversationSid, deps);
    return ALLOW;
  }
  if (eventType === 'onMessageAdd' || eventType === 'onMessageUpdate') {
    const body = params.Body;
    if (body && policy.piiPatterns.some((pattern) => pattern.test(body))) return deny('pii', 'message body matches a refused pattern');
    const author = params.Author;
    if (eventType === 'onMessageAdd' && policy.enforceTenant && author && !isChannelAuthor(author)) {
      return tenantCheck(author, params.ConversationSid, deps);
    }
  }
  return ALLOW;
}

const ALLOW: PreEventDecision = { allow: true };

function deny(policy: PreEventPolicyName, reason: string): PreEventDecision {
  return { allow: false, policy, reason };
}

/** `tenant:user` → `tenant`; undefined when the identity names none. */
export function tenantOf(identity: string): string | undefined {
  const colon = identity.indexOf(':');
  return colon > 0 ? identity.slice(0, colon) : undefined;
}

function isChannelAuthor(author: string): boolean {
  return author === 'system' || /^(?:whatsapp:)?\+[1-9]\d{1,14}$/.test(author);
}

async function tenantCheck(identity: string, conversationSid: string | undefined, deps: PreEventDeps): Promise<PreEventDecision> {
  const tenant = tenantOf(identity);
  if (!tenant) return deny('tenant', 'identity has no tenant');
  const conversationTenant = conversationSid ? await lookupTenant(conversationSid, deps) : undefined;
  if (conversationTenant === undefined) return deny('tenant', 'conversation tenant unknown');
  if (conversationTenant !== tenant) return deny('tenant', 'identity tenant does not match the conversation');
  return ALLOW;
}

async function lookupTenant(conversationSid: string, deps: PreEventDeps): Promise<string | undefined> {
  if (!deps.lookupConversation) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), deps.lookupTimeoutMs ?? 2000);
  });
  try {
    const attributes = await Promise.race([deps.lookupConversation(conversationSid), timeout]);
    const parsed = typeof attributes === 'string' ? parseObject(attributes) : attributes;
    const tenantId = parsed?.tenantId;
    return typeof tenantId === 'string' && tenantId !== '' ? tenantId : undefined;
  } catch {
    // fail closed: a tenant that cannot be established refuses
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
