/**
 * Derived state as a pure fold of the event log: no I/O, no clock, no randomness.
 *
 * Merge rules. Every doc is a set of registers (`doc.reg`, see docs.ts) plus plain fields projected from them, and
 * an event is applied by joining the registers it carries (event-deltas.ts) into the docs it touches. Each join
 * is commutative, associative and idempotent, so any permutation of the same events, with any duplicates, gives
 * the same docs (keys sorted, so they serialise the same too):
 * - attributes (body, identity, state, …): last writer wins by the event's own time (DateUpdated, else
 *   DateCreated / DateRemoved; StateUpdated for state changes; `At` for audit facts; `receivedAt` for Messaging
 *   events, which carry no time), ties broken by the dedupe key, then by the value. Never the log id.
 * - a field the event does not carry is not written, so it never erases what another event said.
 * - removal: a tombstone that stays (the first removal is kept); a participant removed before its "added" arrives
 *   stays removed. SIDs are never reused, so nothing revives an entity.
 * - delivery (per message and recipient participant; per SM for Messaging): the highest status rank wins
 *   (delivery-rank.ts): failed / undelivered are above read, so no late success overwrites a failure.
 * - reachability: a failed / undelivered receipt with 30003, 30005, 30006, 30007, 21610 or 63016 sets a `failure`
 *   register (last writer wins: lastErrorCode is the latest such code); once set it stays (grow-only).
 * - lastInboundAt: the max of the inbound times seen (grow-only).
 * - suppression: last writer wins by `At`; an add and a lift of the same millisecond give suppressed.
 * Limits: a form cannot carry null, so a field cleared to empty at Twilio keeps its last value here; a Messaging
 * status callback's time is the router's `receivedAt` (only ties of equal rank depend on it); two events with one
 * dedupe key are assumed to be the same event (same params, and the same receivedAt where that is their time).
 * Reachability is grow-only: nothing here makes a participant reachable again (a later success does not).
 */
import type { LoggedEvent } from '../events.js';
import { sameDoc } from '../store/event-rows.js';
import type { EntityDoc, EntityRef } from '../store/types.js';
import { type EntityKind, isEntityKind, project, SCHEMAS } from './docs.js';
import { type Delta, eventDeltas } from './event-deltas.js';
import { type Json, type Registers, canonical, canonicalJson, joinRegisters } from './registers.js';

export { relatedRefs, conversationView, isSuppressed, suppressionRef, contactRef, suppressionView } from './view.js';
export { suppressionId } from './event-deltas.js';

export const entityKey = (ref: EntityRef): string => `${ref.kind}:${ref.id}`;

/** The docs applyEvent reads and writes for this event (the worker loads exactly these first). */
export function touchedEntities(event: LoggedEvent): EntityRef[] {
  return eventDeltas(event).map(({ kind, id }) => ({ kind, id }));
}

/** Both known → the smaller, so the doc's conversation does not depend on which event came first. */
function conversationOf(a: string | null | undefined, b: string | null): string | null {
  if (a === undefined || a === null) return b;
  if (b === null) return a;
  return a <= b ? a : b;
}

interface Working {
  kind: EntityKind;
  id: string;
  conversationSid: string | null;
  reg: Registers;
}

function registersOf(doc: EntityDoc | undefined): Registers | undefined {
  const reg = doc?.doc.reg;
  return reg !== null && typeof reg === 'object' && !Array.isArray(reg) ? (reg as Registers) : undefined;
}

function join(current: Working | undefined, delta: Delta): Working {
  return {
    kind: delta.kind,
    id: delta.id,
    conversationSid: conversationOf(current?.conversationSid, delta.conversationSid),
    reg: joinRegisters(SCHEMAS[delta.kind], current?.reg, delta.reg),
  };
}

function finish(w: Working): EntityDoc {
  const doc = canonical({ ...project(w.kind, w.id, w.reg), reg: w.reg } as Json) as Record<string, unknown>;
  return { kind: w.kind, id: w.id, conversationSid: w.conversationSid, doc };
}

function working(doc: EntityDoc | undefined): Working | undefined {
  if (doc === undefined || !isEntityKind(doc.kind)) return undefined;
  return { kind: doc.kind, id: doc.id, conversationSid: doc.conversationSid, reg: registersOf(doc) ?? {} };
}

/**
 * The new versions of the docs this event changes (unchanged ones are not returned). `current` holds at least the
 * docs of touchedEntities(event) that exist. `deltas`: eventDeltas(event), when the caller has them already.
 */
export function applyEvent(current: ReadonlyMap<string, EntityDoc>, event: LoggedEvent, deltas: readonly Delta[] = eventDeltas(event)): EntityDoc[] {
  const out: EntityDoc[] = [];
  for (const delta of deltas) {
    const before = current.get(entityKey(delta));
    const after = finish(join(working(before), delta));
    if (before === undefined || !sameDoc(before, after)) out.push(after);
  }
  return out;
}

/**
 * Two versions of one doc joined, register by register (canonical, as finish() writes it): what the store writes for
 * a doc other partitions may have written since it was read (SharedDocs.merge). Every register joins commutatively,
 * associatively and idempotently, so join(stored, written) holds every event either version holds.
 */
export function joinDocs(stored: EntityDoc, written: EntityDoc): EntityDoc {
  const a = working(stored);
  const b = working(written);
  if (a === undefined || b === undefined || a.kind !== b.kind || a.id !== b.id) {
    throw new Error(`cannot join docs ${entityKey(stored)} and ${entityKey(written)}`);
  }
  return finish({
    kind: a.kind,
    id: a.id,
    conversationSid: conversationOf(a.conversationSid, b.conversationSid),
    reg: joinRegisters(SCHEMAS[a.kind], a.reg, b.reg),
  });
}

/** All events applied from empty; the map is keyed by entityKey, in key order. */
export function foldLog(events: Iterable<LoggedEvent>): Map<string, EntityDoc> {
  const state = new Map<string, Working>();
  for (const event of events) {
    for (const delta of eventDeltas(event)) {
      const key = entityKey(delta);
      state.set(key, join(state.get(key), delta));
    }
  }
  const out = new Map<string, EntityDoc>();
  for (const key of [...state.keys()].sort()) out.set(key, finish(state.get(key)!));
  return out;
}
