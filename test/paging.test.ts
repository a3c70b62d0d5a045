import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator } from './support/emulator.js';

const t = useEmulator({ clock: 'manual' });

const conversations = () => t.client.conversations.v1.conversations;

/** A conversation with `n` messages whose bodies are their creation order: 'm0', 'm1', … */
async function seeded(n: number) {
  const c = await conversations().create({ friendlyName: 'paging' });
  const sids: string[] = [];
  for (let i = 0; i < n; i++) sids.push((await conversations()(c.sid).messages.create({ body: `m${i}` })).sid);
  return { sid: c.sid, sids, base: `${t.emulator.url}/v1/Conversations/${c.sid}/Messages` };
}

const bodies = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `m${from + i}`);

/** GET an absolute URL the emulator handed out (meta.*_url). */
async function follow(url: string) {
  expect(url.startsWith(t.emulator.url + '/v1/')).toBe(true);
  const r = await t.http('GET', url.slice(t.emulator.url.length));
  expect(r.status).toBe(200);
  return r.body;
}

describe('Paging through 260 messages with the SDK', () => {
  it('list() returns all 260 in order and each() visits every one', async () => {
    const { sid, sids } = await seeded(260);
    const all = await conversations()(sid).messages.list();
    expect(all).toHaveLength(260);
    expect(all.map((m) => m.sid)).toEqual(sids);
    expect(all.map((m) => m.index)).toEqual(Array.from({ length: 260 }, (_, i) => i));

    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      conversations()(sid).messages.each(
        { pageSize: 37, done: (error: Error | null) => (error ? reject(error) : resolve()) },
        (m) => {
          seen.push(m.body);
        },
      );
    });
    expect(seen).toEqual(bodies(260));

    const desc = await conversations()(sid).messages.list({ order: 'desc', pageSize: 100 });
    expect(desc.map((m) => m.sid)).toEqual([...sids].reverse());
  });

  it('page({pageSize: 100}) chains 100/100/60 through nextPage(), and previousPage() walks back', async () => {
    const { sid } = await seeded(260);
    const p1 = await conversations()(sid).messages.page({ pageSize: 100 });
    expect(p1.instances.map((m) => m.body)).toEqual(bodies(100));
    expect(p1.previousPageUrl).toBeUndefined();
    const p2 = await p1.nextPage();
    expect(p2!.instances.map((m) => m.body)).toEqual(bodies(100, 100));
    const p3 = await p2!.nextPage();
    expect(p3!.instances.map((m) => m.body)).toEqual(bodies(60, 200));
    expect(p3!.nextPageUrl).toBeUndefined();
    expect(await p3!.nextPage()).toBeUndefined();

    const back2 = await p3!.previousPage();
    expect(back2!.instances.map((m) => m.body)).toEqual(bodies(100, 100));
    const back1 = await back2!.previousPage();
    expect(back1!.instances.map((m) => m.body)).toEqual(bodies(100));
    expect(back1!.previousPageUrl).toBeUndefined();
    expect(await back1!.previousPage()).toBeUndefined();
    const forward = await back1!.nextPage();
    expect(forward!.instances.map((m) => m.body)).toEqual(bodies(100, 100));
  });

  it('clamps PageSize above 100: list({limit: 500}) gets all 260, page_size says 100', async () => {
    const { sid, base } = await seeded(260);
    const all = await conversations()(sid).messages.list({ limit: 500 });
    expect(all.map((m) => m.body)).toEqual(bodies(260));
    const limited = await conversations()(sid).messages.list({ limit: 150 });
    expect(limited.map((m) => m.body)).toEqual(bodies(150));

    const r = await t.http('GET', `/v1/Conversations/${sid}/Messages?PageSize=500`);
    expect(r.body.meta.page_size).toBe(100);
    expect(r.body.messages).toHaveLength(100);
    expect(r.body.meta.url).toBe(`${base}?PageSize=100&Page=0`);
    expect(r.body.meta.next_page_url).toBe(`${base}?PageSize=100&Page=1&PageToken=PA${r.body.messages[99].sid}`);
    const dflt = await t.http('GET', `/v1/Conversations/${sid}/Messages`);
    expect(dflt.body.meta.page_size).toBe(50);
    expect(dflt.body.messages).toHaveLength(50);
  });
});

