/** The shape of one served operation, as the route table calls it. */
import type { OperationSpec } from '../../contracts/manifest.js';
import type { OperationContext } from './context.js';
import type { Input, ParentDef } from './descriptor.js';

export interface Call {
  ctx: OperationContext;
  op: OperationSpec;
  /** typed body (POST) or query (GET) parameters, by spec name */
  input: Input;
  /** path parameters */
  path: Record<string, string>;
  /** PageSize after defaults and clamping (lists only) */
  pageSize: number;
  /** keep only the spec's properties for this operation, in spec order */
  project(wire: Record<string, unknown>): Record<string, unknown>;
}

export interface Answer {
  status: number;
  body?: unknown;
  /** the body already written as JSON text (list pages): sent as it is, in place of `body` */
  json?: string;
}

export type OperationHandler = (call: Call) => Answer;

/** An operation served by its own handler rather than the generic CRUD of a descriptor. */
export interface SpecialOperation {
  handler: OperationHandler;
  /** parents to resolve from the path before the handler runs, outermost first */
  parents: ParentDef[];
  /** also served under /v1/Services/{ChatServiceSid}/ as the `Service…` twin */
  serviceTwin: boolean;
}
