/**
 * The router's own facts (a suppression, a removed participant, a fallback) go into the event log like webhooks do,
 * so derived state stays a fold of the log and `tce router replay` sees them. Each has a dedupe key built from what
 * caused it, so a handler that runs twice (a retry, a lease taken over) records it once.
 */
import type { AuditType, EventParams } from '../events.js';
import type { EventStore } from '../store/types.js';

export interface AuditRecorder {
  record(type: AuditType, cause: string, partitionKey: string, params: EventParams, correlationId: string): Promise<void>;
}

export function auditRecorder(events: EventStore, dedupeTtlSeconds: number, now: () => number = Date.now): AuditRecorder {
  return {
    async record(type, cause, partitionKey, params, correlationId) {
      await events.accept(
        {
          source: 'router',
          eventType: type,
          dedupeKey: `audit:${type}:${cause}`,
          partitionKey,
          params: { ...params, At: params.At ?? new Date(now()).toISOString() },
          receivedAt: now(),
          signature: 'unchecked',
          correlationId,
        },
        dedupeTtlSeconds,
      );
    },
  };
}
