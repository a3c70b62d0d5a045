/**
 * Accounts and their API keys: who may call, and the default Conversation Service and Messaging Service each
 * account starts with. Credentials are cached in memory because every request is authenticated.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock.js';
import type { RandomSource } from './random.js';
import type { Database, Row } from './store/database.js';
import { isSid, newSid } from './wire/sid.js';

export interface Account {
  sid: string;
  authToken: string;
  friendlyName: string | null;
  defaultServiceSid: string;
  defaultMessagingServiceSid: string;
  defaultInactiveTimer: string | null;
  defaultClosedTimer: string | null;
  /** the account's second pair (twilio.com/docs/iam/test-credentials): only 2010 Messages create accepts it */
  testAccountSid: string;
  testAuthToken: string;
  /** set on the account a request proved with the test pair rather than the live one */
  testCredentials?: true;
}

export interface ApiKey {
  sid: string;
  accountSid: string;
  secret: string;
  friendlyName: string | null;
}

function toAccount(row: Row): Account {
  return {
    sid: row.sid as string,
    authToken: row.auth_token as string,
    friendlyName: (row.friendly_name as string | null) ?? null,
    defaultServiceSid: row.default_service_sid as string,
    defaultMessagingServiceSid: row.default_messaging_service_sid as string,
    defaultInactiveTimer: (row.default_inactive_timer as string | null) ?? null,
    defaultClosedTimer: (row.default_closed_timer as string | null) ?? null,
    testAccountSid: row.test_account_sid as string,
    testAuthToken: row.test_auth_token as string,
  };
}

/**
 * The test pair an account gets unless one is given: derived from the live pair, so the same AccountSid and
 * AuthToken (CI's fixed secrets, a restarted database) always come with the same test credentials.
 */
export function derivedTestCredentials(accountSid: string, authToken: string): { testAccountSid: string; testAuthToken: string } {
  const digest = (purpose: string) => createHash('sha256').update(`${purpose}|${accountSid}|${authToken}`).digest('hex').slice(0, 32);
  return { testAccountSid: `AC${digest('test-account-sid')}`, testAuthToken: digest('test-auth-token') };
}

export class AccountError extends Error {}

/** bounds of the credential cache: ~1,000 × 1 KB at most */
const AUTH_CACHE_ENTRIES = 1000;
const AUTH_CACHE_HEADER_LENGTH = 1024;

