/**
 * Where webhook requests leave from (src/emulator/webhooks/transport.ts): a worker thread by default, the main
 * thread with `webhookTransport: 'inline'`. Both sign, time out, retry and report the same way; the worker one is
 * what `tce serve` runs, so the other suites exercise it too.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type TestEmulator } from './support/emulator.js';
import { closedPort, useReceiver } from './support/webhook-receiver.js';
import { expectNoSpawnedViolations, VALIDATE_RESPONSES, watchViolations } from './support/spawned.js';

const ON = { xTwilioWebhookEnabled: 'true' as const };

async function healthOf(url: string): Promise<{ webhookTransport: string }> {
  return (await (await fetch(`${url}/_emulator/health`)).json()) as { webhookTransport: string };
}

describe.each(['worker', 'inline'] as const)('webhookTransport %s', (transport) => {
  const rx = useReceiver(() => t.emulator.authToken);
  let t: TestEmulator;

  const withEmulator = async (fn: () => Promise<void>) => {
    t = await startEmulator({ webhookTransport: transport });
    try {
      await fn();
      expect(t.violations).toEqual([]);
    } finally {
      await t.emulator.close();
    }
  };

  it('is the transport health reports', async () => {
    await withEmulator(async () => {
      expect((await healthOf(t.emulator.url)).webhookTransport).toBe(transport);
    });
  });

  it('delivers signed post-events in order, with a retry after a 500 carrying the same token', async () => {
    await withEmulator(async () => {
      const v1 = t.client.conversations.v1;
      // a 5xx is retried only when #rp says so (Twilio's default policy is ct,rt)
      await v1.services(t.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: `${rx.url('/post')}#rp=ct,rt,5xx`, filters: ['onMessageAdded'], method: 'POST' });
      let failedOnce = false;
      rx.respond = (r) => {
        if (r.params.Body === 'm1' && !failedOnce) {
          failedOnce = true;
          return { status: 500 };
        }
        return { status: 200 };
      };
      const c = await v1.conversations.create({ friendlyName: transport });
      const sent: { sid: string }[] = [];
      for (const body of ['m0', 'm1', 'm2']) sent.push(await v1.conversations(c.sid).messages.create({ body, author: 'ann', ...ON }));
      const last = await t.emulator.control.waitForDelivery((d) => d.params.MessageSid === sent[2].sid, 8000);
      expect(last.state).toBe('delivered');
      // every request verified with twilio.validateRequest by the receiver
      expect(rx.requests.every((r) => r.signatureValid)).toBe(true);
      expect(rx.requests.map((r) => [r.params.Body, r.params.RetryCount])).toEqual([
        ['m0', '0'],
        ['m1', '0'],
        ['m1', '1'],
        ['m2', '0'],
      ]);
      expect(rx.requests[1].headers['i-twilio-idempotency-token']).toBe(rx.requests[2].headers['i-twilio-idempotency-token']);
      const journal = t.emulator.control.deliveries({ conversationSid: c.sid });
      expect(journal.map((d) => [d.params.Body, d.state, d.attempts.map((a) => a.status)])).toEqual([
        ['m0', 'delivered', [200]],
        ['m1', 'delivered', [500, 200]],
        ['m2', 'delivered', [200]],
      ]);
    });
  });

  it('reports a refused connection as an error attempt (retried, then failed)', async () => {
    await withEmulator(async () => {
      const v1 = t.client.conversations.v1;
      const port = await closedPort();
      await v1.services(t.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: `http://127.0.0.1:${port}/gone#rc=1`, filters: ['onConversationAdded'], method: 'POST' });
      const c = await v1.conversations.create({ friendlyName: 'nobody home', ...ON });
      const d = await t.emulator.control.waitForDelivery((x) => x.conversationSid === c.sid, 8000);
      expect(d.state).toBe('failed');
      expect(d.attempts).toHaveLength(2);
      for (const a of d.attempts) {
        expect(a.status).toBeNull();
        expect(a.error).toMatch(/ECONNREFUSED/);
      }
    });
  });
});

describe('the webhook thread ending mid-delivery', () => {
  const rx = useReceiver(() => t.emulator.authToken);
  let t: TestEmulator;

  it('fails the attempt like a dropped connection, retries it on a new thread, and delivers', async () => {
    t = await startEmulator({ webhookTransport: 'worker' });
    try {
      const v1 = t.client.conversations.v1;
      await v1.services(t.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: rx.url('/post'), filters: ['onMessageAdded'], method: 'POST' });
      let arrived: () => void = () => undefined;
      const firstArrival = new Promise<void>((resolve) => (arrived = resolve));
      // the first attempt hangs at the consumer until its thread is gone; the retry is answered at once
      rx.respond = (r) => {
        if (r.n === 0) {
          arrived();
          return { status: 200, delayMs: 2000 };
        }
        return { status: 200 };
      };
      const c = await v1.conversations.create({ friendlyName: 'thread ends' });
      const m = await v1.conversations(c.sid).messages.create({ body: 'survive', ...ON });
      await firstArrival;
      const transport = t.emulator.core.webhooks.transport as unknown as { worker?: { terminate(): Promise<number> } };
      expect(transport.worker).toBeDefined();
      await transport.worker?.terminate();
      const d = await t.emulator.control.waitForDelivery((x) => x.params.MessageSid === m.sid, 8000);
      expect(d.state).toBe('delivered');
      expect(d.attempts.map((a) => [a.status, a.retryCount])).toEqual([
        [null, 0],
        [200, 1],
      ]);
      expect(d.attempts[0].error).toMatch(/webhook thread ended/);
      expect(rx.requests.map((r) => r.params.RetryCount)).toEqual(['0', '1']);
      expect(rx.requests[0].headers['i-twilio-idempotency-token']).toBe(rx.requests[1].headers['i-twilio-idempotency-token']);
    } finally {
      await t.emulator.close();
    }
  });
});

describe('tce serve --webhook-transport', () => {
  afterEach(expectNoSpawnedViolations);
  it('refuses a value other than worker or inline', async () => {
    const child = spawn(process.execPath, ['bin/tce.js', 'serve', '--port', '0', '--db', ':memory:', '--webhook-transport', 'carrier-pigeon'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/--webhook-transport must be worker or inline, got carrier-pigeon/);
  });

  it('defaults to the worker thread', async () => {
    const child = watchViolations(spawn(process.execPath, ['bin/tce.js', 'serve', '--port', '0', VALIDATE_RESPONSES, '--db', ':memory:'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`tce serve exited with ${code}`)));
      });
      expect((await healthOf(url)).webhookTransport).toBe('worker');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
