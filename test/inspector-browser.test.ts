/**
 * The inspector page in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): live
 * updates from the SDK, a conversation's participants and messages, STOP from a phone card and the 21610 that
 * follows, a duplicate fault rule added in the page and its two attempts with one idempotency token, the
 * control-token prompt, an SDK client in the Clients view, axe-core on every view, and the figures with 10k conversations and 100k messages.
 * It regenerates the README's screenshots (docs/inspector-*.png).
 *
 * Without /usr/bin/chromium the suite is skipped with one line, except under CI (`CI` set), where it fails:
 * .ci/run installs chromium first.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, useEmulator, type TestEmulator } from './support/emulator.js';
import { useReceiver } from './support/webhook-receiver.js';
import { sdkHarness } from './support/conversations-sdk.js';
import { browserSuiteRuns, launchChromium } from './support/chromium.js';

const runs = browserSuiteRuns('inspector browser tests');

const docs = fileURLToPath(new URL('../docs/', import.meta.url));
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const PROXY = '+15017122661';
const PHONE = '+15558675310';

// a browser on a machine shared with the rest of the suite: room beyond the default 30 s per test
describe.runIf(runs)('the inspector in Chromium', { timeout: 60_000 }, () => {
  const t = useEmulator();
  const rx = useReceiver(() => t.emulator.authToken);
  const v1 = () => t.client.conversations.v1;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    mkdirSync(docs, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** a fresh tab; bypassCSP lets the test inject axe-core into a page whose CSP allows only its own scripts */
  async function open(url: string, hash = '#/conversations'): Promise<Page> {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${url}/_emulator/ui${hash}`);
    return page;
  }
  afterEach(async () => {
    await context?.close();
  });
  const sdk = sdkHarness(() => t);
  afterEach(() => sdk.shutdown());

  /** axe-core on the current view: no serious or critical violation */
  async function accessible(view: string): Promise<void> {
    await page.addScriptTag({ content: axeSource });
    const violations = await page.evaluate(async () => {
      const w = window as unknown as { axe: { run: (context: Document) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } };
      const result = await w.axe.run(document);
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'), view).toEqual([]);
  }

  async function smsConversation(name: string) {
    const c = await v1().conversations.create({ friendlyName: name });
    const sms = await v1().conversations(c.sid).participants.create({ 'messagingBinding.address': PHONE, 'messagingBinding.proxyAddress': PROXY });
    const alice = await v1().conversations(c.sid).participants.create({ identity: 'alice' });
    return { sid: c.sid, sms: sms.sid, alice: alice.sid };
  }

  it('shows a conversation created through the SDK without a reload, then its participants and messages', async () => {
    await open(t.emulator.url);
    await page.getByRole('heading', { name: 'Conversations' }).waitFor();
    await page.locator('.live.on').waitFor();
    await accessible('conversations');
    const c = await smsConversation('Appears live');
    await page.locator(`tr[data-sid="${c.sid}"]`).waitFor();
    expect(await page.locator(`tr[data-sid="${c.sid}"]`).innerText()).toContain('Appears live');
    await v1().conversations(c.sid).messages.create({ author: 'alice', body: 'Hello from the SDK' });

    // keyboard: the link is reachable and opens the conversation
    await page.locator(`a[href="#/c/${c.sid}"]`).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Participants \(2\)/ }).waitFor();
    expect(await page.locator(`tr[data-participant="${c.sms}"]`).innerText()).toContain(`${PHONE} → ${PROXY}`);
    expect(await page.locator(`tr[data-participant="${c.alice}"]`).innerText()).toContain('alice');
    const message = page.locator('li[data-message]', { hasText: 'Hello from the SDK' });
    await message.waitFor();
    await message.locator('[data-receipt-status="delivered"]').waitFor();
    // a new message arrives live in the open conversation
    await v1().conversations(c.sid).messages.create({ author: 'alice', body: 'Second, live' });
    await page.locator('li[data-message]', { hasText: 'Second, live' }).waitFor();
    await accessible('conversation');
  });

  it('is keyboard navigable with a visible focus', async () => {
    await open(t.emulator.url);
    await page.getByRole('heading', { name: 'Conversations' }).waitFor();
    const focused = () =>
      page.evaluate(() => {
        const e = document.activeElement as HTMLElement;
        const style = getComputedStyle(e);
        return { text: e.textContent?.trim(), id: e.id, outline: `${style.outlineStyle} ${style.outlineWidth}` };
      });
    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ text: 'Skip to content', outline: 'solid 3px' });
    await page.keyboard.press('Tab');
    expect(await focused()).toMatchObject({ text: 'Conversations', outline: 'solid 3px' });
    await page.keyboard.press('Tab');
    expect((await focused()).text).toBe('Phones');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Phones' }).waitFor();
    expect((await focused()).id).toBe('main');
  });

  it('"Send STOP" on the phone card opts the number out; the next message is failed 21610 in words', async () => {
    const c = await smsConversation('Opt-out');
    await v1().conversations(c.sid).messages.create({ author: 'alice', body: 'Your order shipped' });
    await open(t.emulator.url, '#/phones');
    const card = page.locator(`article.phone[data-address="${PHONE}"]`);
    await card.locator('.bubble', { hasText: 'Your order shipped' }).waitFor();
    await accessible('phones');
    await card.getByRole('button', { name: 'Send STOP' }).click();
    await card.locator('.opt-out', { hasText: `opted out of ${PROXY}` }).waitFor();
    expect((await t.http('GET', '/_emulator/opt-outs', { auth: null })).body.optOuts).toEqual([expect.objectContaining({ address: PHONE, sender: PROXY })]);

    await v1().conversations(c.sid).messages.create({ author: 'alice', body: 'Are you there?' });
    await card.locator('.bubble', { hasText: 'Are you there?' }).locator('.badge', { hasText: 'failed 21610' }).waitFor();
    await page.screenshot({ path: `${docs}inspector-phones.png` });

    await page.goto(`${t.emulator.url}/_emulator/ui#/c/${c.sid}`);
    const next = page.locator('li[data-message]', { hasText: 'Are you there?' });
    const receipt = next.locator('[data-receipt-status="failed"]');
    await receipt.waitFor();
    expect(await receipt.getAttribute('data-receipt-code')).toBe('21610');
    // in words, not colour alone
    expect(await receipt.innerText()).toContain('failed 21610');
    expect(await page.locator(`tr[data-participant="${c.sms}"]`).innerText()).toContain('opted out');
  });

  it('scripts a handset from its card (undelivered 30005, manual, Advance), removes a rule, advances the clock', async () => {
    const c = await smsConversation('Scripted');
    await v1().conversations(c.sid).messages.create({ author: 'alice', body: 'First' });
    await open(t.emulator.url, '#/phones');
    const card = page.locator(`article.phone[data-address="${PHONE}"]`);
    await card.locator('.bubble', { hasText: 'First' }).waitFor();
    await card.getByLabel('Outcome').selectOption('undelivered');
    await card.getByLabel('Error code').fill('30005');
    await card.getByLabel('Progression').selectOption('manual');
    await card.getByRole('button', { name: 'Set outcome' }).click();
    await card.getByText('next messages:').filter({ hasText: 'undelivered 30005' }).waitFor();
    expect((await t.http('GET', `/_emulator/handsets/${encodeURIComponent(PHONE)}`, { auth: null })).body).toMatchObject({ outcome: 'undelivered', errorCode: 30005, progression: 'manual' });

    await v1().conversations(c.sid).messages.create({ author: 'alice', body: 'Held by the handset' });
    const held = card.locator('.bubble', { hasText: 'Held by the handset' });
    await held.locator('.badge', { hasText: 'queued' }).waitFor();
    await card.getByRole('button', { name: 'Advance' }).click();
    await held.locator('.badge', { hasText: /^\W*sent$/ }).waitFor();
    await card.getByRole('button', { name: 'Advance' }).click();
    await held.locator('.badge', { hasText: 'undelivered 30005' }).waitFor();

    await t.http('PUT', '/_emulator/faults/rest', { auth: null, contentType: 'application/json', body: JSON.stringify({ rules: [{ match: { method: 'POST' }, probability: 0, action: { type: 'reset' } }] }) });
    await page.goto(`${t.emulator.url}/_emulator/ui#/faults`);
    const rest = page.locator('section[data-kind="rest"]');
    await rest.getByRole('button', { name: /^Remove rule 1: reset when method = POST/ }).click();
    await rest.getByText('No rule: everything goes through.').waitFor();
    expect((await t.http('GET', '/_emulator/faults/rest', { auth: null })).body.rules).toEqual([]);

    await page.getByRole('button', { name: 'Manual mode' }).click();
    await page.locator('p', { hasText: 'mode manual' }).waitFor();
    const before = Date.parse((await page.locator('[data-clock-now]').innerText()).trim());
    await page.getByLabel('Seconds').fill('3600');
    await page.getByRole('button', { name: 'Advance clock' }).click();
    await expect.poll(async () => Date.parse((await page.locator('[data-clock-now]').innerText()).trim()) - before).toBe(3_600_000);
    await t.http('POST', '/_emulator/clock', { auth: null, contentType: 'application/json', body: JSON.stringify({ reset: true }) });
  });

  it('a duplicate rule added in the page shows two attempts with one idempotency token in the timeline', async () => {
    await v1().services(t.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: rx.url(), filters: ['onMessageAdded'], method: 'POST' });
    await open(t.emulator.url, '#/faults');
    await accessible('faults and clock');
    const rules = page.locator('section[data-kind="webhooks"]');
    await rules.getByLabel('Action').selectOption('duplicate');
    await rules.getByLabel('Copies').fill('1');
    await rules.getByLabel('Event type').fill('onMessageAdded');
    await rules.getByRole('button', { name: 'Add rule' }).click();
    await rules.locator('.rule-list li', { hasText: 'duplicate' }).waitFor();
    expect((await t.http('GET', '/_emulator/faults/webhooks', { auth: null })).body.rules).toEqual([
      expect.objectContaining({ match: expect.objectContaining({ eventType: 'onMessageAdded' }), action: { type: 'duplicate', count: 1 } }),
    ]);

    const c = await smsConversation('Webhook timeline');
    await page.goto(`${t.emulator.url}/_emulator/ui#/c/${c.sid}`);
    await page.getByRole('heading', { name: 'Webhook timeline' }).waitFor();
    await v1().conversations(c.sid).messages.create({ author: 'alice', body: 'Watch the webhooks', xTwilioWebhookEnabled: 'true' });
    // live: both deliveries appear, each with its 200 attempt
    const deliveries = page.locator('li.delivery');
    await expect.poll(async () => deliveries.locator('.attempt', { hasText: '200' }).count(), { timeout: 10_000 }).toBe(2);
    const tokens = await deliveries.evaluateAll((els) => els.map((e) => e.getAttribute('data-token')));
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toBe(tokens[1]);
    expect(rx.requests.map((r) => r.idempotencyToken)).toEqual(tokens);
    expect(await deliveries.nth(1).innerText()).toContain('fault: duplicate');

    // the signed request and "copy as curl"
    await deliveries.first().locator('summary').click();
    const curl = await deliveries.first().locator('textarea').inputValue();
    expect(curl).toContain(`curl -X POST '${rx.url()}'`);
    expect(curl).toContain(`-H 'x-twilio-signature: ${rx.requests[0].signature}'`);
    expect(curl).toContain(`-H 'i-twilio-idempotency-token: ${tokens[0]}'`);
    await deliveries.first().getByRole('button', { name: 'Copy as curl' }).click();
    await deliveries.first().getByRole('status').filter({ hasText: /Copied|clipboard/ }).waitFor();
    await accessible('conversation with timeline');
    await page.locator('#timeline').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${docs}inspector-conversation.png`, fullPage: true });
  });

  it('lists a connected @twilio/conversations client in the Clients view, and says how to connect one when none is', async () => {
    await open(t.emulator.url);
    await page.getByRole('heading', { name: 'Conversations' }).waitFor();
    // keyboard: the nav entry is reachable and opens the view
    await page.getByRole('link', { name: 'Clients' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Clients' }).waitFor();
    await page.getByText('No client connected').waitFor();
    expect(await page.locator('.empty pre').innerText()).toContain(`Twilsock: { uri: '${sdk.wsUri()}' }`);
    await accessible('clients (none)');

    const sid = await sdk.conversationWith(['alice']);
    const alice = await sdk.connect('alice');
    await (await alice.getConversationBySid(sid)).getMessages();
    await sdk.subscribed('alice', `${sid}.messages`);
    // no reload: the view polls
    const row = page.locator('tr[data-identity="alice"]');
    await row.waitFor();
    expect(await row.innerText()).toContain(t.emulator.defaultServiceSid);
    await expect.poll(async () => Number(await row.locator('[data-subscriptions]').getAttribute('data-subscriptions')), { timeout: 5000 }).toBeGreaterThan(0);
    await row.locator('summary').click();
    await row.getByRole('link', { name: `${sid}.messages` }).waitFor();
    await accessible('clients');

    await alice.shutdown();
    await page.getByText('No client connected').waitFor();
  });

  it('asks for the control token once and keeps it for the tab', async () => {
    const secured: TestEmulator = await startEmulator({ controlToken: 'open-sesame' });
    try {
      const c = await secured.client.conversations.v1.conversations.create({ friendlyName: 'Behind the token' });
      await open(secured.emulator.url);
      await page.getByRole('heading', { name: 'Control token' }).waitFor();
      await accessible('control token');
      await page.getByLabel('Token').fill('wrong');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('alert').filter({ hasText: 'that token was refused' }).waitFor();
      await page.getByLabel('Token').fill('open-sesame');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.locator(`tr[data-sid="${c.sid}"]`).waitFor();
      expect(await page.evaluate(() => sessionStorage.getItem('tce.controlToken'))).toBe('open-sesame');
      // a reload does not ask again; the live stream carries the token too
      await page.reload();
      await page.locator(`tr[data-sid="${c.sid}"]`).waitFor();
      await page.locator('.live.on').waitFor();
      const live = await secured.client.conversations.v1.conversations.create({ friendlyName: 'Live behind the token' });
      await page.locator(`tr[data-sid="${live.sid}"]`).waitFor();
    } finally {
      await secured.emulator.close();
    }
  });
});

describe.runIf(runs)('the inspector with 10k conversations and 100k messages', () => {
  let browser: Browser;
  let big: TestEmulator;
  let deepSid: string;

  beforeAll(async () => {
    browser = await launchChromium();
    big = await startEmulator();
    deepSid = await loadLargeState(big, 10_000, 100_000, 5_000);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await big?.emulator.close();
  });

  it('renders the first page of conversations in under a second, and a 5k-message conversation scrolls', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      // the emulator has just loaded 100k rows: its first answers (statements prepared, garbage collected) come
      // before the measure, as they would for anyone who opens the page later
      for (let i = 0; i < 3; i++) expect((await big.http('GET', '/_emulator/ui/api/conversations?limit=50', { auth: null })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
      // in the page's own clock: from the start of navigation to the 50 rows of the first page in the DOM, in a
      // fresh tab each time (the page and its assets are served no-cache); the median of five, as this machine's other work comes and goes
      const firstPages: number[] = [];
      for (let i = 0; i < 5; i++) {
        const tab = await context.newPage();
        await tab.goto(`${big.emulator.url}/_emulator/ui#/conversations`);
        const rendered = await tab.waitForFunction(() => document.querySelectorAll('tr[data-sid]').length === 50 && performance.now(), undefined, { polling: 'raf' });
        firstPages.push(Math.round((await rendered.jsonValue()) as number));
        await tab.close();
      }
      const firstPageMs = median(firstPages);
      await page.goto(`${big.emulator.url}/_emulator/ui#/conversations`);
      await page.locator('tr[data-sid]').first().waitFor();

      await page.getByLabel('Search').fill('Conversation 123');
      await page.evaluate(() => ((window as unknown as { searchAt: number }).searchAt = performance.now()));
      await page.getByRole('button', { name: 'Search' }).click();
      const searched = await page.waitForFunction(
        () => document.querySelectorAll('tr[data-sid]').length === 11 && performance.now() - (window as unknown as { searchAt: number }).searchAt,
        undefined,
        { polling: 'raf' },
      );
      const searchMs = Math.round((await searched.jsonValue()) as number);

      const openStarted = Date.now();
      await page.goto(`${big.emulator.url}/_emulator/ui#/c/${deepSid}`);
      await expect.poll(() => page.locator('li[data-message]').count()).toBe(100);
      const openMs = Date.now() - openStarted;
      // scroll the message list from the newest to the oldest and back, timing every frame
      const frames = await page.evaluate(async () => {
        const list = document.querySelector('ol.messages') as HTMLElement;
        const times: number[] = [];
        let last = performance.now();
        for (let i = 0; i <= 40; i++) {
          list.scrollTop = (list.scrollHeight * (i % 21)) / 20;
          await new Promise((r) => requestAnimationFrame(r));
          const now = performance.now();
          times.push(now - last);
          last = now;
        }
        return times;
      });
      // page through older messages: each page replaces the last, so the list stays 100 rows long
      const turns: number[] = [];
      for (let i = 0; i < 10; i++) {
        const first = await page.locator('li[data-message]').first().getAttribute('data-message');
        const turnStarted = Date.now();
        await page.getByRole('button', { name: '↑ Older messages' }).click();
        await expect.poll(() => page.locator('li[data-message]').first().getAttribute('data-message')).not.toBe(first);
        turns.push(Date.now() - turnStarted);
      }
      expect(await page.locator('li[data-message]').count()).toBe(100);
      const maxFrame = Math.max(...frames);
      console.log(
        `inspector with 10k conversations / 100k messages: first page ${firstPageMs} ms (median of ${firstPages.join(', ')}), search ${searchMs} ms; ` +
          `5k-message conversation: open ${openMs} ms, scroll frames max ${maxFrame.toFixed(1)} ms (median ${median(frames).toFixed(1)} ms), ` +
          `older-page turns max ${Math.max(...turns)} ms (median ${median(turns)} ms)`,
      );
      expect(firstPageMs).toBeLessThan(1000);
      expect(maxFrame).toBeLessThan(500);
    } finally {
      await context.close();
    }
  }, 60_000);
});

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Loads `conversations` conversations and `messages` messages (`deep` of them in one conversation) through
 * `PUT /_emulator/snapshot`: a snapshot of one real conversation and message, whose rows are copied with new
 * SIDs. Returns the deep conversation's SID.
 */
