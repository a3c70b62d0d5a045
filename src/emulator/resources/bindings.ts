/**
 * Push Bindings (BS): a device registered for push notifications of a user. Only client SDKs create them at
 * Twilio, so REST serves list / fetch / delete and the control plane (`POST /_emulator/push-bindings`) creates.
 */
import type { SqlValue } from '../store/database.js';
import type { ResourceDescriptor } from './descriptor.js';
import { IN_SERVICE } from './scopes.js';

export const BindingResource: ResourceDescriptor = {
  name: 'ServiceBinding',
  prefix: 'BS',
  table: 'bindings',
  since: 2,
  parents: [IN_SERVICE],
  columns: [
    { name: 'credential_sid', type: 'text' },
    { name: 'endpoint', type: 'text' },
    { name: 'identity', type: 'text' },
    { name: 'binding_type', type: 'text' },
    { name: 'message_types', type: 'text', initial: '["new_message","added_to_conversation","removed_from_conversation"]' },
  ],
  hooks: {
    listFilter(_ctx, input) {
      const where: string[] = [];
      const args: SqlValue[] = [];
      for (const [param, column] of [['BindingType', 'binding_type'], ['Identity', 'identity']] as const) {
        const values = input[param] as string[] | undefined;
        if (!values?.length) continue;
        where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
        args.push(...values);
      }
      return { where, args };
    },
  },
  representReads: ['message_types'],
  represent(row, _ctx, wire) {
    wire.message_types = JSON.parse(row.message_types as string);
  },
};
