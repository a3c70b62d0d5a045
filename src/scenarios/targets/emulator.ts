/**
 * The emulator as a target: in-process (`createEmulator`, `:memory:`, seeded) or a running `tce serve`
 * (`--emulator-url`). It has every capability, all through the control plane over HTTP (`/_emulator/*`), so the
 * in-process and the remote emulator behave alike.
 */
import { randomUUID } from 'node:crypto';
import twilio from 'twilio';
import { emulatorHttpClient } from '../../client.js';
import type { Recorder } from '../../contracts/recorder.js';
import { CAPABILITIES, type Capability, type HandsetOutcome, type InboundResult, type OutboxMessage, type RequestLogEntry, type RestFaultRule, type Target, type WebhookDelivery, type WebhookFaultRule } from '../target.js';
import { startReceiver } from '../receiver.js';
import { waitFor } from '../wait.js';

export interface EmulatorTargetOptions {
  /** a running `tce serve`; default: an in-process emulator started here */
  url?: string;
  /** the emulator's `--control-token`, when it has one */
  controlToken?: string;
  /** in-process: the emulator's seed (SIDs and fault draws repeat) */
  seed?: string;
  /** a running emulator's account to use (default TWILIO_ACCOUNT_SID, else its first account) */
  accountSid?: string;
  /** `--record`: a Recorder for the account the target runs as; it records every REST exchange of the target's
   * client and every webhook its receiver gets */
  recorder?: (accountSid: string) => Recorder;
}

interface Account {
  accountSid: string;
  authToken: string;
}

class ControlPlaneError extends Error {}

