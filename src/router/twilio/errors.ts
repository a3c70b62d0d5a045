/**
 * The one error type the router's Twilio calls reject with. The worker reads `code` (21610 opted out, 63016 outside
 * the WhatsApp window, 20429 rate limited, …) and `retriable` (the same call may succeed later).
 */
export type TwilioCallErrorKind = 'http' | 'network' | 'timeout';

export class TwilioCallError extends Error {
  override readonly name = 'TwilioCallError';

  constructor(
    /** the HTTP status, 0 when no answer came (network error or deadline) */
    readonly status: number,
    /** Twilio's error code when the answer carried one */
    readonly code: number | null,
    message: string,
    readonly kind: TwilioCallErrorKind = 'http',
  ) {
    super(message);
  }

  /** 429, 5xx, no answer: worth retrying later (a POST without an answer may have been applied: look it up first) */
  get retriable(): boolean {
    return this.kind !== 'http' || this.status === 429 || this.code === 20429 || this.status >= 500;
  }
}

/** Any rejection of a twilio SDK call as a TwilioCallError (RestException, axios network errors, ours). */
export function toCallError(error: unknown): TwilioCallError {
  if (error instanceof TwilioCallError) return error;
  const e = error as { status?: unknown; code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  if (e && typeof e.status === 'number') {
    return new TwilioCallError(e.status, typeof e.code === 'number' ? e.code : null, message, 'http');
  }
  // axios and node network errors carry a string code (ECONNRESET, ECONNREFUSED, ERR_CANCELED, …)
  const network = e && typeof e.code === 'string' ? `${e.code}: ${message}` : message;
  return new TwilioCallError(0, null, network, 'network');
}

/** Is it Twilio saying that the thing exists already / is gone? */
export function hasCode(error: unknown, ...codes: number[]): boolean {
  return error instanceof TwilioCallError && error.code !== null && codes.includes(error.code);
}
