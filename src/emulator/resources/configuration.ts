/**
 * Account-level configuration: Configuration (default service, messaging service and timers for new
 * conversations, kept on the account itself), Configuration/Webhooks (the account's pre/post-event hooks) and
 * Configuration/Addresses (IG: per-address auto-creation of conversations on inbound messages).
 */
import type { Account } from '../accounts.js';
import { twilioError, invalidParameter } from '../wire/errors.js';
import type { OperationContext } from './context.js';
import type { ResourceDescriptor } from './descriptor.js';
import type { Answer, Call, SpecialOperation } from './operation.js';
import { timerDuration } from './conversations/timers.js';
import { checkUrl } from '../wire/url.js';
import { webhookSettingsHooks } from './service-configuration.js';
import { parseAddress } from './participants/binding.js';

function configuration(ctx: OperationContext, account: Account): Record<string, unknown> {
  const url = `${ctx.baseUrl}/v1/Configuration`;
  return {
    account_sid: account.sid,
    default_chat_service_sid: account.defaultServiceSid,
    default_messaging_service_sid: account.defaultMessagingServiceSid,
    default_inactive_timer: account.defaultInactiveTimer,
    default_closed_timer: account.defaultClosedTimer,
    url,
    links: { service: `${ctx.baseUrl}/v1/Services/${account.defaultServiceSid}/Configuration`, webhooks: `${url}/Webhooks` },
  };
}

function fetchConfiguration(call: Call): Answer {
  return { status: 200, body: call.project(configuration(call.ctx, call.ctx.account)) };
}

function updateConfiguration(call: Call): Answer {
  const { ctx, input } = call;
  const changes: Parameters<OperationContext['accounts']['update']>[1] = {};
  if (input.DefaultChatServiceSid !== undefined) {
    const sid = String(input.DefaultChatServiceSid);
    const service = ctx.db.get('SELECT sid FROM services WHERE sid = ? AND account_sid = ?', sid, ctx.account.sid);
    if (!service) throw invalidParameter(`Invalid DefaultChatServiceSid: service ${sid} does not exist`);
    changes.defaultServiceSid = sid;
  }
  if (input.DefaultMessagingServiceSid !== undefined) {
    const sid = String(input.DefaultMessagingServiceSid);
    if (!/^MG[0-9a-fA-F]{32}$/.test(sid)) throw invalidParameter(`Invalid DefaultMessagingServiceSid: ${sid}`);
    changes.defaultMessagingServiceSid = sid;
  }
  for (const [param, key, timer] of [
    ['DefaultInactiveTimer', 'defaultInactiveTimer', 'Timers.Inactive'],
    ['DefaultClosedTimer', 'defaultClosedTimer', 'Timers.Closed'],
  ] as const) {
    const value = input[param];
    if (value === undefined) continue;
    changes[key] = timerDuration(timer, String(value), ctx.clock.now(), param) === null ? null : String(value);
  }
  const account = ctx.accounts.update(ctx.account.sid, changes);
  return { status: 200, body: call.project(configuration(ctx, account)) };
}

export const configurationOperations: Record<string, SpecialOperation> = {
  FetchConfiguration: { handler: fetchConfiguration, parents: [], serviceTwin: false },
  UpdateConfiguration: { handler: updateConfiguration, parents: [], serviceTwin: false },
};

export const ConfigurationWebhookResource: ResourceDescriptor = {
  name: 'ConfigurationWebhook',
  prefix: 'ZA',
  table: 'account_webhooks',
  since: 2,
  singleton: true,
  parents: [],
  columns: [
    { name: 'method', type: 'text', param: 'Method', initial: 'POST' },
    { name: 'filters', type: 'text', param: 'Filters', initial: '[]' },
    { name: 'pre_webhook_url', type: 'text', param: 'PreWebhookUrl' },
    { name: 'post_webhook_url', type: 'text', param: 'PostWebhookUrl' },
    { name: 'target', type: 'text', param: 'Target', initial: 'webhook' },
  ],
  hooks: webhookSettingsHooks(),
  represent(row, _ctx, wire) {
    wire.filters = JSON.parse(row.filters as string);
  },
};