describe('Page parameters and meta', () => {
  it('rejects PageSize=0 and PageSize=abc with 400/20001', async () => {
    const { sid } = await seeded(1);
    for (const bad of ['0', 'abc', '-5', '2.5']) {
      const r = await t.http('GET', `/v1/Conversations/${sid}/Messages?PageSize=${bad}`);
      expect(r.status, `PageSize=${bad}`).toBe(400);
      expect(r.body).toEqual({
        code: 20001,
        message: expect.stringContaining('PageSize'),
        more_info: 'https://www.twilio.com/docs/errors/20001',
        status: 400,
      });
    }
    await expectTwilioError(conversations()(sid).messages.page({ pageSize: 0 }), 400, 20001);
  });

  it('rejects a PageToken that is garbage or names a row that never existed (400/21481)', async () => {
    const { sid } = await seeded(3);
    for (const token of ['garbage', 'PAIM' + '0'.repeat(32), 'PBIM' + '0'.repeat(32), 'PX' + 'IM' + 'a'.repeat(32)]) {
      const r = await t.http('GET', `/v1/Conversations/${sid}/Messages?PageToken=${token}`);
      expect(r.status, token).toBe(400);
      expect(r.body.code).toBe(21481);
      expect(r.body.more_info).toBe('https://www.twilio.com/docs/errors/21481');
      expect(r.body.message).toContain(token);
    }
    await expectTwilioError(conversations()(sid).messages.page({ pageToken: 'garbage' }), 400, 21481);
  });

  it('writes meta exactly like Twilio: absolute URLs, PA/PB tokens, previous null on the first page', async () => {
    const { sid, sids, base } = await seeded(5);
    const first = await t.http('GET', `/v1/Conversations/${sid}/Messages?PageSize=2`);
    expect(first.body.messages.map((m: any) => m.sid)).toEqual(sids.slice(0, 2));
    expect(first.body.meta).toEqual({
      page: 0,
      page_size: 2,
      first_page_url: `${base}?PageSize=2&Page=0`,
      previous_page_url: null,
      url: `${base}?PageSize=2&Page=0`,
      next_page_url: `${base}?PageSize=2&Page=1&PageToken=PA${sids[1]}`,
      key: 'messages',
    });
    const second = await follow(first.body.meta.next_page_url);
    expect(second.messages.map((m: any) => m.sid)).toEqual(sids.slice(2, 4));
    expect(second.meta).toEqual({
      page: 1,
      page_size: 2,
      first_page_url: `${base}?PageSize=2&Page=0`,
      previous_page_url: `${base}?PageSize=2&Page=0&PageToken=PB${sids[2]}`,
      url: `${base}?PageSize=2&Page=1&PageToken=PA${sids[1]}`,
      next_page_url: `${base}?PageSize=2&Page=2&PageToken=PA${sids[3]}`,
      key: 'messages',
    });
    const third = await follow(second.meta.next_page_url);
    expect(third.messages.map((m: any) => m.sid)).toEqual([sids[4]]);
    expect(third.meta.page).toBe(2);
    expect(third.meta.next_page_url).toBeNull();
    expect(third.meta.previous_page_url).toBe(`${base}?PageSize=2&Page=1&PageToken=PB${sids[4]}`);
    const back = await follow(third.meta.previous_page_url);
    expect(back.messages.map((m: any) => m.sid)).toEqual(sids.slice(2, 4));
    expect(back.meta.next_page_url).toBe(`${base}?PageSize=2&Page=2&PageToken=PA${sids[3]}`);
    expect(back.meta.previous_page_url).toBe(`${base}?PageSize=2&Page=0&PageToken=PB${sids[2]}`);
  });

  it('echoes filters before PageSize, whatever order the request gave them in', async () => {
    const { sid, sids, base } = await seeded(3);
    const r = await t.http('GET', `/v1/Conversations/${sid}/Messages?PageSize=2&Order=desc`);
    expect(r.body.messages.map((m: any) => m.sid)).toEqual([sids[2], sids[1]]);
    expect(r.body.meta.first_page_url).toBe(`${base}?Order=desc&PageSize=2&Page=0`);
    expect(r.body.meta.url).toBe(`${base}?Order=desc&PageSize=2&Page=0`);
    expect(r.body.meta.next_page_url).toBe(`${base}?Order=desc&PageSize=2&Page=1&PageToken=PA${sids[1]}`);
    const next = await follow(r.body.meta.next_page_url);
    expect(next.messages.map((m: any) => m.sid)).toEqual([sids[0]]);
    expect(next.meta.next_page_url).toBeNull();
    expect(next.meta.previous_page_url).toBe(`${base}?Order=desc&PageSize=2&Page=0&PageToken=PB${sids[0]}`);
    const prev = await follow(next.meta.previous_page_url);
    expect(prev.messages.map((m: any) => m.sid)).toEqual([sids[2], sids[1]]);
  });
});

