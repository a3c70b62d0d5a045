/**
 * The operation manifest: a compact, JSON-serialisable digest of the Conversations v1 spec that the emulator
 * loads at start-up. Parsing and dereferencing the full spec costs ~150 ms; the manifest loads in ~1 ms, which
 * is what keeps `createEmulator()` under 20 ms. `test/contracts.test.ts` rebuilds it from the vendored
 * spec with swagger-parser and fails if the committed copy is stale (`tce contracts manifest` rewrites it).
 */

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

type Json = Record<string, unknown>;

function paramType(schema: Json | undefined): { type: ParamType; items?: ParamType; enum?: string[] } {
  const s = schema ?? {};
  const type = (s.type as ParamType | undefined) ?? 'string';
  const out: { type: ParamType; items?: ParamType; enum?: string[] } = { type };
  if (Array.isArray(s.enum)) out.enum = s.enum as string[];
  if (type === 'array') {
    const items = (s.items as Json | undefined) ?? {};
    out.items = (items.type as ParamType | undefined) ?? 'string';
    if (Array.isArray(items.enum)) out.enum = items.enum as string[];
  }
  return out;
}

function copyBounds(target: ParamSpec, schema: Json | undefined): void {
  if (!schema) return;
  if (typeof schema.format === 'string') target.format = schema.format;
  if (typeof schema.pattern === 'string') target.pattern = schema.pattern;
  if (typeof schema.minimum === 'number') target.minimum = schema.minimum;
  if (typeof schema.maximum === 'number') target.maximum = schema.maximum;
}

/** Build the manifest from a *dereferenced* spec (as swagger-parser's `dereference` returns it). */
export function buildManifest(spec: Json, schemaNames: Map<unknown, string>): OperationSpec[] {
  const ops: OperationSpec[] = [];
  const paths = spec.paths as Record<string, Record<string, Json>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of ['get', 'post', 'delete'] as const) {
      const op = item[method];
      if (!op) continue;
      const params: ParamSpec[] = [];
      for (const p of [...((item.parameters as unknown as Json[] | undefined) ?? []), ...((op.parameters as unknown as Json[] | undefined) ?? [])]) {
        const spec: ParamSpec = { name: p.name as string, in: p.in as ParamLocation, ...paramType(p.schema as Json) };
        if (p.required) spec.required = true;
        copyBounds(spec, p.schema as Json);
        params.push(spec);
      }
      const body = ((op.requestBody as Json | undefined)?.content as Json | undefined)?.[
        'application/x-www-form-urlencoded'
      ] as Json | undefined;
      const bodySchema = body?.schema as Json | undefined;
      if (bodySchema?.properties) {
        const required = new Set((bodySchema.required as string[] | undefined) ?? []);
        for (const [name, s] of Object.entries(bodySchema.properties as Record<string, Json>)) {
          const spec: ParamSpec = { name, in: 'body', ...paramType(s) };
          if (required.has(name)) spec.required = true;
          copyBounds(spec, s);
          params.push(spec);
        }
      }
      const responses = op.responses as Record<string, Json>;
      const status = Number(Object.keys(responses).find((code) => code.startsWith('2')) ?? 200);
      const schema = ((responses[String(status)]?.content as Json | undefined)?.['application/json'] as Json | undefined)
        ?.schema as Json | undefined;
      const entry: OperationSpec = {
        operationId: op.operationId as string,
        method: method.toUpperCase() as OperationSpec['method'],
        path,
        params,
        status,
        properties: [],
      };
      if (schema) {
        const props = schema.properties as Record<string, Json>;
        if (props.meta) {
          const key = Object.keys(props).find((k) => k !== 'meta') as string;
          entry.listKey = key;
          const itemSchema = props[key].items as Json;
          entry.properties = Object.keys(itemSchema.properties as Json);
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