export class Accounts {
  /**
   * Verified `Authorization` header values → their account, cleared whenever credentials change. Only verified
   * ones, and at most AUTH_CACHE_ENTRIES of at most AUTH_CACHE_HEADER_LENGTH characters: unauthenticated callers
   * sending distinct headers once pinned every one of them.
   */
  private readonly byAuthorization = new Map<string, Account>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly random: RandomSource,
    /** creates the default Conversation Service row for a new account (owned by the resources layer) */
    private readonly createDefaultService: (accountSid: string, serviceSid: string, now: number) => void,
  ) {
    this.giveTestCredentials();
  }

  /** Accounts stored before schema 6 have no test pair yet: they get their derived one at start. */
  private giveTestCredentials(): void {
    const missing = this.db.all('SELECT sid, auth_token FROM accounts WHERE test_account_sid IS NULL');
    if (missing.length === 0) return;
    this.db.transaction(() => {
      for (const row of missing) {
        const test = derivedTestCredentials(row.sid as string, row.auth_token as string);
        this.db.run('UPDATE accounts SET test_account_sid = ?, test_auth_token = ? WHERE sid = ?', test.testAccountSid, test.testAuthToken, row.sid);
      }
    });
  }

  /** Whether an account already answers to `sid`, as its live or its test AccountSid. */
  private sidInUse(sid: string): boolean {
    return this.get(sid) !== undefined || this.db.get('SELECT 1 FROM accounts WHERE test_account_sid = ?', sid) !== undefined;
  }

  create(options: { accountSid?: string; authToken?: string; friendlyName?: string; testAccountSid?: string; testAuthToken?: string } = {}): Account {
    const sid = options.accountSid ?? newSid('AC', this.random);
    if (!isSid(sid, 'AC')) throw new AccountError(`accountSid must be AC followed by 32 hex characters, got ${sid}`);
    if (this.sidInUse(sid)) throw new AccountError(`account ${sid} already exists`);
    const authToken = options.authToken ?? this.random.hex(32);
    if (authToken.length === 0) throw new AccountError('authToken must not be empty');
    const derived = derivedTestCredentials(sid, authToken);
    const testAccountSid = options.testAccountSid ?? derived.testAccountSid;
    const testAuthToken = options.testAuthToken ?? derived.testAuthToken;
    if (!isSid(testAccountSid, 'AC')) throw new AccountError(`testAccountSid must be AC followed by 32 hex characters, got ${testAccountSid}`);
    if (testAccountSid === sid || this.sidInUse(testAccountSid)) {
      throw new AccountError(`testAccountSid ${testAccountSid} is already in use`);
    }
    if (testAuthToken.length === 0) throw new AccountError('testAuthToken must not be empty');
    const now = this.clock.now();
    const serviceSid = newSid('IS', this.random);
    const messagingServiceSid = newSid('MG', this.random);
    this.db.transaction(() => {
      this.db.run(
        `INSERT INTO accounts (sid, auth_token, friendly_name, default_service_sid, default_messaging_service_sid,
           date_created, date_updated, test_account_sid, test_auth_token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        sid, authToken, options.friendlyName ?? null, serviceSid, messagingServiceSid, now, now, testAccountSid, testAuthToken,
      );
      this.createDefaultService(sid, serviceSid, now);
    });
    this.byAuthorization.clear();
    return this.get(sid) as Account;
  }

  get(sid: string): Account | undefined {
    const row = this.db.get('SELECT * FROM accounts WHERE sid = ?', sid);
    return row ? toAccount(row) : undefined;
  }

  list(): Account[] {
    return this.db.all('SELECT * FROM accounts ORDER BY date_created, sid').map(toAccount);
  }

  update(sid: string, changes: Partial<Pick<Account, 'defaultServiceSid' | 'defaultMessagingServiceSid' | 'defaultInactiveTimer' | 'defaultClosedTimer'>>): Account {
    const columns: Record<string, keyof typeof changes> = {
      default_service_sid: 'defaultServiceSid',
      default_messaging_service_sid: 'defaultMessagingServiceSid',
      default_inactive_timer: 'defaultInactiveTimer',
      default_closed_timer: 'defaultClosedTimer',
    };
    for (const [column, key] of Object.entries(columns)) {
      if (key in changes) this.db.run(`UPDATE accounts SET ${column} = ?, date_updated = ? WHERE sid = ?`, changes[key] ?? null, this.clock.now(), sid);
    }
    this.byAuthorization.clear();
    return this.get(sid) as Account;
  }

  createKey(accountSid: string, friendlyName?: string): ApiKey {
    if (!this.get(accountSid)) throw new AccountError(`account ${accountSid} does not exist`);
    const key: ApiKey = { sid: newSid('SK', this.random), accountSid, secret: this.random.hex(32), friendlyName: friendlyName ?? null };
    this.db.run(
      'INSERT INTO api_keys (sid, account_sid, secret, friendly_name, date_created) VALUES (?, ?, ?, ?, ?)',
      key.sid, accountSid, key.secret, key.friendlyName, this.clock.now(),
    );
    return key;
  }

  deleteKey(accountSid: string, keySid: string): boolean {
    const changes = this.db.run('DELETE FROM api_keys WHERE sid = ? AND account_sid = ?', keySid, accountSid).changes;
    this.byAuthorization.clear();
    return changes > 0;
  }

  /** Drop every cached credential (the accounts and keys were replaced underneath, as a snapshot load does). */
  forgetCredentials(): void {
    this.byAuthorization.clear();
  }

  /** The account an `Authorization: Basic …` header proves, or undefined. */
  authenticate(authorization: string | undefined): Account | undefined {
    if (!authorization) return undefined;
    const cached = this.byAuthorization.get(authorization);
    if (cached !== undefined) return cached;
    const account = this.verify(authorization);
    if (account && authorization.length <= AUTH_CACHE_HEADER_LENGTH) {
      // the oldest entry goes (a Map iterates in insertion order)
      if (this.byAuthorization.size >= AUTH_CACHE_ENTRIES) this.byAuthorization.delete(this.byAuthorization.keys().next().value as string);
      this.byAuthorization.set(authorization, account);
    }
    return account;
  }

  private verify(authorization: string): Account | undefined {
    const match = /^Basic\s+(\S+)$/i.exec(authorization);
    if (!match) return undefined;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (user.startsWith('AC')) {
      const account = this.get(user);
      if (account) return safeEqual(account.authToken, password) ? account : undefined;
      const row = this.db.get('SELECT * FROM accounts WHERE test_account_sid = ?', user);
      return row && safeEqual(row.test_auth_token as string, password) ? { ...toAccount(row), testCredentials: true } : undefined;
    }
    if (user.startsWith('SK')) {
      const key = this.db.get('SELECT * FROM api_keys WHERE sid = ?', user);
      if (!key || !safeEqual(key.secret as string, password)) return undefined;
      return this.get(key.account_sid as string);
    }
    return undefined;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
