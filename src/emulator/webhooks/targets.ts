/**
 * Where an event goes. Post-event and pre-event URLs come from the service's webhook configuration, or, when the
 * service sets none, from the account's (a house decision: service settings override account ones, kind by kind).
 * Conversation-scoped webhooks add their own deliveries. Configurations are cached in memory and dropped
 * whenever one is written (their writes are events too).
 */
import type { Database, Row } from '../store/database.js';
import type { EventPayload } from './payloads.js';

export interface Target {
  url: string;
  method: 'GET' | 'POST';
  kind: 'post' | 'pre' | 'scoped' | 'studio';
  webhookSid?: string;
  webhookType?: string;
}

interface Settings {
  pre: string | null;
  post: string | null;
  method: 'GET' | 'POST';
  filters: Set<string>;
}

interface Scoped {
  sid: string;
  target: string;
  url: string | null;
  method: 'GET' | 'POST';
  filters: Set<string>;
  triggers: string[];
  flowSid: string | null;
}

function settings(row: Row | undefined): Settings | null {
  if (!row || row.target === 'flex') return null;
  if (!row.pre_webhook_url && !row.post_webhook_url) return null;
  return {
    pre: (row.pre_webhook_url as string | null) ?? null,
    post: (row.post_webhook_url as string | null) ?? null,
    method: String(row.method).toUpperCase() === 'GET' ? 'GET' : 'POST',
    filters: new Set(JSON.parse((row.filters as string | null) ?? '[]') as string[]),
  };
}

const CACHE_LIMIT = 50_000;

export class TargetResolver {
  private readonly accounts = new Map<string, Settings | null>();
  private readonly services = new Map<string, Settings | null>();
  private readonly scoped = new Map<string, Scoped[]>();

  constructor(private readonly db: Database) {}

  /** Forget cached configuration (after a configuration write, a reset or a cascade). */
  invalidate(kind?: 'account' | 'service' | 'scoped', key?: string): void {
    if (!kind) {
      this.accounts.clear();
      this.services.clear();
      this.scoped.clear();
      return;
    }
    const map = kind === 'account' ? this.accounts : kind === 'service' ? this.services : this.scoped;
    if (key) map.delete(key);
    else map.clear();
  }

  private settingsOf(accountSid: string, serviceSid: string): Settings | null {
    let service = this.services.get(serviceSid);
    if (service === undefined) {
      service = settings(this.db.get('SELECT * FROM service_webhooks WHERE chat_service_sid = ?', serviceSid));
      this.remember(this.services, serviceSid, service);
    }
    if (service) return service;
    let account = this.accounts.get(accountSid);
    if (account === undefined) {
      account = settings(this.db.get('SELECT * FROM account_webhooks WHERE account_sid = ?', accountSid));
      this.remember(this.accounts, accountSid, account);
    }
    return account;
  }

  private scopedOf(conversationSid: string): Scoped[] {
    let hooks = this.scoped.get(conversationSid);
    if (hooks === undefined) {
      hooks = this.db.all('SELECT * FROM conversation_webhooks WHERE conversation_sid = ? ORDER BY seq', conversationSid).map((r) => ({
        sid: r.sid as string,
        target: r.target as string,
        url: (r.configuration_url as string | null) ?? null,
        method: String(r.configuration_method).toUpperCase() === 'GET' ? ('GET' as const) : ('POST' as const),
        filters: new Set(JSON.parse((r.configuration_filters as string | null) ?? '[]') as string[]),
        triggers: (JSON.parse((r.configuration_triggers as string | null) ?? '[]') as string[]).map((t) => t.toLowerCase()),
        flowSid: (r.configuration_flow_sid as string | null) ?? null,
      }));
      this.remember(this.scoped, conversationSid, hooks);
    }
    return hooks;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= CACHE_LIMIT) map.clear();
    map.set(key, value);
  }

  /** Cheap check before building any payload: could a change here be delivered anywhere? */
  anyPost(accountSid: string, serviceSid: string, conversationSid: string | null): boolean {
    if (this.settingsOf(accountSid, serviceSid)?.post) return true;
    return conversationSid !== null && this.scopedOf(conversationSid).length > 0;
  }

  postTargets(accountSid: string, payload: EventPayload): Target[] {
    const out: Target[] = [];
    const s = this.settingsOf(accountSid, payload.serviceSid);
    if (s?.post && s.filters.has(payload.eventType)) out.push({ url: s.post, method: s.method, kind: 'post' });
    if (payload.conversationSid) {
      for (const hook of this.scopedOf(payload.conversationSid)) {
        if (hook.target === 'webhook' && hook.url && hook.filters.has(payload.eventType)) {
          out.push({ url: hook.url, method: hook.method, kind: 'scoped', webhookSid: hook.sid, webhookType: 'webhook' });
        } else if (hook.target === 'trigger' && hook.url && payload.eventType === 'onMessageAdded' && matchesTrigger(String(payload.params.Body ?? ''), hook.triggers)) {
          out.push({ url: hook.url, method: hook.method, kind: 'scoped', webhookSid: hook.sid, webhookType: 'trigger' });
        } else if (hook.target === 'studio' && hook.flowSid && payload.eventType === 'onMessageAdded') {
          out.push({ url: `studio:${hook.flowSid}`, method: 'POST', kind: 'studio', webhookSid: hook.sid, webhookType: 'studio' });
        }
      }
    }
    return out;
  }

  preTarget(accountSid: string, serviceSid: string, eventType: string): Target | undefined {
    const s = this.settingsOf(accountSid, serviceSid);
    if (s?.pre && s.filters.has(eventType)) return { url: s.pre, method: s.method, kind: 'pre' };
    return undefined;
  }
}

/** A trigger webhook fires when a message is one of its keywords, or starts with one followed by a space. */
function matchesTrigger(body: string, triggers: string[]): boolean {
  const text = body.trim().toLowerCase();
  return triggers.some((t) => text === t || text.startsWith(`${t} `));
}
