/**
 * Phone numbers' incoming-message webhooks (`PUT /_emulator/numbers/{address}`): the `SmsUrl` / `SmsMethod` a
 * Twilio number is configured with. A plain Messaging inbound to that address (in no conversation, no
 * auto-creation) is then delivered there, signed (inbound-webhook.ts). Any `+E164`, `whatsapp:+E164` or short code
 * can be configured. The table is the one IncomingPhoneNumbers (incoming-phone-numbers.ts) keeps the account's own
 * numbers in: for an owned number this is its `SmsUrl` / `SmsMethod`, the same field whichever API wrote it last.
 * Kept in the database, and kept by reset, as sender pools are (configuration, not data). A number belongs to one
 * account: an owned number to its owner, else the one given, else the first.
 */
import type { Accounts } from '../accounts.js';
import type { Clock } from '../clock.js';
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
    private readonly clock: Clock,
  ) {}

  /** The number's webhook, or undefined when none is configured. */
  find(address: string): NumberWebhook | undefined {
    const row = this.db.get('SELECT * FROM phone_numbers WHERE address = ? AND sms_url IS NOT NULL', address);
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
    const existing = this.db.get('SELECT account_sid, sid FROM phone_numbers WHERE address = ?', address);
    let accountSid: string;
    if (b.accountSid === undefined || b.accountSid === null) accountSid = existing?.sid ? (existing.account_sid as string) : this.accounts.list()[0].sid;
    else {
      if (typeof b.accountSid !== 'string') throw invalidParameter('accountSid must be a string');
      if (!this.accounts.get(b.accountSid)) throw twilioError('NotFound', { path: `/_emulator/accounts/${b.accountSid}` });
      accountSid = b.accountSid;
    }
    // an owned number's webhook is its SmsUrl: it cannot move to another account from here
    if (existing?.sid && existing.account_sid !== accountSid) {
      throw invalidParameter(`${address} is a phone number of account ${existing.account_sid as string} (IncomingPhoneNumbers); accountSid cannot change it`);
    }
    const config: NumberWebhook = { address, accountSid, smsUrl: b.smsUrl, smsMethod: method };
    const now = this.clock.now();
    this.db.transaction(() =>
      existing
        ? this.db.run('UPDATE phone_numbers SET account_sid = ?, sms_url = ?, sms_method = ?, date_updated = ? WHERE address = ?', accountSid, config.smsUrl, method, now, address)
        : this.db.run(
            `INSERT INTO phone_numbers (address, account_sid, sms_url, sms_method, sms_fallback_method, status_callback_method, date_created, date_updated)
             VALUES (?, ?, ?, ?, 'POST', 'POST', ?, ?)`,
            address, accountSid, config.smsUrl, method, now, now,
          ),
    );
    return config;
  }

  /** Whether the address is one of an account's own phone numbers (IncomingPhoneNumbers). */
  owned(address: string): boolean {
    return !!this.db.get('SELECT 1 FROM phone_numbers WHERE address = ? AND sid IS NOT NULL', address);
  }

  /** Remove a number's webhook; 404 / 20404 when it had none. */
  delete(address: string): void {
    checkedAddress(address);
    // an owned number stays owned, without a webhook; a webhook-only address goes
    const removed = this.db.transaction(() =>
      this.db.run('UPDATE phone_numbers SET sms_url = NULL, date_updated = ? WHERE address = ? AND sid IS NOT NULL AND sms_url IS NOT NULL', this.clock.now(), address).changes +
      this.db.run('DELETE FROM phone_numbers WHERE address = ? AND sid IS NULL', address).changes,
    );
    if (removed === 0) throw twilioError('NotFound', { path: `/_emulator/numbers/${encodeURIComponent(address)}` });
  }
}
