/**
 * Real Twilio as a target (`--target twilio`): live credentials (an API key), the account's two numbers (A, the
 * service's; B, "the customer") and a public URL (the user's tunnel) in front of a local receiver. It uses only
 * Twilio's public REST API, never `/_emulator/*`: `sendInbound` is a real SMS from B to A (Messaging API), so STOP
 * goes through Twilio's own opt-out; A's SmsUrl is set through IncomingPhoneNumbers. Handsets, faults, the clock,
 * the outbox, the request log and the webhook journal do not exist at Twilio: a step needing them is skipped.
 * `twilioUrl` points the SDK elsewhere (the emulator, in our tests) through the same origin rewrite as src/client.ts.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import twilio from 'twilio';
import { emulatorHttpClient } from '../../client.js';
import type { Recorder } from '../../contracts/recorder.js';
import { ScenarioSkipped } from '../api.js';
import type { Capability, ReceivedWebhook, Target } from '../target.js';
import { waitFor } from '../wait.js';

export interface TwilioTargetOptions {
  accountSid: string;
  apiKeySid: string;
  apiKeySecret: string;
  /** verifies the webhooks' X-Twilio-Signature (and the reference router's) */
  authToken: string;
  /** A: the number the system under test answers on */
  serviceNumber: string;
  /** B: the number that plays the customer */
  customerNumber: string;
  /** the tunnel's public base URL, forwarding to `listenPort`; default the receiver's local URL */
  publicUrl?: string;
  /** the receiver's local port (default: the public URL's port when it is local, else any free port) */
  listenPort?: number;
  listenHost?: string;
  /** default real Twilio; else every SDK request goes to this origin */
  twilioUrl?: string;
  /** records every REST exchange and every webhook received */
  recorder?: Recorder;
}

/** the environment variables the target reads, with what each is */
export const TWILIO_ENV = {
  TWILIO_ACCOUNT_SID: 'the account (AC…)',
  TWILIO_API_KEY_SID: 'an API key (SK…)',
  TWILIO_API_KEY_SECRET: "that key's secret",
  TWILIO_AUTH_TOKEN: "the account's auth token (verifies webhook signatures)",
  TCE_SCENARIO_NUMBER: "A, the service's number (+E164)",
  TCE_SCENARIO_CUSTOMER_NUMBER: 'B, the number playing the customer (+E164)',
} as const;

const E164 = /^\+[1-9]\d{6,14}$/;

/** the options from the environment: one clear error naming the first missing or malformed variable */
export function twilioTargetOptionsFromEnv(env: NodeJS.ProcessEnv, flags: { publicUrl?: string; twilioUrl?: string; listenPort?: number } = {}): TwilioTargetOptions {
  for (const [name, what] of Object.entries(TWILIO_ENV)) {
    if (!env[name]) throw new Error(`--target twilio needs ${name} (${what}) in the environment`);
  }
  const get = (name: keyof typeof TWILIO_ENV) => env[name]!.trim();
  if (!/^AC[0-9a-fA-F]{32}$/.test(get('TWILIO_ACCOUNT_SID'))) throw new Error('TWILIO_ACCOUNT_SID must be AC and 32 hex digits');
  if (!/^SK[0-9a-fA-F]{32}$/.test(get('TWILIO_API_KEY_SID'))) throw new Error('TWILIO_API_KEY_SID must be SK and 32 hex digits');
  for (const name of ['TCE_SCENARIO_NUMBER', 'TCE_SCENARIO_CUSTOMER_NUMBER'] as const) {
    if (!E164.test(get(name))) throw new Error(`${name} must be a +E164 number, got ${get(name)}`);
  }
  if (get('TCE_SCENARIO_NUMBER') === get('TCE_SCENARIO_CUSTOMER_NUMBER')) throw new Error('TCE_SCENARIO_NUMBER and TCE_SCENARIO_CUSTOMER_NUMBER must be two different numbers');
  for (const [flag, url] of [['--public-url', flags.publicUrl], ['--twilio-url', flags.twilioUrl]] as const) {
    if (url !== undefined && !/^https?:\/\/[^/]+/.test(url)) throw new Error(`${flag} must be an http(s) URL, got ${url}`);
  }
  return {
    accountSid: get('TWILIO_ACCOUNT_SID'),
    apiKeySid: get('TWILIO_API_KEY_SID'),
    apiKeySecret: get('TWILIO_API_KEY_SECRET'),
    authToken: get('TWILIO_AUTH_TOKEN'),
    serviceNumber: get('TCE_SCENARIO_NUMBER'),
    customerNumber: get('TCE_SCENARIO_CUSTOMER_NUMBER'),
    publicUrl: flags.publicUrl,
    twilioUrl: flags.twilioUrl,
    listenPort: flags.listenPort,
  };
}

