/**
 * The per-service singletons: Configuration (default roles, reachability), Configuration/Notifications (push
 * templates) and Configuration/Webhooks (pre/post-event hooks of the service). Each is one row per service,
 * created with Twilio's defaults on first read.
 */
import type { Row } from '../store/database.js';
import { invalidParameter } from '../wire/errors.js';
import { checkUrl } from '../wire/url.js';
import type { ResourceDescriptor } from './descriptor.js';
import { requireRole } from './roles.js';
import { IN_SERVICE } from './scopes.js';

const bool = (v: unknown) => (v === null || v === undefined ? null : v === 1 || v === true);

export const ServiceConfigurationResource: ResourceDescriptor = {
  name: 'ServiceConfiguration',
  prefix: 'ZC',
  table: 'service_configurations',
  since: 2,
  singleton: true,
  parents: [IN_SERVICE],
  columns: [
    { name: 'default_conversation_creator_role_sid', type: 'text', param: 'DefaultConversationCreatorRoleSid' },
    { name: 'default_conversation_role_sid', type: 'text', param: 'DefaultConversationRoleSid' },
    { name: 'default_chat_service_role_sid', type: 'text', param: 'DefaultChatServiceRoleSid' },
    { name: 'reachability_enabled', type: 'integer', param: 'ReachabilityEnabled', initial: 0 },
  ],
  links: { notifications: 'Notifications', webhooks: 'Webhooks' },
  hooks: {
    beforeUpdate(ctx, current, changes) {
      const checks = [
        ['default_conversation_creator_role_sid', 'DefaultConversationCreatorRoleSid', 'conversation'],
        ['default_conversation_role_sid', 'DefaultConversationRoleSid', 'conversation'],
        ['default_chat_service_role_sid', 'DefaultChatServiceRoleSid', 'service'],
      ] as const;
      for (const [column, param, type] of checks) {
        if (column in changes) requireRole(ctx, current.chat_service_sid, changes[column], type, param);
      }
    },
  },
  represent(row, _ctx, wire) {
    wire.reachability_enabled = bool(row.reachability_enabled);
  },
};

/** The defaults a new service's Configuration row starts with. */
export function serviceConfigurationRow(roles: { serviceUser: string; channelUser: string; channelAdmin: string }): Row {
  return {
    default_conversation_creator_role_sid: roles.channelAdmin,
    default_conversation_role_sid: roles.channelUser,
    default_chat_service_role_sid: roles.serviceUser,
    reachability_enabled: 0,
  };
}

const NOTIFICATION_KINDS = [
  ['new_message', 'NewMessage'],
  ['added_to_conversation', 'AddedToConversation'],
  ['removed_from_conversation', 'RemovedFromConversation'],
] as const;

export const ServiceNotificationResource: ResourceDescriptor = {
  name: 'ServiceNotification',
  prefix: 'ZN',
  table: 'service_notifications',
  since: 2,
  singleton: true,
  parents: [IN_SERVICE],
  columns: [
    { name: 'log_enabled', type: 'integer', param: 'LogEnabled', initial: 0 },
    ...NOTIFICATION_KINDS.flatMap(([column, param]) => [
      { name: `${column}_enabled`, type: 'integer' as const, param: `${param}.Enabled`, initial: 0 },
      { name: `${column}_template`, type: 'text' as const, param: `${param}.Template` },
      { name: `${column}_sound`, type: 'text' as const, param: `${param}.Sound` },
    ]),
    { name: 'new_message_badge_count_enabled', type: 'integer', param: 'NewMessage.BadgeCountEnabled', initial: 0 },
    { name: 'new_message_with_media_enabled', type: 'integer', param: 'NewMessage.WithMedia.Enabled', initial: 0 },
    { name: 'new_message_with_media_template', type: 'text', param: 'NewMessage.WithMedia.Template' },
  ],
  represent(row, _ctx, wire) {
    wire.log_enabled = bool(row.log_enabled);
    for (const [kind] of NOTIFICATION_KINDS) {
      const settings: Record<string, unknown> = { enabled: bool(row[`${kind}_enabled`]) };
      if (row[`${kind}_template`] !== null) settings.template = row[`${kind}_template`];
      if (row[`${kind}_sound`] !== null) settings.sound = row[`${kind}_sound`];
      wire[kind] = settings;
    }
    const message = wire.new_message as Record<string, unknown>;
    message.badge_count_enabled = bool(row.new_message_badge_count_enabled);
    message.with_media = {
      enabled: bool(row.new_message_with_media_enabled),
      ...(row.new_message_with_media_template === null ? {} : { template: row.new_message_with_media_template }),
    };
  },
};

/** Pre/post webhook settings, shared by the account-level and the service-level configuration. */
export function webhookSettingsHooks(): ResourceDescriptor['hooks'] {
  return {
    beforeUpdate(_ctx, _current, changes) {
      if ('pre_webhook_url' in changes) checkUrl(changes.pre_webhook_url, 'PreWebhookUrl');
      if ('post_webhook_url' in changes) checkUrl(changes.post_webhook_url, 'PostWebhookUrl');
      for (const key of ['pre_webhook_url', 'post_webhook_url']) if (changes[key] === '') changes[key] = null;
    },
  };
}

export const ServiceWebhookConfigurationResource: ResourceDescriptor = {
  name: 'ServiceWebhookConfiguration',
  prefix: 'ZW',
  table: 'service_webhooks',
  since: 2,
  singleton: true,
  parents: [IN_SERVICE],
  columns: [
    { name: 'pre_webhook_url', type: 'text', param: 'PreWebhookUrl' },
    { name: 'post_webhook_url', type: 'text', param: 'PostWebhookUrl' },
    { name: 'filters', type: 'text', param: 'Filters', initial: '[]' },
    { name: 'method', type: 'text', param: 'Method', initial: 'POST' },
  ],
  hooks: webhookSettingsHooks(),
  represent(row, _ctx, wire) {
    wire.filters = JSON.parse(row.filters as string);
  },
};