export async function createEmulatorTarget(options: EmulatorTargetOptions = {}): Promise<Target> {
  let closeEmulator: (() => Promise<void>) | undefined;
  let base: string;
  let account: Account;
  if (options.url === undefined) {
    // the package's public entry: the target sees the emulator as any user of the package does
    const { createEmulator } = await import('../../index.js');
    const emulator = await createEmulator({ db: ':memory:', port: 0, host: '127.0.0.1', seed: options.seed, logger: false });
    base = emulator.url;
    account = { accountSid: emulator.accountSid, authToken: emulator.authToken };
    closeEmulator = () => emulator.close();
  } else {
    base = options.url.replace(/\/+$/, '');
    account = await remoteAccount(base, options);
  }

  async function control<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.controlToken) headers.authorization = `Bearer ${options.controlToken}`;
    let response: Response;
    try {
      response = await fetch(`${base}/_emulator${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new ControlPlaneError(`the emulator at ${base} did not answer ${method} /_emulator${path}: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (response.status >= 400) throw new ControlPlaneError(`${method} /_emulator${path} answered ${response.status}: ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  const recorder = options.recorder?.(account.accountSid);
  const client = twilio(account.accountSid, account.authToken, { httpClient: recorder ? recorder.httpClient({ baseUrl: base }) : emulatorHttpClient(base) });
  const receiver = await startReceiver(account.authToken, '127.0.0.1', recorder ? (seen) => recorder.recordWebhook(seen) : undefined);
  const numbers = await ownNumbers(client);
  const numberWebhooks = new Set<string>();
  const query = (filter: Record<string, string | undefined> = {}) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v !== undefined) params.set(k, v);
    const text = params.toString();
    return text ? `?${text}` : '';
  };

  const target: Target = {
    name: options.url === undefined ? 'emulator (in-process)' : `emulator ${base}`,
    client,
    accountSid: account.accountSid,
    authToken: account.authToken,
    twilioUrl: base,
    capabilities: new Set<Capability>(CAPABILITIES.filter((c) => c !== 'router-state' && (c !== 'two-numbers' || numbers))),
    webhooks: receiver,
    ...(numbers ? { numbers } : {}),
    async sendInbound(from, to, body, media) {
      return control<InboundResult>('POST', '/inbound', { From: from, To: to, Body: body, ...(media?.length ? { MediaUrl: media } : {}) });
    },
    async setHandset(address, outcome: HandsetOutcome) {
      await control('PUT', `/handsets/${encodeURIComponent(address)}`, outcome);
    },
    async setNumberWebhook(address, url) {
      numberWebhooks.add(address);
      await control('PUT', `/numbers/${encodeURIComponent(address)}`, { smsUrl: url, smsMethod: 'POST', accountSid: account.accountSid });
    },
    async injectWebhookFaults(rules: WebhookFaultRule[]) {
      await control('PUT', '/faults/webhooks', { rules });
    },
    async injectRestFaults(rules: RestFaultRule[]) {
      await control('PUT', '/faults/rest', { rules });
    },
    async setRateLimit(limits) {
      await control('PUT', '/limits', { rps: limits.rps, burst: limits.burst ?? null, concurrency: limits.concurrency ?? null });
    },
    async advanceClock(seconds) {
      await control('POST', '/clock', { advanceSeconds: seconds });
    },
    async outbox(filter = {}) {
      return (await control<{ messages: OutboxMessage[] }>('GET', `/outbox${query(filter)}`)).messages;
    },
    async requests(filter = {}) {
      return (await control<{ requests: RequestLogEntry[] }>('GET', `/requests${query({ ...filter, accountSid: account.accountSid })}`)).requests;
    },
    async deliveries(filter = {}) {
      return (await control<{ deliveries: WebhookDelivery[] }>('GET', `/webhooks/deliveries${query({ limit: '10000', ...filter })}`)).deliveries;
    },
    async deliverWebhook(url, params) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(account.authToken, url, params),
          'i-twilio-idempotency-token': `scenario-${randomUUID()}`,
        },
        body: new URLSearchParams(params).toString(),
      });
      await response.arrayBuffer();
      return response.status;
    },
    async settled() {
      // a reorder fault holds deliveries back ('held') until its window fills or times out: owed all the same
      for (const status of ['pending', 'held']) {
        if ((await control<{ deliveries: unknown[] }>('GET', `/webhooks/deliveries?status=${status}&limit=1`)).deliveries.length) return false;
      }
      return true;
    },
    waitFor,
    async reset() {
      // reset keeps fault rules, limits and number webhooks: each goes explicitly, so no scenario inherits them
      await control('DELETE', '/faults/webhooks');
      await control('DELETE', '/faults/rest');
      await control('PUT', '/limits', { rps: null, burst: null, concurrency: null });
      for (const address of numberWebhooks) await control('DELETE', `/numbers/${encodeURIComponent(address)}`).catch(() => undefined);
      numberWebhooks.clear();
      await control('POST', '/clock', { reset: true });
      await control('POST', '/reset', { accountSid: account.accountSid });
      await control('DELETE', '/webhooks/deliveries');
      receiver.clear();
    },
    async close() {
      await receiver.close();
      await closeEmulator?.();
    },
  };
  return target;
}

async function remoteAccount(base: string, options: EmulatorTargetOptions): Promise<Account> {
  const headers: Record<string, string> = options.controlToken ? { authorization: `Bearer ${options.controlToken}` } : {};
  const get = async (path: string) => {
    let response: Response;
    try {
      response = await fetch(`${base}/_emulator${path}`, { headers });
    } catch (error) {
      throw new ControlPlaneError(`--emulator-url ${base}: no emulator answers there (${(error as Error).message})`);
    }
    if (response.status !== 200) throw new ControlPlaneError(`--emulator-url ${base}: GET /_emulator${path} answered ${response.status}`);
    return response.json() as Promise<any>;
  };
  let sid = options.accountSid ?? process.env.TWILIO_ACCOUNT_SID;
  if (!sid) {
    const { accounts } = await get('/accounts');
    if (!accounts?.length) throw new ControlPlaneError(`--emulator-url ${base}: the emulator has no account`);
    sid = accounts[0].accountSid as string;
  }
  const found = await get(`/accounts/${sid}`);
  return { accountSid: found.accountSid, authToken: found.authToken };
}

/** the two numbers of the `two-numbers` scenarios, as on real Twilio: bought through IncomingPhoneNumbers */
export const EMULATOR_NUMBERS = { service: '+15017120901', customer: '+15017120902' } as const;

async function ownNumbers(client: ReturnType<typeof twilio>): Promise<{ service: string; customer: string } | undefined> {
  try {
    const mine = new Set((await client.incomingPhoneNumbers.list({ limit: 1000 })).map((n) => n.phoneNumber));
    for (const phoneNumber of Object.values(EMULATOR_NUMBERS)) {
      if (!mine.has(phoneNumber)) await client.incomingPhoneNumbers.create({ phoneNumber });
    }
    return { ...EMULATOR_NUMBERS };
  } catch {
    // another account owns them (a shared tce serve): the two-number scenarios are skipped
    return undefined;
  }
}
