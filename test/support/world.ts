/**
 * A world with one of every resource, and valid requests for every operation of the spec: shared by the
 * conformance test and the fuzz test.
 */
import type { OperationSpec } from '../../src/contracts/manifest.js';
import type { TestEmulator } from './emulator.js';
import { addReceipts } from './receipts.js';

export interface World {
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

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

async function ok(t: TestEmulator, method: string, path: string, form?: Record<string, string | string[]>) {
  const r = await t.http(method, path, form ? { form } : {});
  if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
  return r.body;
}

/** One of everything, in the account's default service. */
export async function buildWorld(t: TestEmulator): Promise<World> {
  const service = t.emulator.defaultServiceSid;
  const spareService = (await ok(t, 'POST', '/v1/Services', { FriendlyName: 'spare' })).sid;
  const conversation = (await ok(t, 'POST', '/v1/Conversations', { FriendlyName: 'world', UniqueName: 'world' })).sid;
  const participant = (await ok(t, 'POST', `/v1/Conversations/${conversation}/Participants`, { Identity: 'alice' })).sid;
  const sms = (await ok(t, 'POST', `/v1/Conversations/${conversation}/Participants`, {
    'MessagingBinding.Address': '+15558675310',
    'MessagingBinding.ProxyAddress': '+15017122661',
  })).sid;
  const message = (await ok(t, 'POST', `/v1/Conversations/${conversation}/Messages`, { Author: 'alice', Body: 'hello' })).sid;
  const [receipt] = addReceipts(t.emulator, message, [{ participantSid: sms, status: 'delivered' }]);
  const user = (await ok(t, 'GET', '/v1/Users/alice')).sid;
  const role = (await ok(t, 'POST', '/v1/Roles', { FriendlyName: 'extra', Type: 'conversation', Permission: ['sendMessage'] })).sid;
  const credential = (await ok(t, 'POST', '/v1/Credentials', { Type: 'fcm', Secret: 'fcm-secret', FriendlyName: 'push' })).sid;
  const binding = (await t.http('POST', '/_emulator/push-bindings', {
    auth: null,
    contentType: 'application/json',
    body: JSON.stringify({ chatServiceSid: service, identity: 'alice', bindingType: 'fcm', address: 'device-token', credentialSid: credential }),
  })).body.sid;
  const webhook = (await ok(t, 'POST', `/v1/Conversations/${conversation}/Webhooks`, { Target: 'webhook', 'Configuration.Url': 'https://example.com/hook' })).sid;
  const address = (await ok(t, 'POST', '/v1/Configuration/Addresses', { Type: 'sms', Address: '+15005550006' })).sid;
  return { service, spareService, conversation, participant, message, receipt, user, role, credential, binding, webhook, address };
}

/** The SID an operation's `{Sid}` names, by the resource its operationId is about. */
function instanceSid(world: World, op: OperationSpec): string {
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

export function pathOf(world: World, op: OperationSpec): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    switch (name) {
      case 'ChatServiceSid': return world.service;
      case 'ConversationSid': return world.conversation;
      case 'MessageSid': return world.message;
      case 'UserSid': return world.user;
      default: return instanceSid(world, op);
    }
  });
}

/** Valid values: the required parameters, plus what a valid request of that operation needs. */
export function validParams(op: OperationSpec): Record<string, string | string[]> {
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

