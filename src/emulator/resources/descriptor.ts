/**
 * A resource descriptor: everything the generic engine needs to serve create / fetch / update / delete / list for
 * one Twilio resource, at both of its mounts (`/v1/...` on the account's default service and
 * `/v1/Services/{ChatServiceSid}/...`). Special rules sit beside the descriptor as hooks.
 */
import type { Row, SqlValue } from '../store/database.js';
import type { OperationContext } from './context.js';

export type ColumnType = 'text' | 'integer';

export interface ColumnDef {
  /** SQL column; also the wire name unless `represent` says otherwise */
  name: string;
  type: ColumnType;
  /** the form parameter (spec name, e.g. `FriendlyName`) that writes this column */
  param?: string;
  /** whether the param is read on create / update (default: both) */
  create?: boolean;
  update?: boolean;
  /** value stored when a create omits the param */
  initial?: SqlValue;
  /** longest accepted text, in characters */
  maxLength?: number;
  /** the text must parse as JSON and fit in maxBytes (Attributes) */
  json?: { maxBytes: number };
  /** the schema version that added this column to an existing table (default: the table's own) */
  since?: number;
}

export interface ParentDef {
  /** path parameter naming the parent; `ChatServiceSid` falls back to the account's default service */
  pathParam: string;
  /** column of this table holding the parent's SID */
  column: string;
  /** descriptor name of the parent */
  resource: string;
}

export type Input = Record<string, string | number | boolean | string[] | undefined>;

export interface ListFilter {
  where: string[];
  args: SqlValue[];
  /** overrides the descriptor's order (e.g. `Order=desc`, or newest-first when a date filter is set) */
  order?: 'asc' | 'desc';
}

export interface ResourceHooks {
  /** validate and complete a new row (values has every column); throw a TwilioError to refuse */
  beforeCreate?(ctx: OperationContext, values: Row, input: Input): void;
  afterCreate?(ctx: OperationContext, row: Row, input: Input): void;
  /** validate an update; `changes` holds only the columns being written */
  beforeUpdate?(ctx: OperationContext, current: Row, changes: Row, input: Input): void;
  afterUpdate?(ctx: OperationContext, row: Row, previous: Row, input: Input): void;
  /** refuse a delete, or remove dependants (runs inside the delete's transaction) */
  beforeDelete?(ctx: OperationContext, row: Row): void;
  afterDelete?(ctx: OperationContext, row: Row): void;
  /** extra WHERE terms for list, from the query */
  listFilter?(ctx: OperationContext, input: Input): ListFilter;
  /** bring stored state up to date before it is read (e.g. timers due by now) */
  beforeRead?(ctx: OperationContext): void;
}

export interface ResourceDescriptor {
  /** the operationId noun: `ConversationParticipant` serves CreateConversationParticipant and its Service twin */
  name: string;
  /** SID prefix */
  prefix: string;
  /** the schema version whose migration creates this table (default 1) */
  since?: number;
  table: string;
  /** outermost first */
  parents: ParentDef[];
  columns: ColumnDef[];
  /** columns that identify an instance in a URL in place of the SID (UniqueName, Identity, address) */
  alternateKeys?: string[];
  /** extra index definitions: column lists */
  indexes?: string[][];
  /** UNIQUE constraints (checked by hooks first, so the caller gets the Twilio error) */
  unique?: { columns: string[]; where?: string }[];
  /**
   * One row per parent scope (Configuration, Service Configuration…): fetch creates it with its initial values
   * on first use, update writes it; no create, delete or list.
   */
  singleton?: boolean;
  /** default list order by creation */
  order?: 'asc' | 'desc';
  /** wire key → path below the instance URL */
  links?: Record<string, string>;
  hooks?: ResourceHooks;
  /**
   * Wire fields beyond the stored columns (timers, delivery, messaging_binding…), computed from `row` (and ctx).
   * It only sets fields and must not read `wire`: on list pages `wire` starts empty (the page writes the stored
   * fields itself, see list-writer.ts).
   */
  represent?(row: Row, ctx: OperationContext, wire: Record<string, unknown>): void;
  /**
   * The columns `represent` reads besides `sid` and the scope's SIDs. A list page reads only these and the
   * columns of its fields; without this list it reads every column.
   */
  representReads?: string[];
}
