/**
 * Scripted handsets: what happens to a message sent to an address. Unconfigured addresses deliver at once and
 * never read. `progression` sets the pace: immediate, one step every N seconds of the emulator clock, or only
 * when `POST /_emulator/handsets/{address}/advance` says so.
 */
import type { Database } from '../store/database.js';
import { invalidParameter } from '../wire/errors.js';

export type Outcome = 'delivered' | 'undelivered' | 'failed';
export type Progression = 'immediate' | 'manual' | { afterSeconds: number };

export interface Handset {
  address: string;
  outcome: Outcome;
  errorCode: number | null;
  read: boolean;
  progression: Progression;
}

/** Twilio's usual codes when a handset is scripted to fail without one. */
const DEFAULT_ERROR: Record<Outcome, number | null> = { delivered: null, undelivered: 30003, failed: 30008 };

export function defaultHandset(address: string): Handset {
  return { address, outcome: 'delivered', errorCode: null, read: false, progression: 'immediate' };
}

export function parseHandset(address: string, body: unknown): Handset {
  const b = (body ?? {}) as Record<string, unknown>;
  const outcome = (b.outcome ?? 'delivered') as Outcome;
  if (!['delivered', 'undelivered', 'failed'].includes(outcome)) throw invalidParameter('outcome must be delivered, undelivered or failed');
  let errorCode: number | null = null;
  if (b.errorCode !== undefined && b.errorCode !== null) {
    errorCode = Number(b.errorCode);
    if (!Number.isInteger(errorCode) || errorCode <= 0) throw invalidParameter('errorCode must be a Twilio error code such as 30003');
  }
  if (outcome === 'delivered') errorCode = null;
  else errorCode ??= DEFAULT_ERROR[outcome];
  if (b.read !== undefined && typeof b.read !== 'boolean') throw invalidParameter('read must be true or false');
  let progression: Progression = 'immediate';
  const p = b.progression;
  if (p === 'manual' || p === 'immediate') progression = p;
  else if (p && typeof p === 'object' && 'afterSeconds' in p) {
    const seconds = Number((p as { afterSeconds: unknown }).afterSeconds);
    if (!(seconds >= 0)) throw invalidParameter('progression.afterSeconds must be a number >= 0');
    progression = { afterSeconds: seconds };
  } else if (p !== undefined) throw invalidParameter('progression must be "immediate", "manual" or {"afterSeconds": N}');
  return { address, outcome, errorCode, read: b.read === true, progression };
}

export class Handsets {
  constructor(private readonly db: Database) {}

  get(address: string): Handset {
    const row = this.db.get('SELECT * FROM handsets WHERE address = ?', address);
    if (!row) return defaultHandset(address);
    return {
      address,
      outcome: row.outcome as Outcome,
      errorCode: (row.error_code as number | null) ?? null,
      read: row.read === 1,
      progression: JSON.parse(row.progression as string) as Progression,
    };
  }

  set(handset: Handset): Handset {
    this.db.transaction(() =>
      this.db.run(
        'INSERT OR REPLACE INTO handsets (address, outcome, error_code, read, progression) VALUES (?, ?, ?, ?, ?)',
        handset.address, handset.outcome, handset.errorCode, handset.read ? 1 : 0, JSON.stringify(handset.progression),
      ),
    );
    return handset;
  }

  clear(): void {
    this.db.run('DELETE FROM handsets');
  }
}
