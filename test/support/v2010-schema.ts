/**
 * Validators for api.twilio.com/2010-04-01 answers, compiled from Twilio's 2010 OpenAPI spec (the vendored fixture):
 * every declared property required and no other, `nullable` honoured, RFC 2822 dates, URIs relative to api.twilio.com.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ValidateFunction } from 'ajv';
import type { FormatsPlugin } from 'ajv-formats';

const require = createRequire(import.meta.url);
const Ajv = (require('ajv') as { default: typeof AjvClass }).default;
const addFormats = (require('ajv-formats') as { default: FormatsPlugin }).default;
const { fullFormats } = require('ajv-formats/dist/formats') as { fullFormats: Record<string, RegExp | ((s: string) => boolean)> };

/** OpenAPI 3.0 `nullable` → JSON Schema type unions; every declared property required, no others. */
function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const src = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(src)) {
    if (!['nullable', 'x-twilio', 'example', 'examples', 'description'].includes(key)) out[key] = toJsonSchema(value);
  }
  if (src.nullable === true && typeof src.type === 'string') out.type = [src.type, 'null'];
  if (src.nullable === true && Array.isArray(src.enum)) out.enum = [...src.enum, null];
  if (src.type === 'object' && src.properties) Object.assign(out, { required: Object.keys(src.properties), additionalProperties: false });
  return out;
}

export interface V2010Validators {
  /** a component schema, e.g. `api.v2010.account.message` */
  schema(name: string): ValidateFunction;
  /** the 200 answer of a list path's GET, e.g. `/2010-04-01/Accounts/{AccountSid}/Messages.json` */
  list(path: string): ValidateFunction;
}

export async function v2010Validators(): Promise<V2010Validators> {
  const { default: SwaggerParser } = await import('@apidevtools/swagger-parser');
  const raw = JSON.parse(readFileSync(new URL('../../fixtures/openapi/twilio_api_v2010.json', import.meta.url), 'utf8'));
  const spec = (await SwaggerParser.dereference(raw)) as any;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // 2010 URIs are relative to https://api.twilio.com (the spec's own examples), so `uri` means a URI reference
  ajv.addFormat('uri', fullFormats['uri-reference']);
  ajv.addFormat('date-time-rfc-2822', /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  for (const f of ['phone-number', 'currency', 'uri-map', 'http-method', 'phone-number-capabilities']) ajv.addFormat(f, true);
  return {
    schema: (name) => ajv.compile(toJsonSchema(spec.components.schemas[name]) as object),
    list: (path) => ajv.compile(toJsonSchema(spec.paths[path].get.responses['200'].content['application/json'].schema) as object),
  };
}
