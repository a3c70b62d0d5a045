/**
 * The route table, built once from the spec's operations × the resource registry. An operationId is a verb
 * (Create, Fetch, Update, Delete, List) and a noun; `ServiceConversationMessage` under
 * /v1/Services/{ChatServiceSid}/ is the twin of `ConversationMessage` and shares its descriptor.
 */
import type { OperationSpec } from '../../contracts/manifest.js';
import type { Row } from '../store/database.js';
import type { ParentDef, ResourceDescriptor } from '../resources/descriptor.js';
import * as engine from '../resources/engine.js';
import { list as listAnswer, listText } from '../resources/list-answer.js';
import { compilePageWriter, type PageWriter, type UrlPattern } from '../resources/list-writer.js';
import type { Call, OperationHandler, SpecialOperation } from '../resources/operation.js';
import { descriptorNamed, specialOperations } from '../resources/registry.js';

export type Verb = 'Create' | 'Fetch' | 'Update' | 'Delete' | 'List';

export interface Route {
  op: OperationSpec;
  scope: 'default' | 'service';
  verb: Verb;
  /** the resource noun the operation is about (`ConversationMessage` for both mounts) */
  resource: string;
  /** parents resolved from the path before the handler runs, outermost first */
  parents: ParentDef[];
  handler: OperationHandler;
  /** fastify path, e.g. /v1/Conversations/:Sid */
  url: string;
  /** property names of the answer's resource schema */
  properties: string[];
}

const SERVICE_PREFIX = '/v1/Services/{ChatServiceSid}/';

/** The column of a row that fills each path parameter of its URL (one naming rule across all resources). */
const PATH_COLUMNS: Record<string, string> = {
  Sid: 'sid',
  ChatServiceSid: 'chat_service_sid',
  ConversationSid: 'conversation_sid',
  MessageSid: 'message_sid',
  UserSid: 'user_sid',
};

function splitOperationId(operationId: string): { verb: Verb; noun: string } | undefined {
  const m = /^(Create|Fetch|Update|Delete|List)(.+)$/.exec(operationId);
  return m ? { verb: m[1] as Verb, noun: m[2] } : undefined;
}

/** Default-mount operationId this operation twins, e.g. CreateServiceConversation → CreateConversation. */
function twinName(op: OperationSpec, verb: Verb, noun: string): { scope: 'default' | 'service'; noun: string } {
  if (op.path.startsWith(SERVICE_PREFIX) && noun.startsWith('Service')) {
    const twin = noun.slice('Service'.length);
    const d = descriptorNamed(twin);
    if ((d && d.parents.some((p) => p.pathParam === 'ChatServiceSid')) || specialOperations[verb + twin]?.serviceTwin) {
      return { scope: 'service', noun: twin };
    }
  }
  return { scope: 'default', noun };
}

/** `urlPattern` gives the URL template of the route's resource at its scope (complete once the table is built). */
function genericHandler(verb: Verb, d: ResourceDescriptor, urlPattern: () => UrlPattern | undefined): OperationHandler {
  switch (verb) {
    case 'Create':
      return (call) => ({ status: call.op.status, body: call.project(engine.represent(call.ctx, d, engine.create(call.ctx, d, call.input))) });
    case 'Fetch':
      return (call) => ({ status: 200, body: call.project(engine.represent(call.ctx, d, instance(call, d))) });
    case 'Update':
      return (call) => {
        // one transaction: a singleton created on first use goes away again if the update is refused
        const row = call.ctx.db.transaction(() => engine.update(call.ctx, d, instance(call, d), call.input));
        return { status: 200, body: call.project(engine.represent(call.ctx, d, row)) };
      };
    case 'Delete':
      return (call) => {
        engine.remove(call.ctx, d, engine.fetch(call.ctx, d, instanceKey(call)));
        return { status: 204 };
      };
    case 'List': {
      // compiled on the first request, when every URL template is known; null: this route takes the general path
      let writer: PageWriter | null | undefined;
      return (call) => {
        if (writer === undefined) writer = compilePageWriter(d, call.op.properties, urlPattern()) ?? null;
        if (writer) {
          const page = engine.list(call.ctx, d, call.input, call.pageSize, call.op.properties);
          return listText(call, page, writer(call.ctx, page.rows));
        }
        const page = engine.list(call.ctx, d, call.input, call.pageSize);
        return listAnswer(call, page, page.rows.map((row) => call.project(engine.represent(call.ctx, d, row))));
      };
    }
  }
}

