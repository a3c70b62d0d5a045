/**
 * `emulator.clientToken(identity)`: an Access Token the emulator accepts, signed with an API key kept for the
 * purpose (one per account, made on first use and made again if someone deletes it).
 */
import type { EmulatorCore } from '../core.js';
import { mintAccessToken } from './access-token.js';

export interface ClientTokenOptions {
  /** seconds until it expires, by the emulator's clock (default 3600) */
  ttl?: number;
  /** the Conversation Service of its chat grant (default: the account's default service) */
  serviceSid?: string;
  /** the chat grant's push credential (CR…): what `setPushRegistrationId` binds to */
  pushCredentialSid?: string;
}

const KEY_NAME = 'tce client tokens';

export class ClientTokens {
  /** account SID → the key its tokens are signed with */
  private readonly keys = new Map<string, { sid: string; accountSid: string; secret: string }>();

  constructor(private readonly core: EmulatorCore) {}

  mint(accountSid: string, identity: string, options: ClientTokenOptions = {}): string {
    if (typeof identity !== 'string' || identity === '') throw new RangeError('clientToken: identity must be a non-empty string');
    const account = this.core.accounts.get(accountSid);
    if (!account) throw new RangeError(`clientToken: account ${accountSid} does not exist`);
    const serviceSid = options.serviceSid ?? account.defaultServiceSid;
    if (!this.core.db.get('SELECT 1 FROM services WHERE sid = ? AND account_sid = ?', serviceSid, accountSid)) {
      throw new RangeError(`clientToken: Conversation Service ${serviceSid} does not exist in account ${accountSid}`);
    }
    let key = this.keys.get(accountSid);
    if (!key || !this.core.db.get('SELECT 1 FROM api_keys WHERE sid = ?', key.sid)) {
      key = this.core.accounts.createKey(accountSid, KEY_NAME);
      this.keys.set(accountSid, key);
    }
    return mintAccessToken(key, { identity, serviceSid, ttl: options.ttl, now: this.core.clock.now(), pushCredentialSid: options.pushCredentialSid });
  }
}
