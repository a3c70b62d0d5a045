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
/** The last second the wire's `YYYY-MM-DDTHH:MM:SSZ` can write: no timer may fall due after it. */
const LAST_DUE_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * Validate a timer parameter that starts counting at `start`; returns its length in ms (null: timer removed).
 * `param` names it in errors. A duration too long to end on a date is a format error, like any unreadable one.
 */
export function timerDuration(kind: 'Timers.Inactive' | 'Timers.Closed', value: string, start: number, param: string = kind): number | null {
  if (value === '') return null;
  const inactive = kind === 'Timers.Inactive';
  const invalid = (reason: string) => twilioError(inactive ? 'InvalidInactiveTimer' : 'InvalidClosedTimer', { name: param, value, reason });
  const ms = parseDuration(value);
  if (ms === undefined) throw invalid('Use an ISO 8601 duration in weeks, days, hours, minutes or seconds, such as PT10M or P1D');
  if (start + ms > LAST_DUE_MS) throw invalid('It is too long: the timer would fall due after 9999-12-31T23:59:59Z');
  if (ms < (inactive ? MIN_INACTIVE_MS : MIN_CLOSED_MS)) {
    throw twilioError(inactive ? 'InactiveTimerTooShort' : 'ClosedTimerTooShort', { name: param, value });
  }
  return ms;
}

/** When a timer of `length` (an ISO 8601 duration) started at `start` falls due: at the latest, the last writable date. */
function dueAt(start: number, length: SqlValue): number | null {
  const ms = length === null || length === undefined ? undefined : parseDuration(length as string);
  return ms === undefined ? null : Math.min(start + ms, LAST_DUE_MS);
}

/** The timer columns for a conversation whose activity (creation, a message) happened at `activity`. */
export function scheduleTimers(conversation: Row, activity: number): Row {
  const state = conversation.state as string;
  // A default timer stored long ago could overrun the last date once the clock has moved far: dueAt caps it.
  const dateInactive = state === 'active' ? dueAt(activity, conversation.timer_inactive) : null;
  const dateClosed = state !== 'closed' ? dueAt(activity, conversation.timer_closed) : null;
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

const SWEEP_BATCH = 1000;

/**
 * Apply every timer due by now; returns the moves made (each in the same transaction as its row change).
 * A row moves once per sweep: when both its timers have passed it goes straight to closed. Batches repeat in a loop
 * (not by recursion) until one comes back short, so any number of due conversations costs no stack.
 */
export function sweepDueTimers(services: Services, accountSid?: string): StateMove[] {
  const now = services.clock.now();
  if (!services.timers.mayBeDue(now)) return [];
  const moves: StateMove[] = [];
  for (;;) {
    const due = dueBatch(services.db, now, accountSid);
    if (due.length === 0) {
      if (!accountSid) services.timers.refresh();
      return moves;
    }
    const batch = services.db.transaction(() => due.map((row) => applyDueTimer(services, row, now)));
    moves.push(...batch);
    services.timers.refresh();
    // A short batch was the last. A moved row still due would come back in every batch: stop rather than spin.
    if (due.length < SWEEP_BATCH || batch.some((m) => m.row.next_timer_at !== null && (m.row.next_timer_at as number) <= now)) return moves;
  }
}

function dueBatch(db: Database, now: number, accountSid?: string): Row[] {
  return accountSid
    ? db.all('SELECT * FROM conversations WHERE next_timer_at <= ? AND account_sid = ? ORDER BY next_timer_at LIMIT ?', now, accountSid, SWEEP_BATCH)
    : db.all('SELECT * FROM conversations WHERE next_timer_at <= ? ORDER BY next_timer_at LIMIT ?', now, SWEEP_BATCH);
}

/** Move one conversation whose next timer is due: to closed when its closed timer has passed, else to inactive. */
function applyDueTimer(services: Services, row: Row, now: number): StateMove {
  const closedDue = row.date_closed !== null && (row.date_closed as number) <= now;
  const to = closedDue ? 'closed' : 'inactive';
  const at = (closedDue ? row.date_closed : row.date_inactive) as number;
  const changes: Row = closedDue
    ? { state: 'closed', date_inactive: null, date_closed: null, next_timer_at: null }
    : { state: 'inactive', date_inactive: null, next_timer_at: row.date_closed };
  services.db.prepare(
    'UPDATE conversations SET state = @state, date_inactive = @date_inactive, date_closed = @date_closed, next_timer_at = @next_timer_at, date_updated = @at WHERE seq = @seq',
  ).run({ date_inactive: row.date_inactive, date_closed: row.date_closed, ...changes, at, seq: row.seq });
  const moved = { ...row, ...changes, date_updated: at };
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
  return { row: moved, from: row.state as string, to, at };
}
