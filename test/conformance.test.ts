/**
 * Conformance: every operation of the spec, called with a valid request built from its parameters, answers the
 * spec's success status with a body that validates against the spec (the harness checks every answer); and the
 * same parameters, given a wrong enum value, a wrong type or an out-of-range number, answer 400 with a Twilio code.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { OperationSpec, ParamSpec } from '../src/contracts/manifest.js';
import { loadManifest } from '../src/contracts/spec.js';
import { formBody, useEmulator } from './support/emulator.js';
import { addReceipts } from './support/receipts.js';

const t = useEmulator();
const operations = loadManifest();

interface World {
  service: string;
  spareService: string;
  conversation: string;
  participant: string;
  message: string;
  receipt: string;
  user: string;
  role: string;
  credential: string;
  binding: string;
  webhook: string;
  address: string;
}

let world: World;
let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

async function ok(method: string, path: string, form?: Record<string, string | string[]>) {
  const r = await t.http(method, path, form ? { form } : {});
  if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
  return r.body;
}

/** One of everything, in the account's default service. */
async function buildWorld(): Promise<World> {
  const service = t.emulator.defaultServiceSid;
  const spareService = (await ok('POST', '/v1/Services', { FriendlyName: 'spare' })).sid;
  const conversation = (await ok('POST', '/v1/Conversations', { FriendlyName: 'world', UniqueName: 'world' })).sid;
  const participant = (await ok('POST', `/v1/Conversations/${conversation}/Participants`, { Identity: 'alice' })).sid;
  const sms = (await ok('POST', `/v1/Conversations/${conversation}/Participants`, {
    'MessagingBinding.Address': '+15558675310',
    'MessagingBinding.ProxyAddress': '+15017122661',
  })).sid;
  const message = (await ok('POST', `/v1/Conversations/${conversation}/Messages`, { Author: 'alice', Body: 'hello' })).sid;
  const [receipt] = addReceipts(t.emulator, message, [{ participantSid: sms, status: 'delivered' }]);
  const user = (await ok('GET', '/v1/Users/alice')).sid;
  const role = (await ok('POST', '/v1/Roles', { FriendlyName: 'extra', Type: 'conversation', Permission: ['sendMessage'] })).sid;
  const credential = (await ok('POST', '/v1/Credentials', { Type: 'fcm', Secret: 'fcm-secret', FriendlyName: 'push' })).sid;
  const binding = (await t.http('POST', '/_emulator/push-bindings', {
    auth: null,
    contentType: 'application/json',
    body: JSON.stringify({ chatServiceSid: service, identity: 'alice', bindingType: 'fcm', address: 'device-token', credentialSid: credential }),
  })).body.sid;
  const webhook = (await ok('POST', `/v1/Conversations/${conversation}/Webhooks`, { Target: 'webhook', 'Configuration.Url': 'https://example.com/hook' })).sid;
  const address = (await ok('POST', '/v1/Configuration/Addresses', { Type: 'sms', Address: '+15005550006' })).sid;
  return { service, spareService, conversation, participant, message, receipt, user, role, credential, binding, webhook, address };
}

/** The SID an operation's `{Sid}` names, by the resource its operationId is about. */
function instanceSid(op: OperationSpec): string {
  const noun = op.operationId.replace(/^(Create|Fetch|Update|Delete|List)/, '').replace(/^Service(?=Conversation|Role|User)/, '');
  const byNoun: Record<string, string> = {
    Service: world.spareService,
    Conversation: world.conversation,
    ConversationParticipant: world.participant,
    ConversationMessage: world.message,
    ConversationMessageReceipt: world.receipt,
    ConversationScopedWebhook: world.webhook,
    User: world.user,
    Role: world.role,
    Credential: world.credential,
    ServiceBinding: world.binding,
    ConfigurationAddress: world.address,
  };
  const sid = byNoun[noun];
  if (!sid) throw new Error(`no fixture for {Sid} of ${op.operationId}`);
  return sid;
}

function pathOf(op: OperationSpec): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    switch (name) {
      case 'ChatServiceSid': return world.service;
      case 'ConversationSid': return world.conversation;
      case 'MessageSid': return world.message;
      case 'UserSid': return world.user;
      default: return instanceSid(op);
    }
  });
}

/** Valid values: the required parameters, plus what a valid request of that operation needs. */
function validParams(op: OperationSpec): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  const fallback: Record<string, string | string[]> = {
    FriendlyName: 'conformance',
    Identity: unique('identity'),
    Permission: ['sendMessage'],
    Target: 'webhook',
    Address: `+1500555${String(1000 + counter++).slice(-4)}`,
  };
  for (const p of op.params) {
    if (!p.required || p.in === 'path' || p.in === 'header') continue;
    params[p.name] = fallback[p.name] ?? (p.enum ? p.enum[0] : 'value');
  }
  const extra: Record<string, Record<string, string | string[]>> = {
    CreateRole: { Type: 'conversation' },
    CreateServiceRole: { Type: 'conversation' },
    CreateCredential: { Type: 'fcm', Secret: 'secret' },
    CreateConfigurationAddress: { Type: 'sms' },
    CreateConversationScopedWebhook: { 'Configuration.Url': 'https://example.com/c' },
    CreateServiceConversationScopedWebhook: { 'Configuration.Url': 'https://example.com/c' },
    CreateConversationMessage: { Body: 'conformance' },
    CreateServiceConversationMessage: { Body: 'conformance' },
    CreateConversationParticipant: { Identity: unique('participant') },
    CreateServiceConversationParticipant: { Identity: unique('participant') },
    CreateConversationWithParticipants: { Participant: [JSON.stringify({ identity: unique('cwp') })] },
    CreateServiceConversationWithParticipants: { Participant: [JSON.stringify({ identity: unique('cwp') })] },
    ListParticipantConversation: { Identity: 'alice' },
    ListServiceParticipantConversation: { Identity: 'alice' },
    UpdateRole: { Permission: ['sendMessage', 'leaveConversation'] },
    UpdateServiceRole: { Permission: ['sendMessage', 'leaveConversation'] },
  };
  return { ...params, ...extra[op.operationId] };
}

async function call(op: OperationSpec, params: Record<string, string | string[]>, headers: Record<string, string> = {}) {
  const path = pathOf(op);
  if (op.method === 'POST') return t.http('POST', path, { form: params, headers });
  const query = formBody(params);
  return t.http(op.method, query ? `${path}?${query}` : path, { headers });
}

beforeEach(async () => {
  world = await buildWorld();
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
    .filter((p) => p.in === 'body' || p.in === 'query' || p.in === 'header')
    .flatMap((p) => invalidValues(p).map(([kind, value]) => [`${op.operationId} ${p.name}: ${kind}`, op, p, value] as const)),
);

describe('invalid parameters answer 400 with a Twilio code', () => {
  it('has negative cases for most operations', () => {
    expect(new Set(negativeCases.map(([, op]) => op.operationId)).size).toBeGreaterThan(60);
  });

  it.each(negativeCases)('%s', async (_name, op, param, value) => {
    const params = validParams(op);
    const headers: Record<string, string> = {};
    if (param.in === 'header') headers[param.name] = String(value);
    else params[param.name] = value;
    const r = await call(op, params, headers);
    expect(r.status, r.text).toBe(400);
    expect(r.body.code).toBeGreaterThanOrEqual(20000);
    expect(r.body.more_info).toBe(`https://www.twilio.com/docs/errors/${r.body.code}`);
    expect(r.body.message).toContain(param.name);
  });
});
