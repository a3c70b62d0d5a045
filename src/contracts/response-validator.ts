/**
 * Response validation: every answer checked against the success schema the spec declares for its operation.
 * On in the test suite for every request; available to users as `tce serve --validate-responses`.
 *
 * Known deviations, where real Twilio disagrees with the spec and Twilio wins (each has a test saying so):
 * - Receipt `error_code` is declared a plain integer, but Twilio sends null until a delivery fails.
 */
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ValidateFunction } from 'ajv';
import type { FormatsPlugin } from 'ajv-formats';
import type { LoadedSpec } from './spec.js';

// ajv and ajv-formats are CommonJS with `exports.default`; require() sidesteps ESM interop differences.
const require = createRequire(import.meta.url);
const Ajv = (require('ajv') as { default: typeof AjvClass }).default;
const addFormats = (require('ajv-formats') as { default: FormatsPlugin }).default;

export interface Violation {
  operationId: string;
  status: number;
  errors: string[];
  body: unknown;
}

const NULLABLE_IN_PRACTICE: Record<string, string[]> = {
  'conversations.v1.conversation.conversation_message.conversation_message_receipt': ['error_code'],
  'conversations.v1.service.service_conversation.service_conversation_message.service_conversation_message_receipt': ['error_code'],
};

/** OpenAPI 3.0 `nullable` → JSON Schema type unions, with the deviations above applied. */
function toJsonSchema(schema: unknown, seen = new Map<unknown, unknown>()): unknown {
  if (Array.isArray(schema)) return schema.map((s) => toJsonSchema(s, seen));
  if (!schema || typeof schema !== 'object') return schema;
  if (seen.has(schema)) return seen.get(schema);
  const src = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  seen.set(schema, out);
  for (const [key, value] of Object.entries(src)) {
    if (key === 'nullable' || key === 'x-twilio' || key === 'example' || key === 'examples' || key === 'description') continue;
    out[key] = toJsonSchema(value, seen);
  }
  if (src.nullable === true) {
    if (typeof src.type === 'string') out.type = [src.type, 'null'];
    if (Array.isArray(src.enum)) out.enum = [...(src.enum as unknown[]), null];
  }
  return out;
}

function withDeviations(name: string | undefined, schema: Record<string, unknown>): Record<string, unknown> {
  const nullable = name ? NULLABLE_IN_PRACTICE[name] : undefined;
  if (!nullable) return schema;
  const properties = { ...(schema.properties as Record<string, Record<string, unknown>>) };
  for (const key of nullable) properties[key] = { ...properties[key], type: [properties[key].type as string, 'null'] };
  return { ...schema, properties };
}

export class ResponseValidator {
  /** the JSON Schema of each `operationId status`; compiled on first use (compiling all costs ~1.5 s a process) */
  private readonly schemas = new Map<string, Record<string, unknown>>();
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv: AjvClass;

  constructor(spec: LoadedSpec) {
    const ajv = (this.ajv = new Ajv({ strict: false, allErrors: true }));
    addFormats(ajv);
    ajv.addFormat('uri-map', true);
    const paths = spec.document.paths as Record<string, Record<string, Record<string, unknown>>>;
    const byOperation = new Map(spec.operations.map((o) => [o.operationId, o]));
    for (const item of Object.values(paths)) {
      for (const op of Object.values(item)) {
        const operationId = op.operationId as string | undefined;
        if (!operationId) continue;
        const manifest = byOperation.get(operationId);
        const responses = op.responses as Record<string, Record<string, unknown>>;
        for (const [status, response] of Object.entries(responses)) {
          const schema = ((response.content as Record<string, Record<string, unknown>> | undefined)?.['application/json'])?.schema;
          if (!schema) continue;
          let json = toJsonSchema(schema) as Record<string, unknown>;
          if (manifest?.listKey) {
            const props = { ...(json.properties as Record<string, Record<string, unknown>>) };
            const list = props[manifest.listKey];
            props[manifest.listKey] = { ...list, items: withDeviations(manifest.schema, list.items as Record<string, unknown>) };
            json = { ...json, properties: props };
          } else {
            json = withDeviations(manifest?.schema, json);
          }
          // Every property the spec lists must be present (as a value or null): a missing field is a wire bug.
          this.schemas.set(`${operationId} ${status}`, requireAll(json, manifest?.listKey));
        }
      }
    }
  }

  validate(operationId: string, status: number, body: unknown): Violation | undefined {
    const validator = this.validator(`${operationId} ${status}`);
    if (!validator) {
      if (status === 204 && (body === undefined || body === '')) return undefined;
      if (status >= 400) return undefined;
      return { operationId, status, errors: [`the spec declares no ${status} response for ${operationId}`], body };
    }
    if (validator(body)) return undefined;
    return {
      operationId,
      status,
      errors: (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim()),
      body,
    };
  }

  private validator(key: string): ValidateFunction | undefined {
    let validator = this.validators.get(key);
    const schema = this.schemas.get(key);
    if (!validator && schema) this.validators.set(key, (validator = this.ajv.compile(schema)));
    return validator;
  }
}

function requireAll(schema: Record<string, unknown>, listKey?: string): Record<string, unknown> {
  const strictObject = (s: Record<string, unknown>) => ({ ...s, required: Object.keys((s.properties as object) ?? {}), additionalProperties: false });
  if (!listKey) return strictObject(schema);
  const props = { ...(schema.properties as Record<string, Record<string, unknown>>) };
  props[listKey] = { ...props[listKey], items: strictObject(props[listKey].items as Record<string, unknown>) };
  return { ...schema, properties: props, required: [listKey, 'meta'] };
}