describe('Paging while the list changes', () => {
  it('adding rows between pages neither duplicates nor skips the original rows (asc and desc)', async () => {
    const { sid, sids } = await seeded(25);
    const collected: string[] = [];
    let page = await conversations()(sid).messages.page({ pageSize: 10 });
    let added = 0;
    while (page) {
      collected.push(...page.instances.map((m) => m.sid));
      for (let i = 0; i < 3; i++) await conversations()(sid).messages.create({ body: `new${added++}` });
      page = (await page.nextPage()) as typeof page;
    }
    expect(new Set(collected).size).toBe(collected.length);
    expect(collected.slice(0, 25)).toEqual(sids);

    // Newest first: rows added at the top never shift the pages still to come.
    const total = (await conversations()(sid).messages.list()).map((m) => m.sid);
    const descCollected: string[] = [];
    let d = await conversations()(sid).messages.page({ pageSize: 7, order: 'desc' });
    while (d) {
      descCollected.push(...d.instances.map((m) => m.sid));
      await conversations()(sid).messages.create({ body: 'late' });
      d = (await d.nextPage()) as typeof d;
    }
    expect(descCollected).toEqual([...total].reverse());
  });

  it('a list-and-delete loop works: tokens naming deleted rows stay valid', async () => {
    const { sid, base } = await seeded(23);
    let url: string | null = `${base}?PageSize=5`;
    const deleted: string[] = [];
    while (url) {
      const body: any = await follow(url);
      for (const m of body.messages) {
        await conversations()(sid).messages(m.sid).remove();
        deleted.push(m.body);
      }
      url = body.meta.next_page_url;
    }
    expect(deleted).toEqual(bodies(23));
    expect(await conversations()(sid).messages.list()).toEqual([]);
  });

  it('previous_page_url still works after its anchor row is deleted', async () => {
    const { sid, sids } = await seeded(6);
    const p1 = await conversations()(sid).messages.page({ pageSize: 3 });
    const p2 = await p1.nextPage();
    await conversations()(sid).messages(sids[3]).remove();
    const back = await p2!.previousPage();
    expect(back!.instances.map((m) => m.sid)).toEqual(sids.slice(0, 3));
    const again = await back!.nextPage();
    expect(again!.instances.map((m) => m.sid)).toEqual(sids.slice(4, 6));
  });

  it('a token of one conversation does not leak rows of another conversation', async () => {
    const a = await seeded(4);
    const b = await seeded(4);
    const r = await t.http('GET', `/v1/Conversations/${b.sid}/Messages?PageSize=2&PageToken=PA${a.sids[1]}`);
    expect(r.status).toBe(200);
    expect(r.body.messages.map((m: any) => m.sid)).toEqual(b.sids.slice(0, 2));
  });

  it('rejects a token naming a deleted row of another resource (400/21481)', async () => {
    const { sid } = await seeded(2);
    const gone = await conversations().create({});
    await conversations()(gone.sid).remove();
    const r = await t.http('GET', `/v1/Conversations/${sid}/Messages?PageToken=PA${gone.sid}`);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(21481);
  });
});

describe('Conversations list paging', () => {
  it('pages conversations with the SDK and echoes State before PageSize', async () => {
    const sids: string[] = [];
    for (let i = 0; i < 7; i++) sids.push((await conversations().create({ friendlyName: `c${i}` })).sid);
    expect((await conversations().list({ pageSize: 3 })).map((c) => c.sid)).toEqual(sids);
    const p1 = await conversations().page({ pageSize: 3 });
    const p2 = await p1.nextPage();
    const p3 = await p2!.nextPage();
    expect([p1, p2!, p3!].map((p) => p.instances.length)).toEqual([3, 3, 1]);
    expect(p3!.instances[0].sid).toBe(sids[6]);
    expect(await p3!.nextPage()).toBeUndefined();
    expect((await p3!.previousPage())!.instances.map((c) => c.sid)).toEqual(sids.slice(3, 6));

    const base = `${t.emulator.url}/v1/Conversations`;
    const r = await t.http('GET', '/v1/Conversations?PageSize=3&State=active');
    expect(r.body.meta).toEqual({
      page: 0,
      page_size: 3,
      first_page_url: `${base}?State=active&PageSize=3&Page=0`,
      previous_page_url: null,
      url: `${base}?State=active&PageSize=3&Page=0`,
      next_page_url: `${base}?State=active&PageSize=3&Page=1&PageToken=PA${sids[2]}`,
      key: 'conversations',
    });
    const bad = await t.http('GET', '/v1/Conversations?PageSize=0');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe(20001);
  });

  it('pages a date-filtered conversation list newest first without losing rows', async () => {
    const sids: string[] = [];
    for (let i = 0; i < 5; i++) {
      sids.push((await conversations().create({ dateCreated: new Date(Date.UTC(2022, 0, 1 + i, 12)) })).sid);
    }
    const pages = [];
    let page = await conversations().page({ startDate: '2022-01-01', endDate: '2022-01-31', pageSize: 2 });
    while (page) {
      pages.push(page.instances.map((c) => c.sid));
      page = (await page.nextPage()) as typeof page;
    }
    expect(pages).toEqual([[sids[4], sids[3]], [sids[2], sids[1]], [sids[0]]]);
  });
});

