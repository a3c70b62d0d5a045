/**
 * The connected client SDK sessions as the inspector lists them (`GET /_emulator/ui/api/clients`): who is
 * connected, since when, from where, and which Sync objects each session follows. Read from the realtime hub in
 * memory; bounded (at most MAX_CLIENTS sessions, each with its first MAX_SUBSCRIPTION_IDS subscriptions).
 */
import type { EmulatorCore } from '../core.js';
import { realtimeHubOf } from '../realtime/hub.js';
import { parseViewId } from '../realtime/views.js';

/** sessions listed (oldest connection first) */
export const MAX_CLIENTS = 200;
/** subscription ids listed per session (all are counted) */
export const MAX_SUBSCRIPTION_IDS = 20;

export interface ClientSessionView {
  identity: string;
  accountSid: string;
  serviceSid: string;
  /** ISO 8601, when the socket opened */
  connectedSince: string;
  tokenExpiresAt: string;
  remoteAddress: string | null;
  requestsInFlight: number;
  subscriptions: {
    count: number;
    /** how many of each kind (conversation, messages, roster, user-info, …) */
    kinds: Record<string, number>;
    /** the first ids, sorted, with their kind */
    first: { id: string; kind: string }[];
  };
}

export interface ClientList {
  clients: ClientSessionView[];
  /** sessions past init (all of them, listed or not) */
  total: number;
  /** sockets open that have not sent a valid init yet */
  connecting: number;
  truncated: boolean;
}

export function listClientSessions(core: EmulatorCore): ClientList {
  const sessions = [...(realtimeHubOf(core)?.sessions ?? [])];
  const ready = sessions.filter((s) => s.ready).sort((a, b) => a.openedAt - b.openedAt || a.identity.localeCompare(b.identity));
  const clients = ready.slice(0, MAX_CLIENTS).map((s): ClientSessionView => {
    const ids = [...s.subscriptions].sort();
    const kinds: Record<string, number> = {};
    for (const id of ids) {
      const kind = parseViewId(id)?.kind ?? 'other';
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    }
    return {
      identity: s.identity,
      accountSid: s.accountSid,
      serviceSid: s.serviceSid,
      connectedSince: new Date(s.openedAt).toISOString(),
      tokenExpiresAt: new Date(s.expiresAt).toISOString(),
      remoteAddress: s.remoteAddress ?? null,
      requestsInFlight: s.requestsInFlight,
      subscriptions: {
        count: ids.length,
        kinds,
        first: ids.slice(0, MAX_SUBSCRIPTION_IDS).map((id) => ({ id, kind: parseViewId(id)?.kind ?? 'other' })),
      },
    };
  });
  return { clients, total: ready.length, connecting: sessions.length - ready.length, truncated: ready.length > clients.length };
}
