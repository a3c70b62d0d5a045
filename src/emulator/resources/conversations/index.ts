/**
 * Conversations (CH).
 * Limitations and deviations: `Bindings.Email.*` is stored and echoed but no email channel exists; `initializing`
 * is accepted as a state and never left by itself; the closed state is final (updates, new participants and
 * messages answer 50377).
 */
import type { Row, SqlValue } from '../../store/database.js';
import { isoSeconds, parseDateTime } from '../../wire/dates.js';
import { invalidParameter, twilioError } from '../../wire/errors.js';
import type { OperationContext } from '../context.js';
import type { Input, ResourceDescriptor } from '../descriptor.js';
import { IN_SERVICE } from '../scopes.js';
import { updateRow } from '../engine.js';
import { noteTimers, scheduleTimers, sweepDueTimers, timerDuration } from './timers.js';

const CONVERSATION_SID = /^CH[0-9a-fA-F]{32}$/;

function checkUniqueName(ctx: OperationContext, uniqueName: SqlValue, serviceSid: SqlValue, exceptSeq: SqlValue = -1): void {
  if (uniqueName === null || uniqueName === '') return;
  if (CONVERSATION_SID.test(uniqueName as string)) throw twilioError('UniqueNameLooksLikeSid');
  const taken = ctx.db.get(
    'SELECT seq FROM conversations WHERE chat_service_sid = ? AND unique_name = ? AND seq != ?',
    serviceSid, uniqueName, exceptSeq,
  );
  if (taken) throw twilioError('UniqueNameTaken');
}

function emailBindings(input: Input, current: SqlValue): SqlValue {
  const address = input['Bindings.Email.Address'];
  const name = input['Bindings.Email.Name'];
  if (address === undefined && name === undefined) return current;
  const previous = current ? (JSON.parse(current as string) as { email?: Record<string, string> }).email ?? {} : {};
  const email = { ...previous };
  if (address !== undefined) email.projected_address = String(address);
  if (name !== undefined) email.name = String(name);
  return JSON.stringify({ email });
}

/** The timers given in the request, checked as counting from `start` (creation, or now for an update). */
function timerColumns(input: Input, target: Row, start: number): void {
  for (const [param, column] of [['Timers.Inactive', 'timer_inactive'], ['Timers.Closed', 'timer_closed']] as const) {
    const value = input[param];
    if (value === undefined) continue;
    target[column] = timerDuration(param, String(value), start) === null ? null : String(value);
  }
}