/** what Twilio cannot do: the step is skipped, never passed */
function lacks(capability: Capability, why: string): never {
  throw new ScenarioSkipped(`needs ${capability} (${why})`);
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** headers a forwarded webhook keeps: what Twilio sent, minus the hop's own */
const HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

export async function createTwilioTarget(options: TwilioTargetOptions): Promise<Target> {
  const { accountSid, authToken, serviceNumber: service, customerNumber: customer, recorder } = options;
  const twilioUrl = options.twilioUrl?.replace(/\/+$/, '');
  const httpClient = recorder ? recorder.httpClient(twilioUrl ? { baseUrl: twilioUrl } : {}) : twilioUrl ? emulatorHttpClient(twilioUrl) : undefined;
  const client = twilio(options.apiKeySid, options.apiKeySecret, { accountSid, ...(httpClient ? { httpClient } : {}) });

  // the receiver: the tunnel's end. It checks and records every webhook, then forwards it to the consumer
  const received: ReceivedWebhook[] = [];
  let forwardTo: string | undefined;
  let lastWebhookAt = 0;
  let publicBase = '';
  const server: Server = createServer((request, response) => {
    void (async () => {
      const raw = await readBody(request);
      const text = raw.toString('utf8');
      const path = request.url ?? '/';
      const params: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(text)) params[k] = v;
      const signature = String(request.headers['x-twilio-signature'] ?? '');
      lastWebhookAt = Date.now();
      received.push({ path: path.split('?')[0], params, valid: signature !== '' && twilio.validateRequest(authToken, signature, publicBase + path, params), at: lastWebhookAt });
      recorder?.recordWebhook({ method: request.method, url: path, headers: request.headers, body: text });
      if (!forwardTo) {
        response.writeHead(200, { 'content-type': 'text/xml' }).end('<Response/>');
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(request.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const method = request.method ?? 'POST';
      const answer = await fetch(forwardTo + path, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : new Uint8Array(raw), signal: AbortSignal.timeout(15_000) });
      const body = Buffer.from(await answer.arrayBuffer());
      response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' }).end(body);
    })().catch((error: Error) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' }).end(`the consumer did not answer: ${error.message}`);
    });
  });
  const localPort = options.listenPort ?? (options.publicUrl && /^http:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(options.publicUrl) ? Number(new URL(options.publicUrl).port || 80) : 0);
  const host = options.listenHost ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(localPort, host, () => resolve());
  });
  const address = server.address();
  const localUrl = `http://${host}:${typeof address === 'object' && address ? address.port : localPort}`;
  publicBase = (options.publicUrl ?? localUrl).replace(/\/+$/, '');

  // the PN… of each owned number, found once through IncomingPhoneNumbers
  const owned = new Map<string, string>();
  async function numberSid(phoneNumber: string): Promise<string> {
    const known = owned.get(phoneNumber);
    if (known) return known;
    const found = (await client.incomingPhoneNumbers.list({ phoneNumber, limit: 20 })).find((n) => n.phoneNumber === phoneNumber);
    if (!found) throw new Error(`${phoneNumber} is not one of account ${accountSid}'s numbers (IncomingPhoneNumbers): set TCE_SCENARIO_NUMBER / TCE_SCENARIO_CUSTOMER_NUMBER to numbers it owns`);
    owned.set(phoneNumber, found.sid);
    return found.sid;
  }
  // both numbers must be the account's: checked up front, so a wrong variable fails before any scenario
  await numberSid(service);
  await numberSid(customer);

  const target: Target = {
    name: twilioUrl ? `twilio API at ${twilioUrl}` : 'twilio',
    client,
    accountSid,
    authToken,
    twilioUrl,
    capabilities: new Set<Capability>(['two-numbers']),
    numbers: { service, customer },
    publicUrl: publicBase,
    exposeConsumer(consumerUrl) {
      forwardTo = consumerUrl.replace(/\/+$/, '');
      return publicBase;
    },
    webhooks: {
      url: publicBase,
      received,
      clear: () => void received.splice(0),
    },
    async sendInbound(from, to, body, media) {
      // the two-number trick: the only inbound Twilio lets us cause is an SMS from B to A
      if (from !== customer || to !== service) lacks('control-plane', `on twilio only ${customer} → ${service} can be texted`);
      const message = await client.messages.create({ from, to, body, ...(media?.length ? { mediaUrl: media } : {}) });
      return { routedTo: 'messaging', messageSid: message.sid };
    },
    async setHandset() {
      lacks('handsets', 'twilio has no scripted handsets');
    },
    async setNumberWebhook(address, url) {
      if (address !== service && address !== customer) lacks('control-plane', `on twilio only the account's numbers ${service} and ${customer} have an SmsUrl`);
      await client.incomingPhoneNumbers(await numberSid(address)).update({ smsUrl: url, smsMethod: 'POST' });
    },
    async injectWebhookFaults() {
      lacks('webhook-faults', 'twilio injects no faults');
    },
    async injectRestFaults() {
      lacks('rest-faults', 'twilio injects no faults');
    },
    async setRateLimit() {
      lacks('rest-faults', 'twilio rate limits cannot be set');
    },
    async advanceClock() {
      lacks('clock', "twilio's clock is real time");
    },
    async outbox() {
      return lacks('control-plane', 'twilio has no outbox to read');
    },
    async requests() {
      return lacks('control-plane', 'twilio has no request log to read');
    },
    async deliveries() {
      return lacks('control-plane', 'twilio has no webhook journal to read');
    },
    async deliverWebhook(url, params) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params), 'i-twilio-idempotency-token': `scenario-${randomUUID()}` },
        body: new URLSearchParams(params).toString(),
      });
      await response.arrayBuffer();
      return response.status;
    },
    async settled() {
      // no journal at Twilio: quiet at the receiver for a second is the best sign that nothing is owed
      return Date.now() - lastWebhookAt > 1000;
    },
    waitFor,
    async reset() {
      // what a previous scenario (or run) left: the customer's conversations, so B → A starts fresh
      for (const c of await client.conversations.v1.participantConversations.list({ address: customer, limit: 100 })) {
        await client.conversations.v1.conversations(c.conversationSid).remove().catch(() => undefined);
      }
      received.splice(0);
      forwardTo = undefined;
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return target;
}
