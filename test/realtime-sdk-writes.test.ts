/**
 * What a client of the real `@twilio/conversations` SDK (each pinned version: 3.0.1, 2.6.5) changes: conversations
 * it creates, joins and leaves, participants it adds, its messages edited and deleted, its media, its user; and an
 * inbound SMS reaching it live. Every change is checked through REST (the same rows) and, where the SDK has one,
 * through another client's event.
 */
import { describe, expect, it } from 'vitest';
import type { Conversation, Message, Participant } from '@twilio/conversations';
import type { TestEmulator } from './support/emulator.js';
import { SDK_VERSIONS, sdkTestbed, within } from './support/conversations-sdk.js';
import { startReceiver } from './support/webhook-receiver.js';

describe.each(SDK_VERSIONS)('@twilio/conversations %s', (_version, Sdk) => {
  let t: TestEmulator;
  const sdk = sdkTestbed((started) => (t = started), Sdk);

  const v1 = () => t.client.conversations.v1;

  describe('client writes', () => {
    it('creates a conversation, joins it, adds a participant and sends; REST sees all of it', async () => {
      const [alice, bob] = await Promise.all([sdk.connect('alice'), sdk.connect('bob')]);
      const bobJoined = new Promise<Conversation>((resolve) => bob.on('conversationJoined', resolve));
      const created = await alice.createConversation({ friendlyName: 'from the browser', uniqueName: 'browser-room', attributes: { topic: 'tea' } });
      await created.join();
      await created.add('bob');
      expect(await created.sendMessage('first')).toBe(0);

      const rest = await v1().conversations('browser-room').fetch();
      expect([rest.sid, rest.friendlyName, rest.attributes]).toEqual([created.sid, 'from the browser', JSON.stringify({ topic: 'tea' })]);
      expect((await v1().conversations(created.sid).participants.list()).map((p) => p.identity).sort()).toEqual(['alice', 'bob']);
      expect((await v1().conversations(created.sid).messages.list()).map((m) => [m.author, m.body])).toEqual([['alice', 'first']]);
      const seen = await within(5_000, 'bob conversationJoined', bobJoined);
      expect([seen.sid, seen.friendlyName]).toEqual([created.sid, 'from the browser']);
    });

    it('edits and deletes its own messages (messageUpdated, messageRemoved on the other client), not others\'', async () => {
      const sid = await sdk.conversationWith(['alice', 'bob']);
      await v1().conversations(sid).messages.create({ author: 'bob', body: "bob's" });
      const [alice, bob] = await Promise.all([sdk.connect('alice'), sdk.connect('bob')]);
      const bobs = await bob.getConversationBySid(sid);
      await bobs.getMessages();
      await sdk.subscribed('bob', `${sid}.messages`);
      const alices = await alice.getConversationBySid(sid);
      await alices.sendMessage('typo');
      const mine = (await alices.getMessages()).items.find((m) => m.author === 'alice') as Message;

      const updated = new Promise<{ message: Message; updateReasons: string[] }>((resolve) => bobs.on('messageUpdated', resolve));
      await mine.updateBody('fixed');
      const u = await within(5_000, 'messageUpdated', updated);
      expect([u.message.body, u.updateReasons]).toEqual(['fixed', expect.arrayContaining(['body'])]);
      expect((await v1().conversations(sid).messages(mine.sid).fetch()).body).toBe('fixed');

      const removed = new Promise<Message>((resolve) => bobs.on('messageRemoved', resolve));
      await mine.remove();
      expect((await within(5_000, 'messageRemoved', removed)).sid).toBe(mine.sid);
      expect((await v1().conversations(sid).messages.list()).map((m) => m.author)).toEqual(['bob']);

      const others = (await alices.getMessages()).items.find((m) => m.author === 'bob') as Message;
      await expect(others.updateBody('not mine')).rejects.toThrow();
      expect((await v1().conversations(sid).messages(others.sid).fetch()).body).toBe("bob's");
    });

    it('renames a conversation (conversationUpdated elsewhere), leaves it (conversationLeft), updates its user', async () => {
      const sid = await sdk.conversationWith(['alice', 'bob']);
      // renaming takes editConversationName: the channel admin role has it, the default channel user role does not
      const admin = (await v1().services(t.emulator.defaultServiceSid).roles.list()).find((r) => r.friendlyName === 'channel admin')!;
      const aliceParticipant = (await v1().conversations(sid).participants.list()).find((p) => p.identity === 'alice')!;
      await v1().conversations(sid).participants(aliceParticipant.sid).update({ roleSid: admin.sid });
      const [alice, bob] = await Promise.all([sdk.connect('alice'), sdk.connect('bob')]);
      const bobs = await bob.getConversationBySid(sid);
      await sdk.subscribed('bob', `${sid}.channel`);
      const renamed = new Promise<string[]>((resolve) => bobs.on('updated', ({ updateReasons }) => updateReasons.includes('friendlyName') && resolve(updateReasons)));
      const alices = await alice.getConversationBySid(sid);
      await alices.getMessages();
      await sdk.subscribed('alice', `${sid}.messages`);
      await alices.updateFriendlyName('renamed');
      await within(5_000, 'conversation updated', renamed);
      expect(bobs.friendlyName).toBe('renamed');
      expect((await v1().conversations(sid).fetch()).friendlyName).toBe('renamed');

      await bobs.getParticipants();
      await sdk.subscribed('bob', `${sid}.roster`);
      const gone = new Promise<Participant>((resolve) => bobs.on('participantLeft', resolve));
      const left = new Promise<Conversation>((resolve) => alice.on('conversationLeft', resolve));
      await alices.leave();
      expect((await within(5_000, 'participantLeft', gone)).identity).toBe('alice');
      expect((await within(5_000, 'conversationLeft', left)).sid).toBe(sid);
      expect((await v1().conversations(sid).participants.list()).map((p) => p.identity)).toEqual(['bob']);
      // no longer a participant: no more of its messages or roster
      const aliceSubscriptions = t.emulator.clientConnections().find((c) => c.identity === 'alice')?.subscriptions ?? [];
      expect(aliceSubscriptions.filter((o) => o === `${sid}.messages` || o === `${sid}.roster`)).toEqual([]);

      await alice.user.updateFriendlyName('Alice A.');
      const users = await v1().services(t.emulator.defaultServiceSid).users.list();
      expect(users.find((u) => u.identity === 'alice')?.friendlyName).toBe('Alice A.');
    });
  });

  describe('role permissions', () => {
    it("follow Twilio's default roles: the creator administers, a channel user sends and edits only its own", async () => {
      const [alice, bob] = await Promise.all([sdk.connect('alice'), sdk.connect('bob')]);
      const created = await alice.createConversation({ friendlyName: 'roles' });
      await created.join();
      await created.add('bob');
      const roles = await v1().services(t.emulator.defaultServiceSid).roles.list();
      const roleOf = async (identity: string) => {
        const p = (await v1().conversations(created.sid).participants.list()).find((x) => x.identity === identity);
        return roles.find((r) => r.sid === p?.roleSid)?.friendlyName;
      };
      expect([await roleOf('alice'), await roleOf('bob')]).toEqual(['channel admin', 'channel user']);

      const bobs = await bob.getConversationBySid(created.sid);
      expect(await bobs.sendMessage('hi')).toBe(0);
      await expect(bobs.add('carol')).rejects.toThrow();
      await expect(bobs.updateFriendlyName('mine now')).rejects.toThrow();
      await created.sendMessage('admin here');
      const adminMessage = (await bobs.getMessages()).items.find((m) => m.author === 'alice')!;
      await expect(adminMessage.updateBody('edited by bob')).rejects.toThrow();
      // the admin may delete anyone's message
      const bobsMessage = (await created.getMessages()).items.find((m) => m.author === 'bob')!;
      await bobsMessage.remove();
      expect((await v1().conversations(created.sid).messages.list()).map((m) => [m.author, m.body])).toEqual([['alice', 'admin here']]);
      expect((await v1().conversations(created.sid).participants.list()).map((p) => p.identity).sort()).toEqual(['alice', 'bob']);
      expect((await v1().conversations(created.sid).fetch()).friendlyName).toBe('roles');

      // a role without sendMessage, given through REST, silences bob
      const muted = await v1().services(t.emulator.defaultServiceSid).roles.create({ friendlyName: 'listener', type: 'conversation', permission: ['leaveConversation'] });
      const bobParticipant = (await v1().conversations(created.sid).participants.list()).find((p) => p.identity === 'bob')!;
      await v1().conversations(created.sid).participants(bobParticipant.sid).update({ roleSid: muted.sid });
      await expect(bobs.sendMessage('still talking')).rejects.toThrow();
      expect((await v1().conversations(created.sid).messages.list()).map((m) => m.body)).toEqual(['admin here']);
    });
  });

  describe('pre-events', () => {
    it("onMessageAdd sees the client's message (Source=SDK), may change its body, or refuse it", async () => {
      const rx = await startReceiver(() => t.emulator.authToken);
      try {
        await v1().services(t.emulator.defaultServiceSid).configuration.webhooks().update({ preWebhookUrl: rx.url('/pre'), filters: ['onMessageAdd'], method: 'POST' });
        const sid = await sdk.conversationWith(['alice']);
        const alice = await sdk.connect('alice');
        const conversation = await alice.getConversationBySid(sid);
        rx.respond = (r) => (r.params.Body === 'forbidden word' ? { status: 403 } : { status: 200, body: { body: `${String(r.params.Body)} (checked)` } });
        await conversation.sendMessage('hello');
        await expect(conversation.sendMessage('forbidden word')).rejects.toThrow();
        expect((await v1().conversations(sid).messages.list()).map((m) => [m.author, m.body])).toEqual([['alice', 'hello (checked)']]);
        expect(rx.requests.map((r) => [r.params.EventType, r.params.Source, r.params.Author, r.params.Body])).toEqual([
          ['onMessageAdd', 'SDK', 'alice', 'hello'],
          ['onMessageAdd', 'SDK', 'alice', 'forbidden word'],
        ]);
      } finally {
        await rx.close();
      }
    });
  });

  describe('media (MCS over HTTP)', () => {
    it('sends a message with two attachments; the other client fetches the bytes; REST describes them', async () => {
      const sid = await sdk.conversationWith(['alice', 'bob']);
      const [alice, bob] = await Promise.all([sdk.connect('alice'), sdk.connect('bob')]);
      const bobs = await bob.getConversationBySid(sid);
      await bobs.getMessages();
      await sdk.subscribed('bob', `${sid}.messages`);
      const added = new Promise<Message>((resolve) => bobs.on('messageAdded', resolve));
      const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
      const alices = await alice.getConversationBySid(sid);
      await alices.prepareMessage().setBody('look')
        .addMedia({ contentType: 'image/png', filename: 'dot.png', media: png })
        .addMedia({ contentType: 'text/plain', filename: 'note.txt', media: Buffer.from('hello') })
        .build().send();
      const message = await within(5_000, 'messageAdded with media', added);
      expect(message.body).toBe('look');
      const media = message.attachedMedia ?? [];
      expect(media.map((m) => [m.contentType, m.filename, m.size])).toEqual([['image/png', 'dot.png', png.length], ['text/plain', 'note.txt', 5]]);
      const url = await media[0]!.getContentTemporaryUrl();
      const content = await fetch(url as string);
      expect(content.headers.get('content-type')).toBe('image/png');
      expect(content.headers.get('access-control-allow-origin')).toBe('*');
      expect(Buffer.from(await content.arrayBuffer()).equals(png)).toBe(true);

      const rest = (await v1().conversations(sid).messages.list())[0];
      expect((rest?.media as { sid: string; content_type: string; filename: string; size: number }[]).map((m) => [m.sid, m.content_type, m.filename, m.size]))
        .toEqual(media.map((m) => [m.sid, m.contentType, m.filename, m.size]));
    });

    it('wants a valid token for uploads, answers CORS preflights, refuses media over 5 MB', async () => {
      const base = `${t.emulator.url}/mcs/v1/Services/${t.emulator.defaultServiceSid}/Media`;
      const anonymous = await fetch(base, { method: 'POST', headers: { 'content-type': 'image/png' }, body: 'x' });
      expect(anonymous.status).toBe(401);
      expect((await anonymous.json()).code).toBe(20101);
      const preflight = await fetch(base, { method: 'OPTIONS', headers: { origin: 'http://app.test', 'access-control-request-method': 'POST' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-headers')).toContain('X-Twilio-Token');
      const tooBig = await fetch(base, { method: 'POST', headers: { 'content-type': 'image/png', 'x-twilio-token': t.emulator.clientToken('alice') }, body: Buffer.alloc(5 * 1024 * 1024 + 1) });
      expect(tooBig.status).toBe(413);

    });
  });

  describe('delivery receipts', () => {
    it("a client's message to an SMS participant: the aggregate updates live, the detailed receipts list it", async () => {
      const sid = await sdk.conversationWith(['alice']);
      const sms = await v1().conversations(sid).participants.create({ 'messagingBinding.address': '+15558675310', 'messagingBinding.proxyAddress': '+15017122661' });
      const alice = await sdk.connect('alice');
      const conversation = await alice.getConversationBySid(sid);
      await conversation.getMessages();
      await sdk.subscribed('alice', `${sid}.messages`);
      const delivered = new Promise<Message>((resolve) => conversation.on('messageUpdated', ({ message }) => message.aggregatedDeliveryReceipt?.delivered === 'all' && resolve(message)));
      await conversation.sendMessage('to a phone');
      const message = await within(5_000, 'delivered to all', delivered);
      expect([message.aggregatedDeliveryReceipt?.total, message.aggregatedDeliveryReceipt?.sent, message.aggregatedDeliveryReceipt?.read]).toEqual([1, 'all', 'none']);
      const detailed = await message.getDetailedDeliveryReceipts();
      expect(detailed.map((r) => [r.participantSid, r.status, r.messageSid])).toEqual([[sms.sid, 'delivered', message.sid]]);
      const rest = await v1().conversations(sid).messages(message.sid).deliveryReceipts.list();
      expect(rest.map((r) => r.sid)).toEqual(detailed.map((r) => r.sid));
    });
  });

  describe('push registrations (ERS)', () => {
    it('setPushRegistrationId makes a push binding REST lists, bound to the token\'s push credential; removePushRegistrations deletes it', async () => {
      const credential = await v1().credentials.create({ type: 'fcm', friendlyName: 'fcm', secret: 'server-key' });
      const alice = await sdk.connect('alice', t.emulator.clientToken('alice', { pushCredentialSid: credential.sid }));
      await alice.setPushRegistrationId('fcm', 'device-token-1');
      const bindings = () => v1().services(t.emulator.defaultServiceSid).bindings.list();
      const [binding] = await bindings();
      expect([binding?.identity, binding?.bindingType, binding?.endpoint, binding?.credentialSid]).toEqual(['alice', 'fcm', 'device-token-1', credential.sid]);
      expect(binding?.messageTypes).toEqual(expect.arrayContaining(['new_message', 'added_to_conversation']));
      await alice.removePushRegistrations('fcm', 'device-token-1');
      expect(await bindings()).toEqual([]);

      // a token without a push credential cannot register
      const bob = await sdk.connect('bob');
      await expect(bob.setPushRegistrationId('fcm', 'device-token-2')).rejects.toThrow();
      expect(await bindings()).toEqual([]);
    });
  });

  describe('reachability', () => {
    it('with the service setting on, a user is online while a client of theirs is connected', async () => {
      await v1().services(t.emulator.defaultServiceSid).configuration().update({ reachabilityEnabled: true });
      const sid = await sdk.conversationWith(['alice', 'bob']);
      const [alice, bob] = await Promise.all([sdk.connect('alice'), sdk.connect('bob')]);
      expect(alice.reachabilityEnabled).toBe(true);
      const participants = await (await alice.getConversationBySid(sid)).getParticipants();
      const bobUser = await participants.find((p) => p.identity === 'bob')!.getUser();
      expect([bobUser.isOnline, bobUser.isNotifiable]).toEqual([true, false]);
      const bobSid = (await v1().services(t.emulator.defaultServiceSid).users.list()).find((u) => u.identity === 'bob')!.sid;
      await sdk.subscribed('alice', `${bobSid}.info`);
      const offline = new Promise<string[]>((resolve) => bobUser.on('updated', ({ updateReasons }) => resolve(updateReasons)));
      await bob.shutdown();
      expect(await within(5_000, 'bob offline', offline)).toEqual(['reachabilityOnline']);
      expect(bobUser.isOnline).toBe(false);
    });
  });

  describe('other channels reach the client', () => {
    it('REST: a user renamed (userUpdated on a client that sees them), a conversation deleted (conversationRemoved)', async () => {
      const sid = await sdk.conversationWith(['alice', 'bob']);
      const alice = await sdk.connect('alice');
      const conversation = await alice.getConversationBySid(sid);
      const participants = await conversation.getParticipants();
      const bob = await participants.find((p) => p.identity === 'bob')!.getUser();
      const bobUser = (await v1().services(t.emulator.defaultServiceSid).users.list()).find((u) => u.identity === 'bob')!;
      await sdk.subscribed('alice', `${bobUser.sid}.info`);
      const renamed = new Promise<string[]>((resolve) => bob.on('updated', ({ updateReasons }) => resolve(updateReasons)));
      await v1().services(t.emulator.defaultServiceSid).users(bobUser.sid).update({ friendlyName: 'Bob B.' });
      expect(await within(5_000, 'userUpdated', renamed)).toEqual(['friendlyName']);
      expect(bob.friendlyName).toBe('Bob B.');

      await sdk.subscribed('alice', `${sid}.channel`);
      const removed = new Promise<{ sid: string }>((resolve) => alice.on('conversationRemoved', resolve));
      await v1().conversations(sid).remove();
      expect((await within(5_000, 'conversationRemoved', removed)).sid).toBe(sid);
      expect((await alice.getSubscribedConversations()).items).toEqual([]);
    });

    it('an inbound SMS from a participant arrives as messageAdded', async () => {
      const sid = await sdk.conversationWith(['alice']);
      await v1().conversations(sid).participants.create({ 'messagingBinding.address': '+15558675310', 'messagingBinding.proxyAddress': '+15017122661' });
      const alice = await sdk.connect('alice');
      const conversation = await alice.getConversationBySid(sid);
      await conversation.getMessages();
      await sdk.subscribed('alice', `${sid}.messages`);
      const added = new Promise<Message>((resolve) => conversation.on('messageAdded', resolve));
      const result = await t.emulator.channel.inbound({ from: '+15558675310', to: '+15017122661', body: 'texting in' });
      expect(result.conversationSid).toBe(sid);
      const message = await within(5_000, 'messageAdded', added);
      expect([message.author, message.body]).toEqual(['+15558675310', 'texting in']);
    });
  });
});
