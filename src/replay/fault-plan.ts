/**
 * `--faults rules.json` on a replay: the emulator's webhook fault rules (`PUT /_emulator/faults/webhooks`, same
 * parser, same first-match decision, same seeded draws) acted out by the sender. The whole plan is computed before
 * the first send, from the seed alone, so two runs with one seed send the same sequence at the same offsets.
 *
 * What applies client-side:
 * - drop: the line is not sent (counted as dropped);
 * - duplicate {count}: `count` more copies right after it, same headers (idempotency token included);
 * - delay {ms | uniform | lognormal}: the line goes later by the drawn delay (others do not wait for it);
 * - reorder {window, ms}: matching lines are held until `window` of them are held or `ms` passed since the first,
 *   then sent together in a seeded shuffled order.
 * `fail` (and its alias `retry`) is refused: in the emulator it fakes the consumer's answer to drive Twilio's retries,
 * which a replay, sending to the real consumer, does not have. Fault delays are real milliseconds, not divided by
 * --speed. Match keys: eventType (params.EventType), url (--url), conversationSid, accountSid (from the params).
 */
import { readFile } from 'node:fs/promises';
import { createRandom } from '../emulator/random.js';
import { FaultRules, parseRules, type FaultAction, type FaultRule } from '../emulator/webhooks/faults.js';
import type { ReplayLine } from './jsonl-reader.js';

export interface PlannedSend {
  /** index into the lines */
  index: number;
  /** 0: the line itself; 1…: a duplicate */
  copy: number;
  /** milliseconds after the start */
  at: number;
}

export interface FaultPlan {
  sends: PlannedSend[];
  dropped: number;
  duplicated: number;
  delayed: number;
  reordered: number;
}

export class FaultsFileError extends Error {}

/** Read and check a rules file: `{"rules": [...]}` as the control plane takes it, or the bare array. */
export async function readFaultRules(file: string): Promise<FaultRule[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new FaultsFileError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new FaultsFileError(`${file}: not JSON (${(error as Error).message})`);
  }
  let rules: FaultRule[];
  try {
    rules = parseRules(Array.isArray(body) ? { rules: body } : body);
  } catch (error) {
    throw new FaultsFileError(`${file}: ${(error as Error).message}`);
  }
  const fail = rules.findIndex((r) => r.action.type === 'fail');
  if (fail >= 0) {
    throw new FaultsFileError(`${file}: rules[${fail}].action fail does not apply to a replay (it fakes the consumer's answer in the emulator); use drop, delay, duplicate or reorder`);
  }
  return rules;
}

interface HeldGroup {
  members: number[];
  openedAt: number;
  window: number;
  ms: number;
}

/** The sends of a replay: every line at its offset, as the rules (first match wins) and the seed decide. */
export function planSends(lines: ReplayLine[], offsets: number[], url: string, rules: FaultRule[], seed: string | undefined): FaultPlan {
  const plan: FaultPlan = { sends: [], dropped: 0, duplicated: 0, delayed: 0, reordered: 0 };
  const faults = new FaultRules(createRandom(seed));
  faults.rules = rules;
  const held = new Map<FaultAction, HeldGroup>();
  const release = (group: HeldGroup, at: number) => {
    for (const index of faults.shuffle(group.members)) plan.sends.push({ index, copy: 0, at });
    plan.reordered += group.members.length;
  };
  lines.forEach((line, index) => {
    const at = offsets[index];
    // a held group whose time ran out before this line is released first (its shuffle is drawn first, too)
    for (const [action, group] of held) {
      if (group.openedAt + group.ms <= at) {
        held.delete(action);
        release(group, group.openedAt + group.ms);
      }
    }
    const param = (name: string) => (typeof line.params[name] === 'string' ? (line.params[name] as string) : undefined);
    const action = faults.decide({ eventType: param('EventType') ?? '', url, conversationSid: param('ConversationSid') ?? null, accountSid: param('AccountSid') });
    switch (action?.type) {
      case 'drop':
        plan.dropped++;
        return;
      case 'delay':
        plan.delayed++;
        plan.sends.push({ index, copy: 0, at: at + faults.delayMs(action) });
        return;
      case 'duplicate':
        plan.duplicated += action.count;
        for (let copy = 0; copy <= action.count; copy++) plan.sends.push({ index, copy, at });
        return;
      case 'reorder': {
        let group = held.get(action);
        if (!group) held.set(action, (group = { members: [], openedAt: at, window: action.window, ms: action.ms }));
        group.members.push(index);
        if (group.members.length >= group.window) {
          held.delete(action);
          release(group, at);
        }
        return;
      }
      default:
        plan.sends.push({ index, copy: 0, at });
    }
  });
  for (const group of held.values()) release(group, group.openedAt + group.ms);
  // by due time; equal times keep the order they were planned in (Array.prototype.sort is stable)
  plan.sends.sort((a, b) => a.at - b.at);
  return plan;
}
