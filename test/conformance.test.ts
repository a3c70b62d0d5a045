/**
 * Conformance: every operation of the spec, called with a valid request built from its parameters, answers the
 * spec's success status with a body that validates against the spec (the harness checks every answer); and the
 * same parameters, given a wrong enum value, a wrong type or an out-of-range number, answer 400 with a Twilio code.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { OperationSpec, ParamSpec } from '../src/contracts/manifest.js';
import { loadManifest } from '../src/contracts/spec.js';
import { formBody, useEmulator } from './support/emulator.js';
import { buildWorld, pathOf, validParams, type World } from './support/world.js';

const t = useEmulator();
const operations = loadManifest();
let world: World;

async function call(op: OperationSpec, params: Record<string, string | string[]>, headers: Record<string, string> = {}) {
  const path = pathOf(world, op);
  if (op.method === 'POST') return t.http('POST', path, { form: params, headers });
  const query = formBody(params);
  return t.http(op.method, query ? `${path}?${query}` : path, { headers });
}

beforeEach(async () => {
  world = await buildWorld(t);
});

describe('every operation of the spec', () => {
  it('covers 103 operations', () => {
    expect(operations).toHaveLength(103);
  });

  it.each(operations.map((op) => [op.operationId, op] as const))('%s answers its success status with a valid body', async (_id, op) => {
    const r = await call(op, validParams(op));
    expect(r.status, r.text).toBe(op.status);
    if (op.status !== 204) expect(r.body).toBeTypeOf('object');
    else expect(r.text).toBe('');
  });
});

/** Invalid values for one parameter, derived from its spec. */
function invalidValues(p: ParamSpec): [string, string | string[]][] {
  const out: [string, string | string[]][] = [];
  if (p.enum) out.push(['wrong enum', p.type === 'array' ? ['not-a-value'] : 'not-a-value']);
  const type = p.type === 'array' ? p.items : p.type;
  if (type === 'integer') out.push(['wrong type', 'twelve']);
  if (type === 'boolean') out.push(['wrong type', 'maybe']);
  if (p.minimum !== undefined) out.push(['below the minimum', String(p.minimum - 1)]);
  if (p.maximum !== undefined && p.name !== 'PageSize') out.push(['above the maximum', String(p.maximum + 1)]);
  return out;
}

const negativeCases = operations.flatMap((op) =>
  op.params
    // headers never fail a request: X-Twilio-Webhook-Enabled other than `true` just disables webhooks (test/enums.test.ts)
    .filter((p) => p.in === 'body' || p.in === 'query')
    .flatMap((p) => invalidValues(p).map(([kind, value]) => [`${op.operationId} ${p.name}: ${kind}`, op, p, value] as const)),
);

describe('invalid parameters answer 400 with a Twilio code', () => {
  it('has negative cases for most operations', () => {
    expect(new Set(negativeCases.map(([, op]) => op.operationId)).size).toBeGreaterThan(40);
  });

  it.each(negativeCases)('%s', async (_name, op, param, value) => {
    const params = validParams(op);
    params[param.name] = value;
    const r = await call(op, params);
    expect(r.status, r.text).toBe(400);
    expect(r.body.code).toBeGreaterThanOrEqual(20000);
    expect(r.body.more_info).toBe(`https://www.twilio.com/docs/errors/${r.body.code}`);
    expect(r.body.message).toContain(param.name);
  });
});

const headerCases = operations.filter((op) => op.params.some((p) => p.in === 'header')).map((op) => [op.operationId, op] as const);

describe('a header value the spec does not list fails nothing (it only leaves webhooks off)', () => {
  it.each(headerCases)('%s', async (_name, op) => {
    const r = await call(op, validParams(op), { 'X-Twilio-Webhook-Enabled': 'not-a-value' });
    expect(r.status, r.text).toBe(op.status);
  });
});
