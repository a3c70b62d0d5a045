/**
 * Request parameters checked against the spec (types, enums, patterns, bounds, required), compiled once per
 * operation from the manifest and answered with Twilio's error envelope, never a validator's message.
 */
import type { OperationSpec, ParamSpec } from '../../contracts/manifest.js';
import type { Input } from '../resources/descriptor.js';
import { parseDateTime } from '../wire/dates.js';
import { invalidParameter, twilioError, type ErrorName } from '../wire/errors.js';
import type { RawParams } from './form.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** Parameters whose malformed values Twilio answers with a code of their own rather than 20001. */
const PATTERN_ERRORS: Record<string, ErrorName> = { MediaSid: 'InvalidMediaSid' };

/**
 * Enums the spec states only in prose (a description's "One of `GET` or `POST`"), by operation and parameter,
 * with the values of the enum it names elsewhere: the response schema's (webhook Method) or the create's (Type).
 */
const PROSE_ENUMS: Record<string, string[]> = {
  'UpdateConfigurationWebhook Method': ['GET', 'POST'],
  'UpdateServiceWebhookConfiguration Method': ['GET', 'POST'],
  'ListConfigurationAddress Type': ['sms', 'whatsapp', 'messenger', 'gbm', 'email', 'rcs', 'apple', 'chat'],
};

function withProseEnum(op: OperationSpec, p: ParamSpec): ParamSpec {
  const values = p.enum ? undefined : PROSE_ENUMS[`${op.operationId} ${p.name}`];
  return values ? { ...p, enum: values } : p;
}

/**
 * The listed value an enum parameter names, whatever its case (decisions.md: Twilio's own samples send `GET`
 * where the spec lists `get`), or undefined. The listed spelling is what is stored and answered.
 */
function listedValue(values: readonly string[], value: string): string | undefined {
  const lower = value.toLowerCase();
  return values.find((v) => v.toLowerCase() === lower);
}

/** Whether a request asks for webhooks: `X-Twilio-Webhook-Enabled: true`, any case; any other value is "no". */
export function webhooksEnabled(value: string | string[] | undefined): boolean {
  return value !== undefined && first(value).toLowerCase() === 'true';
}

type Checker = (raw: RawParams, headers: Record<string, string | string[] | undefined>) => Input;

function first(value: string | string[]): string {
  return Array.isArray(value) ? value[0] : value;
}

const patterns = new Map<string, RegExp>();
function patternOf(p: ParamSpec): RegExp {
  let re = patterns.get(p.pattern as string);
  if (!re) patterns.set(p.pattern as string, (re = new RegExp(p.pattern as string)));
  return re;
}

function coerceScalar(p: ParamSpec, type: ParamSpec['type'], value: string): string | number | boolean {
  switch (type) {
    case 'integer': {
      if (!/^-?\d+$/.test(value.trim())) {
        if (p.name === 'PageSize') throw twilioError('InvalidPageSize', { value });
        throw invalidParameter(`Invalid ${p.name}: '${value}' is not an integer`);
      }
      const n = Number(value);
      if (p.name === 'PageSize') {
        // Twilio-node sends PageSize=<limit> for list({limit}) with no cap, so above 100 clamps (decisions.md).
        if (n < 1) throw twilioError('InvalidPageSize', { value });
        return Math.min(n, MAX_PAGE_SIZE);
      }
      // beyond 2^53 a number is no longer that integer (and SQLite would see a float)
      if (!Number.isSafeInteger(n)) throw invalidParameter(`Invalid ${p.name}: ${value.trim()} is out of range`);
      if (p.minimum !== undefined && n < p.minimum) throw invalidParameter(`Invalid ${p.name}: ${n} is below the minimum of ${p.minimum}`);
      if (p.maximum !== undefined && n > p.maximum) throw invalidParameter(`Invalid ${p.name}: ${n} is above the maximum of ${p.maximum}`);
      return n;
    }
    case 'number': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw invalidParameter(`Invalid ${p.name}: '${value}' is not a number`);
      return n;
    }
    case 'boolean': {
      const lower = value.toLowerCase();
      if (lower !== 'true' && lower !== 'false') throw invalidParameter(`Invalid ${p.name}: '${value}' is not a boolean (true or false)`);
      return lower === 'true';
    }
    default: {
      if (p.enum) {
        const listed = listedValue(p.enum, value);
        if (listed === undefined) throw invalidParameter(`Invalid ${p.name}: '${value}' is not one of ${p.enum.join(', ')}`);
        return listed;
      }
      if (p.pattern && value !== '' && !patternOf(p).test(value)) {
        const own = PATTERN_ERRORS[p.name];
        if (own) throw twilioError(own, { value });
        throw invalidParameter(`Invalid ${p.name}: '${value}' does not match ${p.pattern}`);
      }
      if (p.format === 'date-time' && parseDateTime(value) === undefined) {
        throw invalidParameter(`Invalid ${p.name}: '${value}' is not an ISO 8601 date-time`);
      }
      return value;
    }
  }
}

function coerce(p: ParamSpec, value: string | string[]): Input[string] {
  if (p.type === 'array') {
    const values = Array.isArray(value) ? value : [value];
    return values.map((v) => String(coerceScalar(p, p.items ?? 'string', v)));
  }
  return coerceScalar(p, p.type, first(value));
}

const checkers = new WeakMap<OperationSpec, Checker>();

/** The parameter checker of one operation (body for POST, query otherwise, plus headers), compiled once. */
export function compileParams(op: OperationSpec): Checker {
  let checker = checkers.get(op);
  if (!checker) checkers.set(op, (checker = buildChecker(op)));
  return checker;
}

function buildChecker(op: OperationSpec): Checker {
  const location = op.method === 'POST' ? 'body' : 'query';
  const params = op.params.filter((p) => p.in === location).map((p) => withProseEnum(op, p));
  const headers = op.params.filter((p) => p.in === 'header');
  const where = location === 'body' ? 'post body' : 'query string';
  return (raw, requestHeaders) => {
    const input: Input = {};
    for (const p of params) {
      const value = raw[p.name];
      if (value === undefined) {
        if (p.required) throw twilioError('MissingParameter', { name: p.name, where });
        continue;
      }
      input[p.name] = coerce(p, value);
    }
    for (const h of headers) {
      const value = requestHeaders[h.name.toLowerCase()];
      if (value === undefined) continue;
      // A header is a switch (X-Twilio-Webhook-Enabled): a value the spec does not list turns it off, silently.
      const given = first(value);
      const listed = h.enum ? listedValue(h.enum, given) : given;
      if (listed !== undefined) input[h.name] = listed;
    }
    return input;
  };
}

export function pageSizeOf(input: Input): number {
  return typeof input.PageSize === 'number' ? input.PageSize : DEFAULT_PAGE_SIZE;
}
