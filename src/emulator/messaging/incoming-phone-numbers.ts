/**
 * IncomingPhoneNumbers (api.twilio.com/2010-04-01): the account's own phone numbers, a subset of the 2010 resource.
 * A number is bought by `PhoneNumber` (+E164) or `AreaCode` (a free `+1<area>555xxxx` is picked), configured with
 * `SmsUrl` / `SmsMethod` (its incoming-message webhook: the row numbers.ts serves the control plane from),
 * `SmsFallbackUrl` / `SmsFallbackMethod`, `StatusCallback` / `StatusCallbackMethod` (stored and shown; the emulator
 * calls neither) and `FriendlyName`, listed, fetched, updated and released. Voice, addresses, bundles: fixed values.
 */
import type { Account } from '../accounts.js';
import type { EmulatorCore } from '../core.js';
import { nationalFormat } from '../resources/participants/binding.js';
import type { Row, SqlValue } from '../store/database.js';
import { invalidParameter, twilioError } from '../wire/errors.js';
import { newSid } from '../wire/sid.js';
import { urlProblem } from '../wire/url.js';
import { channelAddress } from './addresses.js';
import { listPage } from './list-page.js';
import { one, type Params } from './params.js';
import { API_VERSION, rfc2822 } from './representation.js';

/** Twilio's limit for a phone number's FriendlyName. */
const MAX_FRIENDLY_NAME = 64;
/** Numbers tried for an AreaCode before it counts as exhausted. */
const AREA_CODE_TRIES = 50;

/** The writable fields: parameter → column, with the kind of value it takes. */
const FIELDS = [
  ['FriendlyName', 'friendly_name', 'text'],
  ['SmsUrl', 'sms_url', 'url'],
  ['SmsMethod', 'sms_method', 'method'],
  ['SmsFallbackUrl', 'sms_fallback_url', 'url'],
  ['SmsFallbackMethod', 'sms_fallback_method', 'method'],
  ['StatusCallback', 'status_callback', 'url'],
  ['StatusCallbackMethod', 'status_callback_method', 'method'],
] as const;

export function uriOf(accountSid: string, sid: string): string {
  return `/${API_VERSION}/Accounts/${accountSid}/IncomingPhoneNumbers/${sid}.json`;
}

/** The 2010 representation (`api.v2010.account.incoming_phone_number`). */
export function representNumber(row: Row): Record<string, unknown> {
  return {
    account_sid: row.account_sid,
    address_requirements: 'none',
    address_sid: null,
    api_version: API_VERSION,
    beta: false,
    bundle_sid: null,
    capabilities: { fax: false, mms: true, sms: true, voice: true },
    date_created: rfc2822(row.date_created as number),
    date_updated: rfc2822(row.date_updated as number),
    emergency_address_sid: null,
    emergency_address_status: 'unregistered',
    emergency_status: 'Inactive',
    friendly_name: row.friendly_name,
    identity_sid: null,
    origin: 'twilio',
    phone_number: row.address,
    sid: row.sid,
    sms_application_sid: null,
    sms_fallback_method: row.sms_fallback_method,
    sms_fallback_url: row.sms_fallback_url,
    sms_method: row.sms_method,
    sms_url: row.sms_url,
    status: 'in-use',
    status_callback: row.status_callback,
    status_callback_method: row.status_callback_method,
    trunk_sid: null,
    // North American toll-free prefixes; every other number is bought as a local one
    type: /^\+18(00|33|44|55|66|77|88)/.test(row.address as string) ? 'toll-free' : 'local',
    uri: uriOf(row.account_sid as string, row.sid as string),
    voice_application_sid: null,
    voice_caller_id_lookup: false,
    voice_fallback_method: 'POST',
    voice_fallback_url: null,
    voice_method: 'POST',
    voice_receive_mode: 'voice',
    voice_url: null,
  };
}

/**
 * The writable fields present in `params`, checked, as column → value. On update an empty value clears a URL or
 * the FriendlyName (Twilio's way to unset one); on create an empty value is as good as absent.
 */
function fieldsOf(params: Params): Record<string, SqlValue> {
  const out: Record<string, SqlValue> = {};
  for (const [param, column, kind] of FIELDS) {
    if (params[param] === undefined) continue;
    const value = one(params, param);
    if (kind === 'method') {
      if (value === undefined) continue;
      const method = value.toUpperCase();
      if (method !== 'GET' && method !== 'POST') throw invalidParameter(`Invalid ${param}: ${value}. ${param} must be GET or POST`);
      out[column] = method;
    } else if (kind === 'url') {
      const problem = value === undefined ? undefined : urlProblem(value);
      if (problem) throw invalidParameter(`Invalid ${param}: ${JSON.stringify(value)} ${problem}`);
      out[column] = value ?? null;
    } else {
      if (value !== undefined && [...value].length > MAX_FRIENDLY_NAME) {
        throw twilioError('FriendlyNameTooLong', { resource: 'IncomingPhoneNumber', length: [...value].length, limit: MAX_FRIENDLY_NAME });
      }
      out[column] = value ?? null;
    }
  }
  return out;
}

export class IncomingPhoneNumbers {
  constructor(private readonly core: EmulatorCore) {}