async function loadLargeState(e: TestEmulator, conversations: number, messages: number, deep: number): Promise<string> {
  const v1 = e.client.conversations.v1;
  const c = await v1.conversations.create({ friendlyName: 'template' });
  await v1.conversations(c.sid).messages.create({ author: 'alice', body: 'template' });
  const snapshot = (await e.http('GET', '/_emulator/snapshot', { auth: null })).body as { tables: Record<string, Record<string, unknown>[]> };
  const [conversation] = snapshot.tables.conversations;
  const [message] = snapshot.tables.messages;
  const hex = (prefix: string, n: number) => `${prefix}${n.toString(16).padStart(32, '0')}`;
  const start = Date.parse('2026-01-01T00:00:00Z');
  const conversationRows = [];
  for (let i = 0; i < conversations; i++) {
    conversationRows.push({ ...conversation, seq: i + 1, sid: hex('CH', i + 1), friendly_name: `Conversation ${i}`, unique_name: `conversation-${i}`, date_created: start + i * 1000, date_updated: start + i * 1000 });
  }
  const messageRows = [];
  const counts = new Map<number, number>();
  for (let i = 0; i < messages; i++) {
    // the first `deep` messages go to the deep conversation (the first), the others round the rest
    const owner = i < deep ? 0 : 1 + ((i - deep) % (conversations - 1));
    const index = counts.get(owner) ?? 0;
    counts.set(owner, index + 1);
    messageRows.push({ ...message, seq: i + 1, sid: hex('IM', i + 1), conversation_sid: hex('CH', owner + 1), message_index: index, body: `Message ${index} of conversation ${owner}`, date_created: start + i });
  }
  for (const row of conversationRows) (row as Record<string, unknown>).next_message_index = counts.get(row.seq - 1) ?? 0;
  snapshot.tables.conversations = conversationRows;
  snapshot.tables.messages = messageRows;
  const put = await e.http('PUT', '/_emulator/snapshot', { auth: null, contentType: 'application/json', body: JSON.stringify(snapshot) });
  expect(put.status, put.text).toBe(204);
  return hex('CH', 1);
}
