/**
 * The Twilio REST surface: HTTP Basic auth like Twilio's, form decoding, spec-checked parameters, then one
 * resource operation per route. A handler only decodes, calls the operation and answers; the wire format comes
 * from the resource layer and the error envelope from the shared error handler.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Account } from '../accounts.js';
import type { EmulatorCore } from '../core.js';
import type { OperationContext, Services } from '../resources/context.js';
import * as engine from '../resources/engine.js';
import type { Row } from '../store/database.js';
import { twilioError } from '../wire/errors.js';
import { projection } from '../wire/projection.js';
import { notFound } from './error-handler.js';
import { callPreEvent, preEventFor } from './pre-events.js';
import { paramsOf, type RawParams } from './form.js';
import { guardRequests } from './auth.js';
import { compileParams, pageSizeOf, webhooksEnabled } from './params.js';
import type { Route, RouteTable } from './routes.js';
import FindMyWay from 'find-my-way';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
/** the longest path segment routed (find-my-way's maxParamLength); a longer one names nothing: 404 */
export const MAX_PARAM_LENGTH = 512;

export interface RestOptions {
  core: EmulatorCore;
  /** base for every url, links and page URL; default: the origin the request came in on */
  publicUrl?: string;
  /** called with every answer before it is sent (response validation) */
  onAnswer?: (route: Route, status: number, body: unknown) => void;
}

const FORM_TYPE = 'application/x-www-form-urlencoded';
const isForm = (type: string | undefined): boolean => type !== undefined && type.startsWith(FORM_TYPE);

/** `protocol://host` per Host header: the same few strings on every request. */
const origins = new Map<string, string>();
function originOf(protocol: string, host: string): string {
  const key = protocol === 'http' ? host : `${protocol}://${host}`;
  let origin = origins.get(key);
  if (origin === undefined) {
    if (origins.size >= 256) origins.clear();
    origins.set(key, (origin = `${protocol}://${host}`));
  }
  return origin;
}

/** The paths the route table serves, as patterns (for 405 vs 404): compiled once per table, not per emulator. */
const servedPathPatterns = new WeakMap<RouteTable, RegExp[]>();
function servedPathsOf(table: RouteTable): RegExp[] {
  let patterns = servedPathPatterns.get(table);
  if (!patterns) {
    patterns = table.routes.map((r) => new RegExp(`^${r.op.path.replace(/\{\w+\}/g, `[^/]{1,${MAX_PARAM_LENGTH}}`)}/?$`));
    servedPathPatterns.set(table, patterns);
  }
  return patterns;
}

/** What the shared router hands back for a served operation: the route and what serving it needs, built once. */
interface Served {
  route: Route;
  check: ReturnType<typeof compileParams>;
  projectAnswer: ReturnType<typeof projection>;
  isPost: boolean;
  preEvent: ReturnType<typeof preEventFor>;
}

type SharedRouter = FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;

/**
 * One router per route table, shared by every emulator in the process, instead of ~200 fastify routes per app:
 * each emulator's app then holds one catch-all route. The per-app routes were most of `createEmulator()`'s time
 * (building them, then the young-generation GC of everything they keep alive). Options as app.ts gives fastify's.
 */
const routers = new WeakMap<RouteTable, SharedRouter>();
function routerFor(table: RouteTable): SharedRouter {
  let router = routers.get(table);
  if (!router) {
    router = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH });
    for (const route of table.routes) {
      const served: Served = {
        route,
        check: compileParams(route.op),
        projectAnswer: projection(route.properties),
        isPost: route.op.method === 'POST',
        preEvent: preEventFor(route),
      };
      router.on(route.op.method as FindMyWay.HTTPMethod, route.url, () => undefined, served);
    }
    routers.set(table, router);
  }
  return router;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the operation this /v1 request names (shared router), with its path parameters and its path without query */
    served?: { served: Served; params: Record<string, string | undefined>; path: string } | null;
  }
}

