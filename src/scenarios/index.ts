/**
 * `twilio-conversations-emulator/scenarios`: write scenarios with `defineScenario`, run them (yours and the
 * built-in suites) with `runScenarios` against a target (`createEmulatorTarget`) and a system under test
 * (`startReferenceRouter` or `connectConsumer`).
 */
export { defineScenario, AssertionFailure, ScenarioSkipped } from './api.js';
export type { Scenario, ScenarioDefinition, ScenarioContext, Expect, Capability } from './api.js';
export type { Target, TwilioClient, HandsetOutcome, WebhookFaultRule, RestFaultRule, InboundResult, OutboxMessage, RequestLogEntry, WebhookDelivery, DeliveryAttempt, WebhookReceiver, ReceivedWebhook, DelaySpec } from './target.js';
export { CAPABILITIES } from './target.js';
export { createEmulatorTarget, EMULATOR_NUMBERS, type EmulatorTargetOptions } from './targets/emulator.js';
export { createTwilioTarget, twilioTargetOptionsFromEnv, TWILIO_ENV, type TwilioTargetOptions } from './targets/twilio.js';
export { startReferenceRouter, connectConsumer, CONSUMER_PATHS, PROXY, WHATSAPP_PROXY, TEMPLATE_SID } from './consumer.js';
export type { Consumer, ConsumerOptions, StateView, ApiAnswer } from './consumer.js';
export { runScenarios, runScenario, aimWebhooks, type RunOptions, type RunResult, type ScenarioResult, type ScenarioStatus } from './runner.js';
export { builtInScenarios, selectScenarios, SUITES } from './suites/index.js';
export { formatSummary, formatLine, toJson, toJunit } from './report.js';
export { seededRandom, type Random } from './random.js';
