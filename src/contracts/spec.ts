/** Loading the vendored OpenAPI spec (fixtures/openapi) with swagger-parser, dereferenced once per process. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OpenAPIV3 } from 'openapi-types';
import { buildManifest, type OperationSpec } from './manifest.js';

export const fixturesDir = fileURLToPath(new URL('../../fixtures/openapi/', import.meta.url));
export const conversationsSpecPath = `${fixturesDir}twilio_conversations_v1.json`;
export const manifestPath = `${fixturesDir}conversations-v1.manifest.json`;

export interface LoadedSpec {
  /** the dereferenced document */
  document: OpenAPIV3.Document;
  /** component schema objects by name (identity-preserved after dereferencing) */
  schemas: Record<string, Record<string, unknown>>;
  operations: OperationSpec[];
}

let loading: Promise<LoadedSpec> | undefined;

/** The dereferenced Conversations v1 spec. Slow (~150 ms): for tests, tools and --validate-responses only. */
export function loadConversationsSpec(): Promise<LoadedSpec> {
  loading ??= (async () => {
    // Imported here, not at the top: the emulator's start-up path never needs it.
    const { default: SwaggerParser } = await import('@apidevtools/swagger-parser');
    const raw = JSON.parse(readFileSync(conversationsSpecPath, 'utf8'));
    const document = (await SwaggerParser.dereference(raw)) as OpenAPIV3.Document;
    const schemas = (document.components?.schemas ?? {}) as Record<string, Record<string, unknown>>;
    const names = new Map<unknown, string>(Object.entries(schemas).map(([name, s]) => [s, name]));
    return { document, schemas, operations: buildManifest(document, names) };
  })();
  return loading;
}

let manifest: OperationSpec[] | undefined;

/** The committed manifest: fast, used by the emulator at start-up. */
export function loadManifest(): OperationSpec[] {
  manifest ??= JSON.parse(readFileSync(manifestPath, 'utf8')) as OperationSpec[];
  return manifest;
}
