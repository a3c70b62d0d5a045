/**
 * The SDK in a real browser: a page bundling `@twilio/conversations` (esbuild), served from its own origin, in
 * headless Chromium (playwright-core, Debian's /usr/bin/chromium). It connects, lists its conversations, sends a
 * message a Node client receives live, and uploads media across origins (MCS CORS).
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@twilio/conversations';
import { startEmulator, type TestEmulator } from './support/emulator.js';
import { sdkHarness, within } from './support/conversations-sdk.js';
import { browserSuiteRuns, launchChromium } from './support/chromium.js';

const runs = browserSuiteRuns('realtime-browser');

let t: TestEmulator;
const sdk = sdkHarness(() => t);
let browser: Browser | undefined;
let site: Server | undefined;
let siteUrl = '';
const dir = mkdtempSync(join(tmpdir(), 'tce-browser-'));

beforeAll(async () => {
  if (!runs) return;
  t = await startEmulator();
  writeFileSync(join(dir, 'entry.js'), "import { Client } from '@twilio/conversations';\nwindow.ConversationsClient = Client;\n");
  await build({ entryPoints: [join(dir, 'entry.js')], bundle: true, format: 'iife', platform: 'browser', outfile: join(dir, 'sdk.js'), nodePaths: [join(process.cwd(), 'node_modules')], define: { global: 'globalThis' }, logLevel: 'error' });
  const files: Record<string, [string, string]> = {
    '/': ['text/html', '<!doctype html><meta charset="utf-8"><title>app</title><script src="/sdk.js"></script>'],
    '/sdk.js': ['text/javascript', readFileSync(join(dir, 'sdk.js'), 'utf8')],
  };
  site = createServer((request, response) => {
    const file = files[request.url ?? ''];
    response.writeHead(file ? 200 : 404, { 'content-type': file?.[0] ?? 'text/plain' });
    response.end(file?.[1] ?? 'not found');
  });
  await new Promise<void>((resolve) => site!.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://localhost:${(site.address() as { port: number }).port}/`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await sdk.shutdown();
  await browser?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
  await t?.emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(runs)('@twilio/conversations in headless Chromium', () => {
  it('connects from a page, lists its conversations, sends text and media that a Node client receives', async () => {
    const sid = await sdk.conversationWith(['alice', 'bob'], 'browser room');
    const bob = await sdk.connect('bob');
    const bobs = await bob.getConversationBySid(sid);
    await bobs.getMessages();
    await sdk.subscribed('bob', `${sid}.messages`);
    const received: Message[] = [];
    const both = new Promise<void>((resolve) => bobs.on('messageAdded', (m: Message) => received.push(m) === 2 && resolve()));

    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(siteUrl);
    const result = await page.evaluate(
      async ({ token, uri, sid }) => {
        const Client = (window as unknown as { ConversationsClient: new (token: string, options: object) => any }).ConversationsClient;
        const client = new Client(token, { Twilsock: { uri }, logLevel: 'silent' });
        const started = performance.now();
        await new Promise<void>((resolve, reject) => {
          client.once('initialized', () => resolve());
          client.once('initFailed', ({ error }: { error?: Error }) => reject(new Error(error?.message)));
        });
        const initMs = performance.now() - started;
        const page = await client.getSubscribedConversations();
        const conversation = await client.getConversationBySid(sid);
        await conversation.sendMessage('from chromium');
        await conversation.prepareMessage().setBody('with a file').addMedia({ contentType: 'text/plain', filename: 'hello.txt', media: new Blob(['hello from the page']) }).build().send();
        const messages = await conversation.getMessages();
        const last = messages.items[messages.items.length - 1];
        const url = await last.attachedMedia[0].getContentTemporaryUrl();
        const text = await (await fetch(url)).text();
        await client.shutdown();
        return { initMs, conversations: page.items.map((c: { friendlyName: string }) => c.friendlyName), bodies: messages.items.map((m: { body: string }) => m.body), text };
      },
      { token: t.emulator.clientToken('alice'), uri: `${t.emulator.url.replace('http', 'ws')}/v3/wsconnect`, sid },
    );
    expect(errors).toEqual([]);
    expect(result.conversations).toEqual(['browser room']);
    expect(result.bodies).toEqual(['from chromium', 'with a file']);
    expect(result.text).toBe('hello from the page');
    console.log(`realtime-browser: Client → initialized in Chromium: ${result.initMs.toFixed(0)} ms`);
    await within(5_000, 'both messages on bob', both);
    expect(received.map((m) => [m.author, m.body, m.attachedMedia?.map((a) => a.filename) ?? []])).toEqual([
      ['alice', 'from chromium', []],
      ['alice', 'with a file', ['hello.txt']],
    ]);
    await page.close();
  }, 60_000);
});
