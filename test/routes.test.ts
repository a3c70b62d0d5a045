/**
 * The route table (src/emulator/http/routes.ts) built from the vendored spec's operations: which operations it
 * serves, at which mount, for which resource, and the instance URLs it writes for rows (`url` and `links`).
 */
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../src/contracts/spec.js';
import { buildRouteTable, routeTableFor } from '../src/emulator/http/routes.js';

const operations = loadManifest();
const table = buildRouteTable(operations);
const BASE = 'https://conversations.twilio.com';
const IS = 'IS' + 'a'.repeat(32);
const CH = 'CH' + 'b'.repeat(32);
const IM = 'IM' + 'c'.repeat(32);

describe('route table', () => {
  it('serves every operation of the spec once, at its path with :Params', () => {
    expect(table.unserved).toEqual([]);
    expect(table.routes.map((r) => r.op.operationId).sort()).toEqual(operations.map((o) => o.operationId).sort());
    for (const r of table.routes) {
      expect(r.url).toBe(r.op.path.replace(/\{(\w+)\}/g, ':$1'));
      expect(r.url).not.toMatch(/[{}]/);
      expect(r.properties).toBe(r.op.properties);
      expect(r.op.operationId).toBe(r.scope === 'service' ? `${r.verb}Service${r.resource}` : `${r.verb}${r.resource}`);
    }
  });

  it('gives a /v1/Services/{ChatServiceSid}/ twin the resource of its default mount', () => {
    const route = (id: string) => table.routes.find((r) => r.op.operationId === id);
    expect(route('CreateServiceConversation')).toMatchObject({ scope: 'service', verb: 'Create', resource: 'Conversation' });
    expect(route('CreateConversation')).toMatchObject({ scope: 'default', verb: 'Create', resource: 'Conversation' });
    expect(route('ListServiceConversationMessage')).toMatchObject({ scope: 'service', verb: 'List', resource: 'ConversationMessage' });
    expect(route('ListServiceUserConversation')).toMatchObject({ scope: 'service', resource: 'UserConversation' });
    // the Service's own Configuration is a resource of its own, not a twin of the account's Configuration
    expect(route('FetchServiceConfiguration')).toMatchObject({ scope: 'default', resource: 'ServiceConfiguration' });
    expect(route('FetchConfiguration')).toMatchObject({ scope: 'default', resource: 'Configuration' });
    expect(route('DeleteService')).toMatchObject({ scope: 'default', verb: 'Delete', resource: 'Service' });
    expect(route('ListService')).toMatchObject({ scope: 'default', verb: 'List', resource: 'Service' });
    expect(route('UpdateConversationParticipant')?.parents.map((p) => p.pathParam)).toEqual(['ChatServiceSid', 'ConversationSid']);
  });

  it('writes instance URLs from the row at either mount; Service at both; unknown resources get none', () => {
    const message = { sid: IM, chat_service_sid: IS, conversation_sid: CH };
    expect(table.urlOf('default', 'ConversationMessage', message, BASE)).toBe(`${BASE}/v1/Conversations/${CH}/Messages/${IM}`);
    expect(table.urlOf('service', 'ConversationMessage', message, BASE)).toBe(`${BASE}/v1/Services/${IS}/Conversations/${CH}/Messages/${IM}`);
    expect(table.urlOf('service', 'Service', { sid: IS }, BASE)).toBe(`${BASE}/v1/Services/${IS}`);
    expect(table.urlOf('default', 'Service', { sid: IS }, BASE)).toBe(`${BASE}/v1/Services/${IS}`);
    // a resource served at the default mount only: the service scope falls back to it
    expect(table.urlOf('service', 'Credential', { sid: 'CR1' }, BASE)).toBe(`${BASE}/v1/Credentials/CR1`);
    expect(table.urlOf('default', 'Conversation', { sid: null }, BASE)).toBe(`${BASE}/v1/Conversations/`);
    expect(table.urlOf('default', 'NoSuchThing', { sid: 'x' }, BASE)).toBe('');
    expect(table.urlPattern('default', 'NoSuchThing')).toBeUndefined();
    expect(table.urlPattern('service', 'Conversation')).toEqual({ literals: ['/v1/Services/', '/Conversations/', ''], columns: ['chat_service_sid', 'sid'] });
  });

  it('writes, for every fetched resource, its Fetch path with each {Param} from its column', () => {
    const column: Record<string, string> = { Sid: 'sid', ChatServiceSid: 'chat_service_sid', ConversationSid: 'conversation_sid', MessageSid: 'message_sid', UserSid: 'user_sid' };
    for (const r of table.routes.filter((x) => x.verb === 'Fetch' && x.op.path.includes('{Sid}'))) {
      const row = Object.fromEntries(Object.values(column).map((c) => [c, `<${c}>`]));
      const expected = BASE + r.op.path.replace(/\{(\w+)\}/g, (_, p: string) => `<${column[p]}>`);
      expect(table.urlOf(r.scope, r.resource, row, BASE), r.op.operationId).toBe(expected);
    }
  });

  it('is built once per manifest', () => {
    expect(routeTableFor(operations)).toBe(routeTableFor(operations));
    expect(routeTableFor([...operations])).not.toBe(routeTableFor(operations));
  });

  it('leaves out operations whose verb or resource it does not know', () => {
    const odd = [
      { ...operations[0], operationId: 'PatchConversation' },
      { ...operations[0], operationId: 'FetchNoSuchResource' },
    ];
    const t = buildRouteTable(odd);
    expect(t.routes).toEqual([]);
    expect(t.unserved).toEqual(['PatchConversation', 'FetchNoSuchResource']);
  });
});