  /** Buy a number: the one given, or a free one in the area code. Adopts the account's own webhook-only row. */
  create(account: Account, params: Params): Row {
    const fields = fieldsOf(params);
    const phoneNumber = one(params, 'PhoneNumber');
    const areaCode = one(params, 'AreaCode');
    let address: string;
    if (phoneNumber !== undefined) {
      const problem = phoneNumber.startsWith('whatsapp:') ? 'a WhatsApp sender is not a phone number' : channelAddress(phoneNumber).problem;
      if (problem) throw twilioError('PhoneNumberInvalid', { phoneNumber, reason: problem });
      if (!this.available(account, phoneNumber)) throw twilioError('PhoneNumberNotAvailable', { phoneNumber });
      address = phoneNumber;
    } else if (areaCode !== undefined) {
      if (!/^[2-9]\d{2}$/.test(areaCode)) throw twilioError('AreaCodeInvalid', { areaCode });
      address = this.pick(account, areaCode);
    } else {
      throw twilioError('MissingParameter', { name: 'PhoneNumber or AreaCode', where: 'request body' });
    }
    const db = this.core.db;
    const now = this.core.clock.now();
    const sid = newSid('PN', this.core.random);
    const values: Record<string, SqlValue> = {
      friendly_name: nationalFormat(address),
      sms_method: 'POST',
      sms_fallback_method: 'POST',
      status_callback_method: 'POST',
      ...fields,
    };
    db.transaction(() => {
      const webhookOnly = db.get('SELECT sms_url, sms_method FROM phone_numbers WHERE address = ?', address);
      if (webhookOnly) {
        // a webhook the operator configured for this address stays, unless the purchase sets its own
        if (fields.sms_url === undefined) Object.assign(values, { sms_url: webhookOnly.sms_url, sms_method: fields.sms_method ?? webhookOnly.sms_method });
        db.run('DELETE FROM phone_numbers WHERE address = ?', address);
      }
      const columns = Object.keys(values);
      db.run(
        `INSERT INTO phone_numbers (address, sid, account_sid, date_created, date_updated, ${columns.join(', ')}) VALUES (?, ?, ?, ?, ?, ${columns.map(() => '?').join(', ')})`,
        address, sid, account.sid, now, now, ...columns.map((c) => values[c]),
      );
    });
    return this.row(sid) as Row;
  }

  /** Free for this account: nobody owns it, and no other account's webhook claims it. */
  private available(account: Account, address: string): boolean {
    const row = this.core.db.get('SELECT sid, account_sid FROM phone_numbers WHERE address = ?', address);
    return !row || (row.sid === null && row.account_sid === account.sid);
  }

  private pick(account: Account, areaCode: string): string {
    for (let i = 0; i < AREA_CODE_TRIES; i++) {
      const candidate = `+1${areaCode}555${String(Math.floor(this.core.random.next() * 10_000)).padStart(4, '0')}`;
      if (channelAddress(candidate).problem === undefined && this.available(account, candidate)) return candidate;
    }
    throw twilioError('AreaCodeExhausted', { areaCode });
  }

  row(sid: string): Row | undefined {
    return this.core.db.get('SELECT * FROM phone_numbers WHERE sid = ?', sid);
  }

  /** The account's number with that SID; 404 / 20404 otherwise (another account's included). */
  find(account: Account, sid: string, path: string): Row {
    const row = this.core.db.get('SELECT * FROM phone_numbers WHERE sid = ? AND account_sid = ?', sid, account.sid);
    if (!row) throw twilioError('NotFound', { path });
    return row;
  }

  update(account: Account, sid: string, params: Params, path: string): Row {
    const row = this.find(account, sid, path);
    const fields = fieldsOf(params);
    const columns = Object.keys(fields);
    if (columns.length) {
      this.core.db.transaction(() =>
        this.core.db.run(
          `UPDATE phone_numbers SET ${columns.map((c) => `${c} = ?`).join(', ')}, date_updated = ? WHERE seq = ?`,
          ...columns.map((c) => fields[c]), this.core.clock.now(), row.seq,
        ),
      );
    }
    return this.row(sid) as Row;
  }

  /** Release the number, its webhook with it. */
  delete(account: Account, sid: string, path: string): void {
    const row = this.find(account, sid, path);
    this.core.db.transaction(() => {
      this.core.db.run('DELETE FROM phone_numbers WHERE seq = ?', row.seq);
      // a page token naming the released number keeps working (store/paging.ts)
      this.core.db.run('INSERT OR REPLACE INTO page_anchors (sid, seq) VALUES (?, ?)', row.sid, row.seq);
    });
  }

  /**
   * Oldest first. `FriendlyName` matches exactly; `PhoneNumber` made of digits (and `+`) matches any number holding
   * them, `*` standing for any digit, as Twilio documents it (`555` finds every number with 555 in it).
   */
  list(account: Account, params: Params): Record<string, unknown> {
    const where = ['account_sid = ?', 'sid IS NOT NULL'];
    const args: SqlValue[] = [account.sid];
    const filters: [string, string][] = [];
    for (const name of Object.keys(params)) {
      const value = one(params, name);
      if (value === undefined) continue;
      if (name === 'FriendlyName') {
        where.push('friendly_name = ?');
        args.push(value);
      } else if (name === 'PhoneNumber') {
        const partial = /^\+?[0-9*]+$/.test(value);
        where.push(partial ? 'address GLOB ?' : 'address = ?');
        args.push(partial ? `*${value.replaceAll('*', '[0-9]')}*` : value);
      } else continue;
      filters.push([name, value]);
    }
    return listPage(this.core.db, {
      params, table: 'phone_numbers', where, args, filters, listUrl: `/${API_VERSION}/Accounts/${account.sid}/IncomingPhoneNumbers.json`,
      key: 'incoming_phone_numbers', order: 'asc', represent: representNumber,
    });
  }
}
