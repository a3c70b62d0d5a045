/**
 * Access Tokens for the client SDKs: tokens made by the official `twilio.jwt.AccessToken` with a ChatGrant are
 * verified against the account's API keys and the emulator's clock; `emulator.clientToken` mints valid ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import type { EmulatorHandle } from '../src/index.js';
import { startEmulator, type TestEmulator } from './support/emulator.js';
import { execFile } from 'node:child_process';
import { killSpawned, spawnServe, TCE_BIN } from './support/spawned.js';
import { Client } from '@twilio/conversations';
import { emulatorHttpClient } from '../src/client.js';
import { within } from './support/conversations-sdk.js';
import { AccessTokenError, verifyAccessToken } from '../src/emulator/realtime/access-token.js';

const { AccessToken } = twilio.jwt;
const { ChatGrant } = AccessToken;

let t: TestEmulator;
let emulator: EmulatorHandle;
let key: { sid: string; secret: string };

beforeAll(async () => {
  t = await startEmulator();
  emulator = t.emulator;
  key = emulator.control.createApiKey(emulator.accountSid, 'browser');
});
afterAll(async () => {
  killSpawned();
  await emulator.close();
});

function officialToken(options: {
  identity?: string;
  serviceSid?: string | null;
  ttl?: number;
  nbf?: number;
  algorithm?: 'HS256' | 'HS384' | 'HS512';
  secret?: string;
  keySid?: string;
  accountSid?: string;
  grant?: 'chat' | 'ip_messaging';
}): string {
  const token = new AccessToken(options.accountSid ?? emulator.accountSid, options.keySid ?? key.sid, options.secret ?? key.secret, {
    identity: options.identity ?? 'alice',
    ttl: options.ttl,
    nbf: options.nbf,
  });
  const serviceSid = options.serviceSid === undefined ? emulator.defaultServiceSid : options.serviceSid;
  if (options.grant === 'ip_messaging') {
    // the older grant key of Twilio's docs example, as a hand-made grant
    token.addGrant({ key: 'ip_messaging', toPayload: () => ({ service_sid: serviceSid }) } as unknown as InstanceType<typeof ChatGrant>);
  } else {
    token.addGrant(new ChatGrant(serviceSid === null ? {} : { serviceSid }));
  }
  return token.toJwt(options.algorithm);
}

function verify(token: string) {
  return verifyAccessToken(emulator.core.db, token, emulator.core.clock.now());
}

function refusal(token: string): AccessTokenError {
  try {
    verify(token);
  } catch (error) {
    if (error instanceof AccessTokenError) return error;
    throw error;
  }
  throw new Error('the token was accepted');
}

describe('Access Tokens from twilio.jwt.AccessToken', () => {
  it.each(['HS256', 'HS384', 'HS512'] as const)('accepts a ChatGrant token signed %s with an API key of the account', (algorithm) => {
    const token = officialToken({ algorithm, identity: 'alice@example.com' });
    expect(JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).alg).toBe(algorithm);
    const identity = verify(token);
    expect(identity).toMatchObject({ accountSid: emulator.accountSid, keySid: key.sid, identity: 'alice@example.com', serviceSid: emulator.defaultServiceSid });
    expect(identity.expiresAt).toBeGreaterThan(Date.now() + 3500_000);
  });

  it('selects the Conversation Service named by the grant, also under the older ip_messaging key', async () => {
    const service = await t.client.conversations.v1.services.create({ friendlyName: 'second' });
    expect(verify(officialToken({ serviceSid: service.sid })).serviceSid).toBe(service.sid);
    expect(verify(officialToken({ serviceSid: service.sid, grant: 'ip_messaging' })).serviceSid).toBe(service.sid);
  });

  it('denies a bad signature, an unknown key, a key of another account and a missing grant, each with its reason', () => {
    const forged = refusal(officialToken({ secret: 'not-the-secret' }));
    expect([forged.code, forged.status]).toEqual([20107, 401]);
    expect(forged.message).toContain(`not signed with the secret of API key ${key.sid}`);

    const unknown = refusal(officialToken({ keySid: `SK${'0'.repeat(32)}` }));
    expect(unknown.code).toBe(20103);
    expect(unknown.message).toContain('does not exist');

    const other = emulator.control.createAccount();
    const foreign = refusal(officialToken({ accountSid: other.sid }));
    expect(foreign.code).toBe(20103);
    expect(foreign.message).toContain(`does not belong to account ${other.sid}`);

    const noService = refusal(officialToken({ serviceSid: null }));
    expect([noService.code, noService.status]).toEqual([20106, 403]);
    expect(noService.message).toContain('service_sid');

    const missingService = refusal(officialToken({ serviceSid: `IS${'1'.repeat(32)}` }));
    expect(missingService.code).toBe(20106);

    const tampered = officialToken({}).split('.');
    const payload = JSON.parse(Buffer.from(tampered[1] as string, 'base64url').toString());
    payload.grants.identity = 'mallory';
    tampered[1] = Buffer.from(JSON.stringify(payload)).toString('base64url');
    expect(refusal(tampered.join('.')).code).toBe(20107);

    expect(refusal('not.a-jwt').code).toBe(20101);
    expect(refusal(`${Buffer.from('{"alg":"none"}').toString('base64url')}.e30.`).code).toBe(20102);
  });

  it('checks exp and nbf against the emulator clock, the manual clock too', () => {
    const token = officialToken({ ttl: 60 });
    expect(verify(token).identity).toBe('alice');
    emulator.clock.setMode('manual');
    try {
      emulator.clock.advance(61);
      const expired = refusal(token);
      expect(expired.code).toBe(20104);
      expect(expired.message).toContain('expired at');

      // a token made for "in an hour" is not valid before then
      const later = officialToken({ nbf: Math.floor(emulator.clock.now().getTime() / 1000) + 3600, ttl: 7200 });
      expect(refusal(later).code).toBe(20105);
      emulator.clock.advance(3600);
      expect(verify(later).identity).toBe('alice');
    } finally {
      emulator.clock.reset();
    }
  });
});

describe('emulator.clientToken', () => {
  it('mints a token the emulator accepts, valid by its clock, for the default service or the one given', () => {
    emulator.clock.setMode('manual');
    try {
      emulator.clock.set('2031-01-01T00:00:00Z');
      const token = emulator.clientToken('bob', { ttl: 120 });
      const verified = verify(token);
      expect(verified).toMatchObject({ identity: 'bob', serviceSid: emulator.defaultServiceSid, accountSid: emulator.accountSid });
      expect(verified.expiresAt).toBe(Date.parse('2031-01-01T00:02:00Z'));
      emulator.clock.advance(121);
      expect(refusal(token).code).toBe(20104);
    } finally {
      emulator.clock.reset();
    }
    expect(() => emulator.clientToken('')).toThrow(/identity must be a non-empty string/);
    expect(() => emulator.clientToken('bob', { serviceSid: `IS${'2'.repeat(32)}` })).toThrow(/does not exist/);
    expect(() => emulator.clientToken('bob', { ttl: 0 })).toThrow(/ttl must be/);
  });

  it('keeps working after its signing key is deleted', () => {
    const first = verify(emulator.clientToken('carol'));
    expect(emulator.control.deleteApiKey(emulator.accountSid, first.keySid)).toBe(true);
    const second = verify(emulator.clientToken('carol'));
    expect(second.keySid).not.toBe(first.keySid);
    expect(second.identity).toBe('carol');
  });
});

/** `tce …` as a child process (async: the in-process emulator must keep answering it) */
function tce(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TCE_BIN, ...args], { timeout: 20_000, env: { ...process.env, TCE_URL: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('tce token', () => {
  it('prints a token the running emulator accepts, by its clock, for the account and service asked', async () => {
    const second = emulator.control.createAccount();
    emulator.clock.setMode('manual');
    try {
      emulator.clock.set('2030-06-01T12:00:00Z');
      const plain = await tce(['token', '--identity', 'alice', '--url', emulator.url]);
      expect(plain.stderr).toBe('');
      expect(plain.code).toBe(0);
      const verified = verify(plain.stdout.trim());
      expect(verified).toMatchObject({ identity: 'alice', accountSid: emulator.accountSid, serviceSid: emulator.defaultServiceSid });
      expect(verified.expiresAt).toBe(Date.parse('2030-06-01T13:00:00Z'));

      const other = await tce(['token', '--identity', 'bob', '--url', emulator.url, '--account-sid', second.sid, '--ttl', '60']);
      expect(other.code).toBe(0);
      const bob = verify(other.stdout.trim());
      expect(bob).toMatchObject({ identity: 'bob', accountSid: second.sid, serviceSid: second.defaultServiceSid });
      expect(bob.expiresAt).toBe(Date.parse('2030-06-01T12:01:00Z'));
    } finally {
      emulator.clock.reset();
    }
  });

  it('names the mistake in bad flags (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['token'], /needs --identity/],
      [['token', '--identity', 'a', '--ttl', '0', '--url', emulator.url], /--ttl must be a whole number of seconds from 1 to 86400/],
      [['token', '--identity', 'a', '--ttl', '1h', '--url', emulator.url], /--ttl must be/],
      [['token', '--identity', 'a', '--account-sid', 'ACnope', '--url', emulator.url], /--account-sid must be AC followed by 32 hex/],
      [['token', '--identity', 'a', '--account-sid', `AC${'9'.repeat(32)}`, '--url', emulator.url], /no such account/],
      [['token', '--identity', 'a', '--colour', 'red'], /unknown flag --colour/],
      [['token', '--identity', 'a', '--url', 'not a url'], /--url must be the emulator's URL/],
      [['token', '--identity', 'a', '--url', 'http://127.0.0.1:1'], /no answer from the emulator/],
    ];
    for (const [args, message] of cases) {
      const run = await tce(args);
      expect(run.stdout, args.join(' ')).toBe('');
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.code, args.join(' ')).toBe(2);
    }
  });
});