describe('Page without a PageToken (offset paging, as on 2010 Messages)', () => {
  it('Page=1 answers the second page with page: 1, and its links walk on by token', async () => {
    const { sid, sids, base } = await seeded(5);
    const r = await t.http('GET', `/v1/Conversations/${sid}/Messages?PageSize=2&Page=1`);
    expect(r.status).toBe(200);
    expect(r.body.messages.map((m: any) => m.sid)).toEqual(sids.slice(2, 4));
    expect(r.body.meta).toMatchObject({
      page: 1,
      url: `${base}?PageSize=2&Page=1`,
      previous_page_url: `${base}?PageSize=2&Page=0&PageToken=PB${sids[2]}`,
      next_page_url: `${base}?PageSize=2&Page=2&PageToken=PA${sids[3]}`,
    });
    expect((await follow(r.body.meta.previous_page_url)).messages.map((m: any) => m.sid)).toEqual(sids.slice(0, 2));
    expect((await follow(r.body.meta.next_page_url)).messages.map((m: any) => m.sid)).toEqual([sids[4]]);

    const desc = await t.http('GET', `/v1/Conversations/${sid}/Messages?Order=desc&PageSize=2&Page=1`);
    expect(desc.body.messages.map((m: any) => m.sid)).toEqual([sids[2], sids[1]]);

    const last = await t.http('GET', `/v1/Conversations/${sid}/Messages?PageSize=2&Page=2`);
    expect(last.body.messages.map((m: any) => m.sid)).toEqual([sids[4]]);
    expect(last.body.meta.next_page_url).toBeNull();
    const past = await t.http('GET', `/v1/Conversations/${sid}/Messages?PageSize=2&Page=3`);
    expect(past.status).toBe(200);
    expect(past.body.messages).toEqual([]);
    expect(past.body.meta).toMatchObject({ page: 3, next_page_url: null, previous_page_url: null });
  });

  it("twilio-node's page({pageNumber}) gets that page, on engine lists, ParticipantConversations and a user's conversations", async () => {
    const { sid, sids } = await seeded(5);
    const page = await conversations()(sid).messages.page({ pageSize: 2, pageNumber: 2 });
    expect(page.instances.map((m) => m.sid)).toEqual([sids[4]]);
    expect((await page.previousPage())!.instances.map((m) => m.sid)).toEqual(sids.slice(2, 4));

    const rooms: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await conversations().create({ friendlyName: `room ${i}` });
      await conversations()(c.sid).participants.create({ identity: 'pat' });
      rooms.push(c.sid);
    }
    const byParticipant = await t.client.conversations.v1.participantConversations.page({ identity: 'pat', pageSize: 2, pageNumber: 1 });
    expect(byParticipant.instances.map((p) => p.conversationSid)).toEqual([rooms[2]]);
    const byUser = await t.client.conversations.v1.users('pat').userConversations.page({ pageSize: 2, pageNumber: 1 });
    expect(byUser.instances.map((u) => u.conversationSid)).toEqual([rooms[2]]);
  });
});

describe('Page and PageSize out of shape or range', () => {
  it('a Page that is not a plain non-negative integer up to 2^53-1 is 400/20001, never a 500 or a float', async () => {
    const { sid } = await seeded(1);
    for (const bad of ['-1', '1.5', '1e3', 'abc', '0x10', '99999999999999999999', '9007199254740992']) {
      const r = await t.http('GET', `/v1/Conversations/${sid}/Messages?Page=${bad}`);
      expect(r.status, `Page=${bad}`).toBe(400);
      expect(r.body, `Page=${bad}`).toMatchObject({ code: 20001, status: 400, message: expect.stringContaining('Page') });
    }
    const top = await t.http('GET', `/v1/Conversations/${sid}/Messages?Page=9007199254740991`);
    expect(top.status).toBe(200);
    expect(top.body.messages).toEqual([]);
    expect(top.text).toContain('"page":9007199254740991,');
    expect(top.body.meta.url).toContain('Page=9007199254740991');
  });

  it('a huge PageSize clamps to 100; a PageSize that is no positive integer is 400/20001', async () => {
    const { sid } = await seeded(1);
    const huge = await t.http('GET', `/v1/Conversations/${sid}/Messages?PageSize=99999999999999999999`);
    expect(huge.status).toBe(200);
    expect(huge.body.meta.page_size).toBe(100);
    for (const bad of ['1e2', '%2B5', '-0', '']) {
      const r = await t.http('GET', `/v1/Conversations/${sid}/Messages?PageSize=${bad}`);
      expect(r.status, `PageSize=${bad}`).toBe(400);
      expect(r.body.code).toBe(20001);
    }
  });
});
