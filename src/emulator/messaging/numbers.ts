/**
 * Phone numbers' incoming-message webhooks (`PUT /_emulator/numbers/{address}`): the `SmsUrl` / `SmsMethod` a
 * Twilio number is configured with. A plain Messaging inbound to that address (in no conversation, no
 * auto-creation) is then delivered there, signed (inbound-webhook.ts). The emulator keeps no IncomingPhoneNumber
 * resource: any `+E164`, `whatsapp:+E164` or short code can be configured. Kept in the database, and kept by reset,
 * as sender pools are (configuration, not data). A number belongs to one account: the one given, else the first.
 */
import type { Accounts } from '../accounts.js';
import type { Database } from '../store/database.js';
import { invalidParameter, twilioError } from '../wire/errors.js';
import { urlProblem } from '../wire/url.js';
import { channelAddress } from './addresses.js';

export interface NumberWebhook {
  address: string;
  accountSid: string;
  smsUrl: string;
  smsMethod: 'POST' | 'GET';
}

function checkedAddress(address: string): string {
  const number = address.startsWith('whatsapp:') || address.startsWith('+') ? channelAddress(address).problem === undefined : /^\d{5,6}$/.test(address);
  if (!number) throw invalidParameter(`Invalid address ${JSON.stringify(address)}: use +E164, whatsapp:+E164 or a short code (URL-encode the +)`);
  return address;
}

export class NumberWebhooks {
  constructor(
    private readonly db: Database,
    private readonly accounts: Accounts,
  ) {}

  /** The number's webhook, or undefined when none is configured. */
  find(address: string): NumberWebhook | undefined {
    const row = this.db.get('SELECT * FROM number_webhooks WHERE address = ?', address);
    if (!row) return undefined;
    return { address, accountSid: row.account_sid as string, smsUrl: row.sms_url as string, smsMethod: row.sms_method === 'GET' ? 'GET' : 'POST' };
  }

  /** As the control plane answers: 404 / 20404 for a number with none. */
  get(address: string): NumberWebhook {
    const found = this.find(checkedAddress(address));
    if (!found) throw twilioError('NotFound', { path: `/_emulator/numbers/${encodeURIComponent(address)}` });
    return found;
  }

  /** Configure (or replace) a number's webhook from a control-plane body: `smsUrl`, `smsMethod`?, `accountSid`?. */
  set(address: string, body: unknown): NumberWebhook {
    checkedAddress(address);
    const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    if (b.smsUrl === undefined || b.smsUrl === null || b.smsUrl === '') throw invalidParameter('smsUrl is required');
    if (typeof b.smsUrl !== 'string') throw invalidParameter('smsUrl must be a string');
    const problem = urlProblem(b.smsUrl);
    if (problem) throw invalidParameter(`Invalid smsUrl: ${JSON.stringify(b.smsUrl)} ${problem}`);
    const method = b.smsMethod === undefined || b.smsMethod === null ? 'POST' : typeof b.smsMethod === 'string' ? b.smsMethod.toUpperCase() : '';
    if (method !== 'POST' && method !== 'GET') throw invalidParameter('smsMethod must be POST or GET');
    let accountSid: string;
    if (b.accountSid === undefined || b.accountSid === null) accountSid = this.accounts.list()[0].sid;
    else {
      if (typeof b.accountSid !== 'string') throw invalidParameter('accountSid must be a string');
      if (!this.accounts.get(b.accountSid)) throw twilioError('NotFound', { path: `/_emulator/accounts/${b.accountSid}` });
      accountSid = b.accountSid;
    }
    const config: NumberWebhook = { address, accountSid, smsUrl: b.smsUrl, smsMethod: method };
    this.db.transaction(() =>
      this.db.run('INSERT OR REPLACE INTO number_webhooks (address, account_sid, sms_url, sms_method) VALUES (?, ?, ?, ?)', address, accountSid, config.smsUrl, method),
    );
    return config;
  }

  /** Remove a number's webhook; 404 / 20404 when it had none. */
  delete(address: string): void {
    checkedAddress(address);
    const removed = this.db.transaction(() => this.db.run('DELETE FROM number_webhooks WHERE address = ?', address));
    if (removed.changes === 0) throw twilioError('NotFound', { path: `/_emulator/numbers/${encodeURIComponent(address)}` });
  }
}
