/**
 * The scenario API: `defineScenario({ name, suite, tags, needs, run })`. A scenario is steps against `ctx.target`
 * (Twilio as the SDK sees it, plus the target's capabilities) and `ctx.consumer` (the system under test), with
 * assertions that throw `AssertionFailure`. Users write their own the same way and pass them to `runScenarios`.
 */
import { isDeepStrictEqual, inspect } from 'node:util';
import type { Capability, Target } from './target.js';
import type { Consumer } from './consumer.js';
import type { Random } from './random.js';

export type { Capability } from './target.js';

export interface ScenarioContext {
  target: Target;
  /** the system under test: the reference router, or the `--consumer` URL */
  consumer: Consumer;
  /** this scenario's seed: the run seed and its name */
  seed: string;
  /** seeded draws: the same seed draws the same faults */
  random: Random;
  log(...parts: unknown[]): void;
  /** a passed scenario that could not check everything says so here (shown in the report) */
  note(text: string): void;
  /** the target or consumer has it (a check that is optional) */
  has(capability: Capability): boolean;
  /** a step that cannot run without it: the scenario ends `skipped: needs <capability>` */
  needs(capability: Capability): void;
  /** a fresh phone number, unique within the scenario: `+1555` and 7 digits */
  number(): string;
  expect: Expect;
  /** poll until `check` stops throwing an AssertionFailure (or returns), at most `timeoutMs` */
  eventually<T>(check: () => Promise<T> | T, timeoutMs?: number): Promise<T>;
}

export interface Expect {
  equal<T>(actual: T, expected: T, what: string): void;
  ok(condition: unknown, what: string): void;
  count(items: readonly unknown[], n: number, what: string): void;
}

export interface ScenarioDefinition {
  name: string;
  suite: string;
  tags?: string[];
  needs?: Capability[];
  /** shown by `tce scenario list` */
  description?: string;
  run(ctx: ScenarioContext): Promise<void>;
}

export interface Scenario extends Required<Omit<ScenarioDefinition, 'description'>> {
  description: string;
}

/** an assertion that did not hold: the scenario failed */
export class AssertionFailure extends Error {
  override readonly name = 'AssertionFailure';
  /** a conversation the failure is about: the report shows its webhook journal */
  conversationSid?: string;
  constructor(message: string, options: { conversationSid?: string } = {}) {
    super(message);
    this.conversationSid = options.conversationSid;
  }
}

/** thrown by `ctx.needs`: the scenario is skipped with this reason */
export class ScenarioSkipped extends Error {
  override readonly name = 'ScenarioSkipped';
}

/** one line of printable text: it is a CLI selector and a JUnit test name */
const NAME = /^[^\x00-\x1f\x7f]{1,120}$/;

export function defineScenario(definition: ScenarioDefinition): Scenario {
  if (!definition.name || !NAME.test(definition.name)) throw new Error(`scenario name must be plain text, got ${JSON.stringify(definition.name)}`);
  if (!definition.suite || !/^[a-z0-9-]+$/.test(definition.suite)) throw new Error(`scenario suite must be kebab-case, got ${JSON.stringify(definition.suite)}`);
  if (typeof definition.run !== 'function') throw new Error(`scenario ${definition.name} has no run function`);
  return {
    name: definition.name,
    suite: definition.suite,
    tags: definition.tags ?? [],
    needs: definition.needs ?? [],
    description: definition.description ?? '',
    run: definition.run,
  };
}

function show(value: unknown): string {
  return inspect(value, { depth: 6, breakLength: 120, maxArrayLength: 30 });
}

export const expectations: Expect = {
  equal(actual, expected, what) {
    if (!isDeepStrictEqual(actual, expected)) throw new AssertionFailure(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  },
  ok(condition, what) {
    if (!condition) throw new AssertionFailure(what);
  },
  count(items, n, what) {
    if (items.length !== n) throw new AssertionFailure(`${what}: expected ${n}, got ${items.length}: ${show(items)}`);
  },
};
