/**
 * Conversation-scoped Webhooks (WH): at most five per conversation; `webhook` (Url, Method, Filters),
 * `trigger` (Url, Method, Triggers: keywords) and `studio` (FlowSid), post-event only.
 * Limitation: studio targets are recorded, not executed.
 */
import { invalidParameter, twilioError } from '../../wire/errors.js';
import type { Row } from '../../store/database.js';
import type { ResourceDescriptor } from '../descriptor.js';
import { IN_CONVERSATION, IN_SERVICE } from '../scopes.js';
import { checkUrl } from '../../wire/url.js';

const MAX_WEBHOOKS = 5;

function check(row: Row): void {
  const target = row.target as string;
  if (target === 'webhook' || target === 'trigger') {
    if (!row.configuration_url) throw invalidParameter(`Configuration.Url is required for a ${target} webhook`);
    checkUrl(row.configuration_url, 'Configuration.Url');
  }
  if (target === 'trigger' && JSON.parse((row.configuration_triggers as string | null) ?? '[]').length === 0) {
    throw invalidParameter('Configuration.Triggers is required for a trigger webhook');
  }
  if (target === 'studio') {
    if (!row.configuration_flow_sid) throw invalidParameter('Configuration.FlowSid is required for a studio webhook');
    if (!/^FW[0-9a-fA-F]{32}$/.test(String(row.configuration_flow_sid))) {
      throw invalidParameter(`Invalid Configuration.FlowSid: ${String(row.configuration_flow_sid)}`);
    }
  }
}

export const ConversationWebhookResource: ResourceDescriptor = {
  name: 'ConversationScopedWebhook',
  prefix: 'WH',
  table: 'conversation_webhooks',
  since: 2,
  parents: [IN_SERVICE, IN_CONVERSATION],
  columns: [
    { name: 'target', type: 'text', param: 'Target', update: false },
    { name: 'configuration_url', type: 'text', param: 'Configuration.Url' },
    { name: 'configuration_method', type: 'text', param: 'Configuration.Method', initial: 'post' },
    { name: 'configuration_filters', type: 'text', param: 'Configuration.Filters' },
    { name: 'configuration_triggers', type: 'text', param: 'Configuration.Triggers' },
    { name: 'configuration_flow_sid', type: 'text', param: 'Configuration.FlowSid' },
    { name: 'configuration_replay_after', type: 'integer', param: 'Configuration.ReplayAfter', update: false },
  ],
  hooks: {
    beforeCreate(ctx, values) {
      const count = ctx.db.get('SELECT count(*) AS n FROM conversation_webhooks WHERE conversation_sid = ?', values.conversation_sid);
      if (Number(count?.n) >= MAX_WEBHOOKS) throw twilioError('WebhookLimit', { limit: MAX_WEBHOOKS });
      check(values);
    },
    beforeUpdate(_ctx, current, changes) {
      check({ ...current, ...changes });
    },
  },
  representReads: [
    'target',
    'configuration_url',
    'configuration_method',
    'configuration_filters',
    'configuration_triggers',
    'configuration_flow_sid',
    'configuration_replay_after',
  ],
  represent(row, _ctx, wire) {
    const configuration: Record<string, unknown> = {};
    if (row.target === 'studio') {
      configuration.flow_sid = row.configuration_flow_sid;
      if (row.configuration_replay_after !== null) configuration.replay_after = row.configuration_replay_after;
    } else {
      configuration.url = row.configuration_url;
      // as stored: the spec's spelling (`get`/`post`), which http/params.ts gives any case sent
      configuration.method = row.configuration_method;
      if (row.configuration_filters !== null) configuration.filters = JSON.parse(row.configuration_filters as string);
      if (row.configuration_triggers !== null) configuration.triggers = JSON.parse(row.configuration_triggers as string);
    }
    wire.configuration = configuration;
  },
};
