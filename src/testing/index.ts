/**
 * `twilio-conversations-emulator/testing`: helpers for your own test files (vitest or jest).
 *   useEmulator(options)      one emulator per file, reset before each test, with an SDK client pointed at it
 *   webhookSink({ authToken }) a local receiver that verifies and records webhooks, with waitFor
 *   conversationsClient(emulator, identity) the @twilio/conversations SDK connected as identity, initialised
 * The simulated channel is on the handle: emulator.channel.inbound / outbox / setHandset / advance / wait*.
 */
export { useEmulator, type UseEmulatorOptions, type EmulatorFixture, type TestHooks, type TwilioClient } from './use-emulator.js';
export { conversationsClient, twilsockUri, type ConversationsClientOptions } from './conversations-client.js';
export { webhookSink, type WebhookSink, type WebhookSinkOptions, type SinkRequest } from './webhook-sink.js';
export type { ChannelHandle, HandsetScript, ReceiptView } from '../emulator/channel/channel-handle.js';
export type { ChannelMessage, InboundResult } from '../emulator/channel/service.js';
export type { EmulatorHandle, EmulatorOptions } from '../emulator/create-emulator.js';