export const ConversationResource: ResourceDescriptor = {
  name: 'Conversation',
  prefix: 'CH',
  table: 'conversations',
  parents: [IN_SERVICE],
  columns: [
    { name: 'messaging_service_sid', type: 'text', param: 'MessagingServiceSid' },
    { name: 'friendly_name', type: 'text', param: 'FriendlyName', maxLength: 256 },
    { name: 'unique_name', type: 'text', param: 'UniqueName', maxLength: 256 },
    { name: 'attributes', type: 'text', param: 'Attributes', initial: '{}', json: { maxBytes: 16 * 1024 } },
    { name: 'state', type: 'text', param: 'State', initial: 'active' },
    { name: 'timer_inactive', type: 'text' },
    { name: 'timer_closed', type: 'text' },
    { name: 'date_inactive', type: 'integer' },
    { name: 'date_closed', type: 'integer' },
    { name: 'next_timer_at', type: 'integer' },
    { name: 'last_activity', type: 'integer' },
    { name: 'next_message_index', type: 'integer', initial: 0 },
    { name: 'bindings', type: 'text' },
  ],
  alternateKeys: ['unique_name'],
  indexes: [['next_timer_at'], ['chat_service_sid', 'state', 'seq']],
  unique: [{ columns: ['chat_service_sid', 'unique_name'], where: 'unique_name IS NOT NULL' }],
  links: { participants: 'Participants', messages: 'Messages', webhooks: 'Webhooks', export: 'Export' },
  hooks: {
    beforeRead(ctx) {
      sweepDueTimers(ctx, ctx.account.sid);
    },
    beforeCreate(ctx, values, input) {
      if (values.state === 'closed') throw twilioError('InitialStateClosed');
      checkUniqueName(ctx, values.unique_name, values.chat_service_sid);
      values.messaging_service_sid ??= ctx.account.defaultMessagingServiceSid;
      values.timer_inactive = ctx.account.defaultInactiveTimer;
      values.timer_closed = ctx.account.defaultClosedTimer;
      timerColumns(input, values, values.date_created as number);
      values.bindings = emailBindings(input, null);
      values.last_activity = values.date_created;
      Object.assign(values, scheduleTimers(values, values.date_created as number));
      noteTimers(ctx, values);
    },
    beforeUpdate(ctx, current, changes, input) {
      if (current.state === 'closed') throw twilioError('ConversationClosed');
      if ('unique_name' in changes) {
        if (changes.unique_name === '') changes.unique_name = null;
        checkUniqueName(ctx, changes.unique_name, current.chat_service_sid, current.seq);
      }
      timerColumns(input, changes, ctx.clock.now());
      const bindings = emailBindings(input, current.bindings);
      if (bindings !== current.bindings) changes.bindings = bindings;
      const next = { ...current, ...changes };
      // A state change through the API, or new timer lengths, restart the timers from now.
      if ('state' in changes || 'timer_inactive' in changes || 'timer_closed' in changes) {
        const now = ctx.clock.now();
        Object.assign(changes, scheduleTimers(next, now), next.state === 'active' ? { last_activity: now } : {});
        noteTimers(ctx, changes);
      }
    },
    listFilter(_ctx, input) {
      const where: string[] = [];
      const args: SqlValue[] = [];
      if (input.State !== undefined) {
        where.push('state = ?');
        args.push(String(input.State));
      }
      let dated = false;
      for (const [param, op] of [['StartDate', '>='], ['EndDate', '<=']] as const) {
        const value = input[param];
        if (value === undefined) continue;
        const text = String(value);
        let ms = parseDateTime(text);
        if (ms === undefined) throw invalidParameter(`Invalid ${param}: ${text} is not an ISO 8601 date`);
        // A bare end date means the whole of that day.
        if (param === 'EndDate' && /^\d{4}-\d{2}-\d{2}$/.test(text)) ms += 86_399_999;
        where.push(`date_created ${op} ?`);
        args.push(ms);
        dated = true;
      }
      // With a date filter Twilio lists newest first.
      return { where, args, order: dated ? 'desc' : undefined };
    },
  },
  representReads: ['date_inactive', 'date_closed', 'bindings'],
  represent(row, _ctx, wire) {
    wire.timers = timersView(row);
    wire.bindings = row.bindings === null ? null : JSON.parse(row.bindings as string);
  },
};

/** The `timers` object Twilio shows: the pending timer dates, `{}` when none is pending. */
export function timersView(row: Row): Record<string, string> {
  const timers: Record<string, string> = {};
  if (row.date_inactive !== null && row.date_inactive !== undefined) timers.date_inactive = isoSeconds(row.date_inactive as number);
  if (row.date_closed !== null && row.date_closed !== undefined) timers.date_closed = isoSeconds(row.date_closed as number);
  return timers;
}

/**
 * A message (or other activity) happened: an inactive conversation becomes active and its timers restart.
 * An active conversation without timers has nothing to move, and its row is not written (the common case: a
 * write per message would cost an UPDATE and a page per create).
 */
export function recordActivity(ctx: OperationContext, conversation: Row, at: number): Row {
  const state = conversation.state === 'inactive' ? 'active' : conversation.state;
  if (state === conversation.state && conversation.timer_inactive === null && conversation.timer_closed === null) return conversation;
  const proposed: Row = { state, last_activity: at, ...scheduleTimers({ ...conversation, state }, at) };
  // Write only what changed: SQLite rewrites an index entry whenever its column is SET, equal or not.
  const changes: Row = {};
  for (const key in proposed) if (proposed[key] !== conversation[key]) changes[key] = proposed[key];
  updateRow(ctx.db, ConversationResource, conversation, changes);
  noteTimers(ctx, changes);
  return { ...conversation, ...changes };
}

export function assertOpen(conversation: Row): void {
  if (conversation.state === 'closed') throw twilioError('ConversationClosed');
}