function instanceKey(call: Call): string {
  return call.path.Sid;
}

function instance(call: Call, d: ResourceDescriptor): Row {
  return d.singleton ? engine.singleton(call.ctx, d) : engine.fetch(call.ctx, d, instanceKey(call));
}

interface UrlTemplate {
  url: (row: Row) => string;
  pattern: UrlPattern;
}

/** `/v1/Services/{ChatServiceSid}/Conversations/{Sid}` → a function joining literal parts and row columns. */
function compileTemplate(path: string): UrlTemplate {
  const parts = path.split(/\{(\w+)\}/);
  const literals = parts.filter((_, i) => i % 2 === 0);
  const columns = parts.filter((_, i) => i % 2 === 1).map((param) => PATH_COLUMNS[param] ?? param);
  return {
    url: (row) => {
      let url = literals[0];
      for (let i = 0; i < columns.length; i++) url += String(row[columns[i]] ?? '') + literals[i + 1];
      return url;
    },
    pattern: { literals, columns },
  };
}

export interface RouteTable {
  routes: Route[];
  /** operationIds of the spec that no route serves yet */
  unserved: string[];
  /** absolute URL of a row, for `url` and `links` */
  urlOf(scope: 'default' | 'service', resource: string, row: Row, baseUrl: string): string;
  /** what `urlOf` writes after the base URL, as a pattern; undefined when it writes '' */
  urlPattern(scope: 'default' | 'service', resource: string): UrlPattern | undefined;
}

/** one table per manifest: it holds no emulator's state, and building it costs ~0.5 ms of every createEmulator() */
const tables = new WeakMap<OperationSpec[], RouteTable>();

export function routeTableFor(operations: OperationSpec[]): RouteTable {
  let table = tables.get(operations);
  if (!table) tables.set(operations, (table = buildRouteTable(operations)));
  return table;
}

export function buildRouteTable(operations: OperationSpec[]): RouteTable {
  const routes: Route[] = [];
  const unserved: string[] = [];
  const templates = { default: new Map<string, UrlTemplate>(), service: new Map<string, UrlTemplate>() };
  const templateOf = (scope: 'default' | 'service', resource: string) => templates[scope].get(resource) ?? templates.default.get(resource);
  const table: RouteTable = {
    routes,
    unserved,
    urlOf(scope, resource, row, baseUrl) {
      const template = templateOf(scope, resource);
      return template ? baseUrl + template.url(row) : '';
    },
    urlPattern: (scope, resource) => templateOf(scope, resource)?.pattern,
  };
  for (const op of operations) {
    const split = splitOperationId(op.operationId);
    if (!split) {
      unserved.push(op.operationId);
      continue;
    }
    const { scope, noun } = twinName(op, split.verb, split.noun);
    const special = specialOperations[split.verb + noun] as SpecialOperation | undefined;
    const descriptor = descriptorNamed(noun);
    if (!special && !descriptor) {
      unserved.push(op.operationId);
      continue;
    }
    if (split.verb === 'Fetch') templates[scope].set(noun, compileTemplate(op.path));
    routes.push({
      op,
      scope,
      verb: split.verb,
      resource: noun,
      parents: special ? special.parents : (descriptor as ResourceDescriptor).parents,
      handler: special
        ? special.handler
        : genericHandler(split.verb, descriptor as ResourceDescriptor, () => table.urlPattern(scope, noun)),
      url: op.path.replace(/\{(\w+)\}/g, ':$1'),
      properties: op.properties,
    });
  }
  // Service has no `service` twin of its own: its instance URL is the same at both scopes.
  const serviceTemplate = templates.default.get('Service');
  if (serviceTemplate) templates.service.set('Service', serviceTemplate);
  return table;
}
