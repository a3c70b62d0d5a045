/**
 * Conversation timers. `Timers.Inactive` and `Timers.Closed` are ISO-8601 durations counted from the last
 * activity; when one falls due the conversation really moves (active → inactive → closed). Due moves are applied
 * by `sweepDueTimers`, which runs before any conversation is read and whenever the clock is moved, so a manual
 * clock in a test moves states at once and nobody sleeps.
 */
import type { Row, SqlValue } from '../../store/database.js';
import { parseDuration } from '../../wire/dates.js';
import { twilioError } from '../../wire/errors.js';
import type { Database } from '../../store/database.js';
import type { Services } from '../context.js';

/**
 * The earliest pending timer, kept in memory so that the per-request sweep costs no query while nothing can be
 * due. `note` is told of every timer written; a stale (too early) value only costs one extra query.
 */
export class TimerSchedule {
  /** undefined: unknown, read it from the store; null: no pending timer */
  private earliest: number | null | undefined;

  constructor(private readonly db: Database) {}

  note(at: SqlValue): void {
    if (typeof at !== 'number' || this.earliest === undefined) return;
    if (this.earliest === null || at < this.earliest) this.earliest = at;
  }

  mayBeDue(now: number): boolean {
    if (this.earliest === undefined) this.refresh();
    return this.earliest !== null && (this.earliest as number) <= now;
  }

  refresh(): void {
    const row = this.db.get('SELECT min(next_timer_at) AS at FROM conversations');
    this.earliest = row && typeof row.at === 'number' ? row.at : null;
  }

  forget(): void {
    this.earliest = undefined;
  }
}

const MIN_INACTIVE_MS = 60_000;
const MIN_CLOSED_MS = 600_000;

/** Validate a timer parameter; returns its length in ms (null: timer removed). `param` names it in errors. */
export function timerDuration(kind: 'Timers.Inactive' | 'Timers.Closed', value: string, param: string = kind): number | null {
  if (value === '') return null;
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw twilioError('InvalidTimer', { name: param, value, reason: 'It must be an ISO 8601 duration such as PT10M' });
  }
  const min = kind === 'Timers.Inactive' ? MIN_INACTIVE_MS : MIN_CLOSED_MS;
  if (ms < min) {
    throw twilioError('InvalidTimer', { name: param, value, reason: `The minimum is ${kind === 'Timers.Inactive' ? 'PT1M' : 'PT10M'}` });
  }
  return ms;
}

/** The timer columns for a conversation whose activity (creation, a message) happened at `activity`. */
export function scheduleTimers(conversation: Row, activity: number): Row {
  const state = conversation.state as string;
  const inactiveMs = conversation.timer_inactive === null ? undefined : parseDuration(conversation.timer_inactive as string);
  const closedMs = conversation.timer_closed === null ? undefined : parseDuration(conversation.timer_closed as string);
  const dateInactive = state === 'active' && inactiveMs !== undefined ? activity + inactiveMs : null;
  const dateClosed = state !== 'closed' && closedMs !== undefined ? activity + closedMs : null;
  return { date_inactive: dateInactive, date_closed: dateClosed, next_timer_at: nextDue(dateInactive, dateClosed) };
}

/** Tell the schedule about timer columns being written (call with the row or changes that hold them). */
export function noteTimers(services: Services, values: Row): void {
  services.timers.note(values.next_timer_at);
}

function nextDue(a: SqlValue, b: SqlValue): number | null {
  const due = [a, b].filter((v): v is number => typeof v === 'number');
  return due.length ? Math.min(...due) : null;
}

export interface StateMove {
  row: Row;
  from: string;
  to: string;
  at: number;
}

/** Apply every timer due by now; returns the moves made (each in the same transaction as its row change). */
export function sweepDueTimers(services: Services, accountSid?: string): StateMove[] {
  const now = services.clock.now();
  if (!services.timers.mayBeDue(now)) return [];
  const db = services.db;
  const due = accountSid
    ? db.all('SELECT * FROM conversations WHERE next_timer_at <= ? AND account_sid = ? ORDER BY next_timer_at LIMIT 1000', now, accountSid)
    : db.all('SELECT * FROM conversations WHERE next_timer_at <= ? ORDER BY next_timer_at LIMIT 1000', now);
  if (due.length === 0) {
    if (!accountSid) services.timers.refresh();
    return [];
  }
  const moves: StateMove[] = [];
  db.transaction(() => {
    for (const row of due) {
      const closedDue = row.date_closed !== null && (row.date_closed as number) <= now;
      const to = closedDue ? 'closed' : 'inactive';
      const at = (closedDue ? row.date_closed : row.date_inactive) as number;
      const changes: Row = closedDue
        ? { state: 'closed', date_inactive: null, date_closed: null, next_timer_at: null }
        : { state: 'inactive', date_inactive: null, next_timer_at: row.date_closed };
      db.prepare(
        'UPDATE conversations SET state = @state, date_inactive = @date_inactive, date_closed = @date_closed, next_timer_at = @next_timer_at, date_updated = @at WHERE seq = @seq',
      ).run({ date_inactive: row.date_inactive, date_closed: row.date_closed, ...changes, at, seq: row.seq });
      const moved = { ...row, ...changes, date_updated: at };
      moves.push({ row: moved, from: row.state as string, to, at });
      services.events.emit({
        type: 'updated',
        resource: 'Conversation',
        row: moved,
        previous: row,
        accountSid: row.account_sid as string,
        source: 'API',
        webhooks: true,
        reason: 'TIMER',
      });
    }
  });
  services.timers.refresh();
  // A long-idle conversation can pass both timers in one clock jump: sweep again until nothing is due.
  return due.length === 1000 || moves.some((m) => m.row.next_timer_at !== null && (m.row.next_timer_at as number) <= now)
    ? [...moves, ...sweepDueTimers(services, accountSid)]
    : moves;
}
