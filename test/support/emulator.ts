/**
 * Test harness: a real emulator (in-process, :memory:) driven through the official twilio SDK, with every REST
 * answer validated against the spec. A test file calls `useEmulator()` once; each test starts from a reset store
 * and fails if any answer it caused broke its schema.
 */
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { emulatorHttpClient } from '../../src/client.js';
import { ResponseValidator, type Violation } from '../../src/contracts/response-validator.js';
import { loadConversationsSpec } from '../../src/contracts/spec.js';
import { recordExercised } from '../../src/contracts/coverage.js';
import { createEmulator, type EmulatorHandle, type EmulatorOptions } from '../../src/index.js';

export type TwilioClient = ReturnType<typeof twilio>;

/** operationIds this test file's emulators answered; written for `tce contracts coverage` as each closes */
const exercised = new Set<string>();

let validator: Promise<ResponseValidator> | undefined;
export function responseValidator(): Promise<ResponseValidator> {
  validator ??= loadConversationsSpec().then((spec) => new ResponseValidator(spec));
  return validator;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface HttpOptions {
  /** form fields (repeated keys as arrays); sent as application/x-www-form-urlencoded */
  form?: Record<string, string | string[]>;
  /** raw body and its content type */
  body?: string;
  contentType?: string;
  /** [user, password] for Basic auth; default the emulator's first account; null sends none */
  auth?: [string, string] | null;
  headers?: Record<string, string>;
}

export interface TestEmulator {
  emulator: EmulatorHandle;
  client: TwilioClient;
  /** a twilio client for other credentials (API keys, other accounts) */
  clientFor(username: string, password: string, accountSid?: string): TwilioClient;
  http(method: string, path: string, options?: HttpOptions): Promise<HttpAnswer>;
  violations: Violation[];
}

export function formBody(form: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  return params.toString();
}

/** An emulator whose every REST answer is checked against the spec: a violation fails the test at `close()`. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<TestEmulator> {
  const checker = await responseValidator();
  const violations: Violation[] = [];
  const emulator = await createEmulator({
    ...options,
    onAnswer: (route, status, body) => {
      exercised.add(route.op.operationId);
      const violation = checker.validate(route.op.operationId, status, body);
      if (violation) violations.push(violation);
      // a test's own hook runs after the check (it may throw, as a validator that vetoes an answer does)
      options.onAnswer?.(route, status, body);
    },
  });
  const close = emulator.close;
  emulator.close = async () => {
    recordExercised(exercised);
    await close();
    // an emulator a test started itself fails that test at close() if an answer broke the spec unseen
    expect(violations.splice(0), 'responses that break the spec').toEqual([]);
  };
  const clientFor = (username: string, password: string, accountSid?: string) =>
    twilio(username, password, { accountSid, httpClient: emulatorHttpClient(emulator.url) });
  const http = async (method: string, path: string, o: HttpOptions = {}): Promise<HttpAnswer> => {
    const headers: Record<string, string> = { ...o.headers };
    const auth = o.auth === undefined ? [emulator.accountSid, emulator.authToken] : o.auth;
    if (auth) headers.authorization = `Basic ${Buffer.from(`${auth[0]}:${auth[1]}`).toString('base64')}`;
    let body: string | undefined;
    if (o.form) {
      body = formBody(o.form);
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (o.body !== undefined) {
      body = o.body;
      if (o.contentType) headers['content-type'] = o.contentType;
    }
    const response = await fetch(emulator.url + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
  return { emulator, client: clientFor(emulator.accountSid, emulator.authToken), clientFor, http, violations };
}

/**
 * One emulator per test file, reset before each test; every answer is checked against the spec.
 * Returns a live view: read its fields inside tests.
 */
export function useEmulator(options: EmulatorOptions = {}): TestEmulator {
  const view = {} as TestEmulator;
  beforeAll(async () => {
    Object.assign(view, await startEmulator(options));
  });
  afterEach(() => {
    // reset keeps configuration such as fault rules and limits (a pipeline may set them once): clear them here
    const core = view.emulator.core;
    core.restFaults.rules = [];
    core.webhooks.faults.rules = [];
    core.limits.set({ rps: null, burst: null, concurrency: null });
    view.emulator.reset();
    const violations = view.violations.splice(0);
    expect(violations, 'responses that break the spec').toEqual([]);
  });
  afterAll(async () => {
    await view.emulator?.close();
  });
  return view;
}

/** Expect a twilio-node RestException with Twilio's envelope. */
export async function expectTwilioError(promise: Promise<unknown>, status: number, code: number, message?: RegExp | string) {
  const error = await promise.then(
    () => {
      throw new Error(`expected a ${status}/${code} error, the call succeeded`);
    },
    (e: unknown) => e as { status: number; code: number; message: string; moreInfo: string },
  );
  expect(error.status).toBe(status);
  expect(error.code).toBe(code);
  expect(error.moreInfo).toBe(`https://www.twilio.com/docs/errors/${code}`);
  if (message) expect(error.message).toMatch(message);
  return error;
}