describe('tce serve + tce token + the SDK', () => {
  it('a client with a token from `tce token` connects to `tce serve` and sees its conversation', async () => {
    const account = `AC${'7'.repeat(32)}`;
    const served = await spawnServe(['--db', ':memory:'], { TWILIO_ACCOUNT_SID: account, TWILIO_AUTH_TOKEN: 'served-token' });
    try {
      const rest = twilio(account, 'served-token', { httpClient: emulatorHttpClient(served.url) });
      const conversation = await rest.conversations.v1.conversations.create({ friendlyName: 'served' });
      await rest.conversations.v1.conversations(conversation.sid).participants.create({ identity: 'dana' });
      const printed = await tce(['token', '--identity', 'dana', '--url', served.url]);
      expect(printed.code).toBe(0);
      const client = new Client(printed.stdout.trim(), { Twilsock: { uri: `${served.url.replace('http', 'ws')}/v3/wsconnect` }, logLevel: 'silent' });
      try {
        await within(10_000, 'initialized', new Promise<void>((resolve, reject) => {
          client.once('initialized', () => resolve());
          client.once('initFailed', ({ error }) => reject(new Error(error?.message)));
        }));
        expect((await client.getSubscribedConversations()).items.map((c) => c.friendlyName)).toEqual(['served']);
      } finally {
        await client.shutdown();
      }
    } finally {
      served.child.kill('SIGTERM');
    }
  }, 40_000);
});
