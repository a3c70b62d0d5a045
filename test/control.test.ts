import { describe, expect, it } from 'vitest';
import { startEmulator, useEmulator } from './support/emulator.js';
import { SID } from './support/spec.js';

const t = useEmulator();

const json = (body: unknown) => ({ body: JSON.stringify(body), contentType: 'application/json', auth: null });

describe('Control plane /_emulator', () => {
  it('reports health with version, uptime and where webhooks are sent from', async () => {
    const r = await t.http('GET', '/_emulator/health', { auth: null });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/), uptimeSeconds: expect.any(Number), webhookTransport: 'worker', durability: 'off' });
  });

  it('reset empties every table but keeps accounts, keys and default services', async () => {
    const other = (await t.http('POST', '/_emulator/accounts', json({}))).body;
    const key = (await t.http('POST', `/_emulator/accounts/${t.emulator.accountSid}/keys`, json({}))).body;
    const c = await t.client.conversations.v1.conversations.create({ uniqueName: 'gone-after-reset' });
    await t.client.conversations.v1.conversations(c.sid).messages.create({ body: 'x' });
    const svc = await t.client.conversations.v1.services.create({ friendlyName: 'extra' });
    const r = await t.http('POST', '/_emulator/reset', { auth: null });
    expect(r.status).toBe(204);
    expect(await t.client.conversations.v1.conversations.list()).toEqual([]);
    const services = await t.client.conversations.v1.services.list();
    expect(services.map((s) => s.sid)).toEqual([t.emulator.defaultServiceSid]);
    expect(services.map((s) => s.sid)).not.toContain(svc.sid);
    // keys and other accounts still work
    const keyed = t.clientFor(key.sid, key.secret, t.emulator.accountSid);
    expect(await keyed.conversations.v1.conversations.list()).toEqual([]);
    const listed = (await t.http('GET', '/_emulator/accounts', { auth: null })).body.accounts;
    expect(listed.map((a: { accountSid: string }) => a.accountSid)).toEqual(expect.arrayContaining([t.emulator.accountSid, other.accountSid]));
    expect(JSON.stringify(listed)).not.toContain(t.emulator.authToken);
    // the unique name is free again
    await t.client.conversations.v1.conversations.create({ uniqueName: 'gone-after-reset' });
  });

  it('reset of one account leaves the others alone', async () => {
    const other = (await t.http('POST', '/_emulator/accounts', json({}))).body;
    const theirs = t.clientFor(other.accountSid, other.authToken);
    await theirs.conversations.v1.conversations.create({ friendlyName: 'theirs' });
    await t.client.conversations.v1.conversations.create({ friendlyName: 'mine' });
    expect((await t.http('POST', '/_emulator/reset', json({ accountSid: other.accountSid }))).status).toBe(204);
    expect(await theirs.conversations.v1.conversations.list()).toEqual([]);
    expect((await t.client.conversations.v1.conversations.list()).map((c) => c.friendlyName)).toEqual(['mine']);
    const unknown = await t.http('POST', '/_emulator/reset', json({ accountSid: 'AC' + '9'.repeat(32) }));
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe(20404);
  });

  it('creates an account with given credentials, form-encoded too', async () => {
    const sid = 'AC' + 'b'.repeat(32);
    const r = await t.http('POST', '/_emulator/accounts', { form: { accountSid: sid, authToken: 'tok', friendlyName: 'given' }, auth: null });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      accountSid: sid, authToken: 'tok', defaultServiceSid: expect.stringMatching(SID.service),
      testAccountSid: expect.stringMatching(SID.account), testAuthToken: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect((await t.http('GET', `/_emulator/accounts/${sid}`, { auth: null })).body).toEqual(r.body);
    const c = await t.clientFor(sid, 'tok').conversations.v1.conversations.create({});
    expect(c.accountSid).toBe(sid);
    const again = await t.http('POST', '/_emulator/accounts', json({ accountSid: sid }));
    expect(again.status).toBe(400);
  });

  it('moves a manual clock, sets it and switches modes', async () => {
    let r = await t.http('POST', '/_emulator/clock', json({ mode: 'manual' }));
    expect(r.body.mode).toBe('manual');
    r = await t.http('POST', '/_emulator/clock', json({ set: '2030-01-01T00:00:00Z' }));
    expect(r.body.now).toBe('2030-01-01T00:00:00.000Z');
    r = await t.http('POST', '/_emulator/clock', json({ advanceSeconds: 90 }));
    expect(r.body.now).toBe('2030-01-01T00:01:30.000Z');
    const c = await t.client.conversations.v1.conversations.create({});
    expect(c.dateCreated.toISOString()).toBe('2030-01-01T00:01:30.000Z');
    r = await t.http('POST', '/_emulator/clock', json({ advanceSeconds: -5 }));
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(20001);
    r = await t.http('POST', '/_emulator/clock', json({ mode: 'real' }));
    expect(r.body.mode).toBe('real');
  });
});

describe('Control token', () => {
  it('requires Authorization: Bearer <token> on /_emulator when configured, but on health', async () => {
    const secured = await startEmulator({ controlToken: 's3cret' });
    try {
      const denied = await secured.http('GET', '/_emulator/accounts', { auth: null });
      expect(denied.status).toBe(401);
      expect(denied.body.code).toBe(20003);
      expect((await secured.http('GET', '/_emulator/accounts', { auth: null, headers: { authorization: 'Bearer s3cre' } })).status).toBe(401);
      const allowed = await secured.http('GET', '/_emulator/accounts', { auth: null, headers: { authorization: 'Bearer s3cret' } });
      expect(allowed.status).toBe(200);
      // container health checks carry no token
      const health = await secured.http('GET', '/_emulator/health', { auth: null });
      expect(health.status).toBe(200);
      expect(health.body.status).toBe('ok');
      // the Twilio API keeps its own Basic auth
      expect((await secured.client.conversations.v1.conversations.list()).length).toBe(0);
    } finally {
      await secured.emulator.close();
    }
  });
});

describe('lifecycle', () => {
  it('closes cleanly right after starting, with nothing left running against the closed store', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'tce-life-'));
    try {
      for (let i = 0; i < 3; i++) {
        const { emulator: e } = await startEmulator({ db: join(dir, `e${i}.sqlite`) });
        await e.close();
      }
      // start-up work scheduled for later (the channel's resume sweep) must not run against a closed store
      await new Promise((r) => setTimeout(r, 300));
      const { emulator: again } = await startEmulator({ db: join(dir, 'e0.sqlite') });
      expect((await fetch(`${again.url}/_emulator/health`)).status).toBe(200);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
