/**
 * `ws://<emulator>/v3/wsconnect`: the twilsock endpoint of the client SDKs, on the REST port. An app points its
 * SDK here with `new Client(token, { Twilsock: { uri } })`. Needs @fastify/websocket registered on the app.
 * Whoever holds the core reaches the connected clients with `realtimeHubOf(core)` (hub.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { EmulatorCore } from '../core.js';
import { RealtimeHub } from './hub.js';
import { mediaPlugin } from './media-plugin.js';
import { TwilsockSession, type SessionLimits } from './session.js';

/** the largest twilsock frame accepted (ws closes with 1009 past it); message bodies are at most 32 KB */
export const MAX_FRAME_BYTES = 256 * 1024;

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  initDeadlineMs: 10_000,
  heartbeatMs: 30_000,
  // Twilio warns a few minutes ahead; tokens here are often short-lived, so one minute
  expiryWarningMs: 60_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxInFlight: 100,
  maxConnections: 10_000,
};

export interface RealtimeOptions {
  core: EmulatorCore;
  /** base of the HTTP URLs handed to clients (media), as for REST links; default the origin the client used */
  publicUrl?: string;
  limits?: Partial<SessionLimits>;
}

export async function realtimePlugin(app: FastifyInstance, options: RealtimeOptions): Promise<void> {
  const hub = new RealtimeHub(options.core);
  const limits = { ...DEFAULT_SESSION_LIMITS, ...options.limits };
  app.get('/v3/wsconnect', { websocket: true }, (socket, request) => {
    if (hub.sessions.size >= limits.maxConnections) return socket.close(1013, 'too many connections; try again later');
    const httpBase = options.publicUrl ?? `${request.protocol}://${request.headers.host ?? request.hostname}`;
    new TwilsockSession(socket, hub, limits, httpBase).remoteAddress = request.ip;
  });
  app.register(mediaPlugin, { prefix: '/mcs/v1', core: options.core, store: hub.media, publicUrl: options.publicUrl });
  app.addHook('onClose', async () => hub.stop());
}
