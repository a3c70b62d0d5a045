/**
 * The connected client SDK sessions as the inspector lists them (`GET /_emulator/ui/api/clients`): who is
 * connected, since when, from where, and which Sync objects each session follows. Read from the realtime hub in
 * memory; bounded (at most MAX_CLIENTS sessions, each with its first MAX_SUBSCRIPTION_IDS subscriptions).
 */
import type { EmulatorCore } from '../core.js';
import type { ClientList, ClientSession } from './inspector-types.js';
import { realtimeHubOf } from '../realtime/hub.js';
import { parseViewId } from '../realtime/views.js';

/** sessions listed (oldest connection first) */
export const MAX_CLIENTS = 200;
/** subscription ids listed per session (all are counted) */
export const MAX_SUBSCRIPTION_IDS = 20;

export function listClientSessions(core: EmulatorCore): ClientList {
  const sessions = [...(realtimeHubOf(core)?.sessions ?? [])];
  const ready = sessions.filter((s) => s.ready).sort((a, b) => a.openedAt - b.openedAt || a.identity.localeCompare(b.identity));
  const clients = ready.slice(0, MAX_CLIENTS).map((s): ClientSession => {
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
