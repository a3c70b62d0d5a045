/**
 * Push Credentials (CR): APN certificates and FCM/GCM keys of the account. Secrets, certificates and private
 * keys are stored but never echoed back (the spec's representation has no field for them).
 */
import { invalidParameter } from '../wire/errors.js';
import type { ResourceDescriptor } from './descriptor.js';

export const CredentialResource: ResourceDescriptor = {
  name: 'Credential',
  prefix: 'CR',
  table: 'credentials',
  since: 2,
  parents: [],
  columns: [
    { name: 'friendly_name', type: 'text', param: 'FriendlyName', maxLength: 64 },
    { name: 'type', type: 'text', param: 'Type' },
    { name: 'sandbox', type: 'text', param: 'Sandbox' },
    { name: 'certificate', type: 'text', param: 'Certificate' },
    { name: 'private_key', type: 'text', param: 'PrivateKey' },
    { name: 'api_key', type: 'text', param: 'ApiKey' },
    { name: 'secret', type: 'text', param: 'Secret' },
  ],
  hooks: {
    beforeCreate(_ctx, values) {
      checkSecrets(values);
    },
    beforeUpdate(_ctx, current, changes) {
      checkSecrets({ ...current, ...changes });
    },
  },
  representReads: ['sandbox'],
  represent(row, _ctx, wire) {
    // Twilio spells the flag as text ("true"/"false"); null until one is given.
    wire.sandbox = row.sandbox === null ? null : String(row.sandbox === 'true' || row.sandbox === '1');
  },
};

function checkSecrets(row: Record<string, unknown>): void {
  if (row.type === 'apn' && (!row.certificate || !row.private_key)) {
    throw invalidParameter('An apn credential needs Certificate and PrivateKey');
  }
  if ((row.type === 'fcm' || row.type === 'gcm') && !row.secret) {
    throw invalidParameter(`An ${String(row.type)} credential needs Secret`);
  }
}