export async function restPlugin(app: FastifyInstance, options: RestOptions): Promise<void> {
  const { core } = options;
  const services: Services = core.servicesView();
  const router = routerFor(core.routes);


  app.decorateRequest('served', null);
  app.decorateRequest('operationId', undefined);
  // Routing comes first: injected faults can match on the operation.
  app.addHook('onRequest', (request, _reply, done) => {
    const query = request.url.indexOf('?');
    const path = query < 0 ? request.url : request.url.slice(0, query);
    const found = router.find(request.method as FindMyWay.HTTPMethod, path);
    request.served = found ? { served: found.store as Served, params: found.params, path } : null;
    request.operationId = found ? (found.store as Served).route.op.operationId : undefined;
    done();
  });

  guardRequests(app, core);

  // A path we serve with other methods answers 405/20004, as Twilio does; anything else 404/20404.
  const servedPaths = servedPathsOf(core.routes);
  const unserved = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0];
    if (!servedPaths.some((re) => re.test(path))) return notFound(request, reply);
    const error = twilioError('MethodNotAllowed', { method: request.method, path: path.replace(/^\/v1/, '') });
    return reply.code(error.status).send(error.toJSON());
  };
  app.setNotFoundHandler(unserved);

  app.route({
    method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    // registered under the /v1 prefix, so that auth runs before the 404 too
    url: '/*',
    handler: (request: FastifyRequest, reply: FastifyReply) => {
      if (!request.served) return unserved(request, reply);
      const { route, check, projectAnswer, isPost, preEvent } = request.served.served;
      const account = request.account as Account;
      // Form bodies (form.ts) and query strings arrive as text values already; JSON bodies are flattened.
      const raw = isPost ? (isForm(request.headers['content-type']) ? (request.body as RawParams) : paramsOf(request.body)) : (request.query as RawParams);
      const input = check(raw, request.headers);
      const path = request.served.params as Record<string, string>;
      const baseUrl = options.publicUrl ?? originOf(request.protocol, request.host);
      // the services written out: one object shape for every request (a spread copies key by key)
      const ctx: OperationContext = {
        db: services.db,
        clock: services.clock,
        random: services.random,
        events: services.events,
        accounts: services.accounts,
        timers: services.timers,
        descriptor: services.descriptor,
        descendants: services.descendants,
        account,
        scope: route.scope,
        parents: {},
        requestPath: request.served.path,
        baseUrl,
        urlOf: (resource: string, row: Row) => core.routes.urlOf(route.scope, resource, row, baseUrl),
        webhookEnabled: webhooksEnabled(request.headers['x-twilio-webhook-enabled']),
        source: 'API',
      };
      const resolveParents = () => {
        for (const parent of route.parents) {
          if (parent.pathParam === 'ChatServiceSid' && path.ChatServiceSid === undefined) {
            // The account's default service always exists (it cannot be deleted while default): no query needed.
            ctx.parents[parent.resource] = { sid: account.defaultServiceSid, account_sid: account.sid };
            continue;
          }
          ctx.parents[parent.resource] = engine.fetch(ctx, core.descriptor(parent.resource), path[parent.pathParam]);
        }
      };
      const answerOf = (): { status: number; body: unknown; json: boolean } => {
        const answer = route.handler({ ctx, op: route.op, input, path, pageSize: pageSizeOf(input), project: projectAnswer });
        if (answer.json !== undefined) {
          // validation checks the text that goes out, parsed again
          if (options.onAnswer) options.onAnswer(route, answer.status, JSON.parse(answer.json));
          return { status: answer.status, body: answer.json, json: true };
        }
        options.onAnswer?.(route, answer.status, answer.body);
        return { status: answer.status, body: answer.status === 204 ? undefined : answer.body, json: false };
      };
      const perform = () => {
        // A write, its answer and the answer's check are one transaction: whatever throws before the answer is
        // final (a representation that cannot be built, a validator's veto) rolls the whole write back, so a
        // refused request stores nothing. Reads skip it: a savepoint would open a write batch for nothing.
        const { status, body, json } = route.op.method === 'GET' ? answerOf() : core.db.transaction(answerOf);
        // the content type fastify gives a serialized object; with it, fastify sends the text as it is
        if (json) reply.header('content-type', JSON_CONTENT_TYPE);
        // An acknowledged write is a stored write: with writes pending in this turn's group commit
        // (store/database.ts), answer once it is done; otherwise (most reads) answer now.
        if (!core.db.pending) reply.code(status).send(body);
        else core.db.whenCommitted((error) => (error ? reply.send(error) : reply.code(status).send(body)));
      };
      resolveParents();
      // A pre-event webhook decides first (asynchronously); the change then runs on freshly read parents.
      if (preEvent && ctx.webhookEnabled && core.webhooks.hasPreTarget(account.sid, ctx.parents.Service?.sid as string, preEvent.eventType)) {
        callPreEvent(core, preEvent, ctx, input, path.Sid).then(
          () => {
            resolveParents();
            perform();
          },
          (error: unknown) => reply.send(error),
        );
        return;
      }
      perform();
    },
  });
}
