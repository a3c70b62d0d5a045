/**
 * Pointing the official twilio SDK at the emulator in one line:
 *
 *   import twilio from 'twilio';
 *   import { emulatorHttpClient } from 'twilio-conversations-emulator/client';
 *   const client = twilio(accountSid, authToken, { httpClient: emulatorHttpClient('http://127.0.0.1:4510') });
 *
 * Every request the SDK makes, including next-page URLs, goes to the emulator: the client rewrites the origin
 * of whatever absolute URL the SDK built (conversations.twilio.com, api.twilio.com, any edge or region).
 * This module needs `twilio` installed; the rest of the package does not.
 *
 * `Recorder` (src/contracts/recorder.ts) is here too: an http client of the same kind that records a session for
 * `tce contracts diff` (docs/recording-format.md).
 */
import RequestClient from 'twilio/lib/base/RequestClient.js';

export class EmulatorRequestClient extends RequestClient {
  private readonly base: URL;

  constructor(baseUrl: string | URL, options?: RequestClient.RequestClientOptions) {
    super(options);
    this.base = new URL(baseUrl);
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const target = new URL(opts.uri);
    target.protocol = this.base.protocol;
    target.host = this.base.host;
    return super.request<TData>({ ...opts, uri: target.toString() });
  }
}

export function emulatorHttpClient(baseUrl: string | URL, options?: RequestClient.RequestClientOptions): EmulatorRequestClient {
  return new EmulatorRequestClient(baseUrl, options);
}

export { Recorder, RecordingRequestClient, type RecorderOptions, type WebhookSeen } from './contracts/recorder.js';
