/**
 * The operation manifest: a compact, JSON-serialisable digest of the Conversations v1 spec that the emulator
 * loads at start-up. Parsing and dereferencing the full spec costs ~150 ms; the manifest loads in ~1 ms, which
 * is what keeps `createEmulator()` under 20 ms. `test/contracts.test.ts` rebuilds it from the vendored
 * spec with swagger-parser and fails if the committed copy is stale (`tce contracts manifest` rewrites it).
 */
import type { OpenAPIV3 } from 'openapi-types';

export type ParamLocation = 'path' | 'query' | 'body' | 'header';
export type ParamType = 'string' | 'integer' | 'boolean' | 'array' | 'number';

export interface ParamSpec {
  name: string;
  in: ParamLocation;
  type: ParamType;
  /** element type of arrays */
  items?: ParamType;
  required?: boolean;
  enum?: string[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
}

export interface OperationSpec {
  operationId: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** spec path, e.g. /v1/Conversations/{Sid} */
  path: string;
  params: ParamSpec[];
  /** the success status the spec declares (first 2xx) */
  status: number;
  /** property names of the success body's resource schema, in spec order (empty for 204) */
  properties: string[];
  /** for lists: the key of the records array (`meta.key`) */
  listKey?: string;
  /** name of the resource schema, for response validation */
  schema?: string;
}

/** After swagger-parser's `dereference` no `$ref` is left: this says so to the types, and checks it. */
function resolved<T extends object>(value: T | OpenAPIV3.ReferenceObject): T {
  if ('$ref' in value) throw new Error(`the spec is not dereferenced: ${value.$ref}`);
  return value;
}

type Schema = OpenAPIV3.SchemaObject;

function paramType(schema: Schema | undefined): { type: ParamType; items?: ParamType; enum?: string[] } {
  const s: Schema = schema ?? {};
  const type = (s.type as ParamType | undefined) ?? 'string';
  const out: { type: ParamType; items?: ParamType; enum?: string[] } = { type };
  if (Array.isArray(s.enum)) out.enum = s.enum as string[];
  if (s.type === 'array') {
    const items = resolved(s.items);
    out.items = (items.type as ParamType | undefined) ?? 'string';
    if (Array.isArray(items.enum)) out.enum = items.enum as string[];
  }
  return out;
}

function copyBounds(target: ParamSpec, schema: Schema | undefined): void {
  if (!schema) return;
  if (typeof schema.format === 'string') target.format = schema.format;
  if (typeof schema.pattern === 'string') target.pattern = schema.pattern;
  if (typeof schema.minimum === 'number') target.minimum = schema.minimum;
  if (typeof schema.maximum === 'number') target.maximum = schema.maximum;
}

/** Build the manifest from a *dereferenced* spec (as swagger-parser's `dereference` returns it). */
export function buildManifest(spec: OpenAPIV3.Document, schemaNames: Map<unknown, string>): OperationSpec[] {
  const ops: OperationSpec[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    if (!item) continue;
    for (const method of ['get', 'post', 'delete'] as const) {
      const op = item[method];
      if (!op) continue;
      const params: ParamSpec[] = [];
      for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])].map((x) => resolved(x))) {
        const schema = p.schema && resolved(p.schema);
        const param: ParamSpec = { name: p.name, in: p.in as ParamLocation, ...paramType(schema) };
        if (p.required) param.required = true;
        copyBounds(param, schema);
        params.push(param);
      }
      const body = op.requestBody && resolved(op.requestBody).content['application/x-www-form-urlencoded'];
      const bodySchema = body?.schema && resolved(body.schema);
      if (bodySchema?.properties) {
        const required = new Set(bodySchema.required ?? []);
        for (const [name, ref] of Object.entries(bodySchema.properties)) {
          const s = resolved(ref);
          const param: ParamSpec = { name, in: 'body', ...paramType(s) };
          if (required.has(name)) param.required = true;
          copyBounds(param, s);
          params.push(param);
        }
      }
      const status = Number(Object.keys(op.responses).find((code) => code.startsWith('2')) ?? 200);
      const answer = op.responses[String(status)];
      const json = answer && resolved(answer).content?.['application/json'];
      const schema = json?.schema && resolved(json.schema);
      const entry: OperationSpec = {
        operationId: op.operationId as string,
        method: method.toUpperCase() as OperationSpec['method'],
        path,
        params,
        status,
        properties: [],
      };
      if (schema?.properties) {
        const props = schema.properties;
        if (props.meta) {
          const key = Object.keys(props).find((k) => k !== 'meta') as string;
          entry.listKey = key;
          const list = resolved(props[key]!) as OpenAPIV3.ArraySchemaObject;
          const itemSchema = resolved(list.items);
          entry.properties = Object.keys(itemSchema.properties ?? {});
          entry.schema = schemaNames.get(itemSchema);
        } else {
          entry.properties = Object.keys(props);
          entry.schema = schemaNames.get(schema);
        }
      }
      ops.push(entry);
    }
  }
  return ops;
}