const AUTO_CREATION = [
  ['enabled', 'AutoCreation.Enabled', 'integer'],
  ['type', 'AutoCreation.Type', 'text'],
  ['conversation_service_sid', 'AutoCreation.ConversationServiceSid', 'text'],
  ['webhook_url', 'AutoCreation.WebhookUrl', 'text'],
  ['webhook_method', 'AutoCreation.WebhookMethod', 'text'],
  ['webhook_filters', 'AutoCreation.WebhookFilters', 'text'],
  ['studio_flow_sid', 'AutoCreation.StudioFlowSid', 'text'],
  ['studio_retry_count', 'AutoCreation.StudioRetryCount', 'integer'],
] as const;

export const ConfigurationAddressResource: ResourceDescriptor = {
  name: 'ConfigurationAddress',
  prefix: 'IG',
  table: 'address_configurations',
  since: 2,
  parents: [],
  columns: [
    { name: 'type', type: 'text', param: 'Type', update: false },
    { name: 'address', type: 'text', param: 'Address', update: false, maxLength: 256 },
    { name: 'friendly_name', type: 'text', param: 'FriendlyName', maxLength: 256 },
    { name: 'address_country', type: 'text', param: 'AddressCountry', update: false },
    ...AUTO_CREATION.map(([name, param, type]) => ({ name: `auto_creation_${name}`, type, param })),
  ],
  alternateKeys: ['address'],
  unique: [{ columns: ['account_sid', 'address'] }],
  hooks: {
    beforeCreate(ctx, values) {
      if (values.type === 'sms' || values.type === 'whatsapp') {
        const parsed = parseAddress(values.address as string, 'InvalidBindingAddress');
        if (values.type === 'whatsapp' && parsed.channel !== 'whatsapp') {
          throw twilioError('InvalidBindingAddress', { reason: 'a whatsapp address configuration needs a whatsapp:+E164 address' });
        }
      }
      if (ctx.db.get('SELECT 1 FROM address_configurations WHERE account_sid = ? AND address = ?', ctx.account.sid, values.address)) {
        throw twilioError('AddressConfigurationExists', { address: values.address as string });
      }
      checkAutoCreation(ctx, values);
    },
    beforeUpdate(ctx, current, changes) {
      checkAutoCreation(ctx, { ...current, ...changes });
    },
    listFilter(_ctx, input) {
      // ListConfigurationAddress?Type=sms keeps the configurations of that type only
      if (input.Type === undefined || input.Type === '') return { where: [], args: [] };
      return { where: ['type = ?'], args: [String(input.Type)] };
    },
  },
  representReads: AUTO_CREATION.map(([name]) => `auto_creation_${name}`),
  represent(row, _ctx, wire) {
    const auto: Record<string, unknown> = {};
    for (const [name] of AUTO_CREATION) {
      const value = row[`auto_creation_${name}`];
      if (value === null) continue;
      auto[name] = name === 'enabled' ? value === 1 : name === 'webhook_filters' ? JSON.parse(value as string) : value;
    }
    wire.auto_creation = auto;
  },
};

function checkAutoCreation(ctx: OperationContext, row: Record<string, unknown>): void {
  const service = row.auto_creation_conversation_service_sid;
  if (service !== null && service !== undefined) {
    if (!ctx.db.get('SELECT 1 FROM services WHERE sid = ? AND account_sid = ?', service as string, ctx.account.sid)) {
      throw invalidParameter(`Invalid AutoCreation.ConversationServiceSid: service ${String(service)} does not exist`);
    }
  }
  checkUrl(row.auto_creation_webhook_url, 'AutoCreation.WebhookUrl');
  if (row.auto_creation_enabled === 1 && row.auto_creation_type === 'webhook' && !row.auto_creation_webhook_url) {
    throw invalidParameter('AutoCreation.WebhookUrl is required when AutoCreation.Type is webhook');
  }
  if (row.auto_creation_enabled === 1 && row.auto_creation_type === 'studio' && !row.auto_creation_studio_flow_sid) {
    throw invalidParameter('AutoCreation.StudioFlowSid is required when AutoCreation.Type is studio');
  }
}
