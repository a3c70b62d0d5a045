/** The fastify app: REST under /v1 and the control plane under /_emulator, as siblings. Not started here. */
import Fastify, { type FastifyInstance } from 'fastify';
import { createRequire } from 'node:module';
import { controlPlugin } from './control/control-plugin.js';
import type { EmulatorCore } from './core.js';
import { clientErrorAnswer, frameworkErrors, installErrorHandling } from './http/error-handler.js';
import { MAX_PARAM_LENGTH, restPlugin, type RestOptions } from './http/rest-plugin.js';
import { messagingPlugin } from './messaging/messaging-plugin.js';
import { inspectorPlugin } from './ui/ui-plugin.js';
import { jsonTooDeep, jsonTooDeepError } from './wire/json-depth.js';
import formbody from '@fastify/formbody';
import websocket from '@fastify/websocket';
import { MAX_FRAME_BYTES, realtimePlugin, type RealtimeOptions } from './realtime/realtime-plugin.js';

/** How long a request's headers and body may take to arrive (a slow client would hold its socket forever). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface AppOptions {
  core: EmulatorCore;
  version: string;
  publicUrl?: string;
  controlToken?: string;
  logger?: boolean;
  onAnswer?: RestOptions['onAnswer'];
  /** deadline for a request's headers and body, in ms (default 30 s); past it 408 and the connection closes */
  requestTimeoutMs?: number;
  /** the client SDKs' twilsock endpoint: its bounds, and who wants its hub */
  realtime?: Omit<RealtimeOptions, 'core'>;
}

/**
 * No route declares a fastify schema, yet fastify requires ajv and fast-json-stringify's compilers when it builds
 * the root schema controller (~50 ms of a ~300 ms cold start). These factories load them only if a schema is
 * ever compiled.
 */
const requireLazily = createRequire(import.meta.url);
/** fastify's compiler factory types, passed through untouched */
type Factory = (...args: any[]) => (...args: any[]) => any;
function lazyFactory(module: string): Factory {
  return (...factoryArgs) => {
    let compiler: ReturnType<Factory> | undefined;
    return (...args) => {
      compiler ??= (requireLazily(module) as () => Factory)()(...factoryArgs);
      return compiler(...args);
    };
  };
}

export function buildApp(options: AppOptions): FastifyInstance {
  // node wants whole milliseconds; 0 turns the deadline off
  const requestTimeout = Math.max(0, Math.round(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS));
  const app = Fastify({
    logger: options.logger ?? false,
    // Twilio SIDs and unique names are case-sensitive; paths are matched as sent.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    bodyLimit: 1024 * 1024,
    // One deadline for headers and body. node checks it every connectionsCheckingInterval (30 s by default: too
    // rarely for short deadlines), and swaps the two timeouts when headersTimeout (60 s) exceeds requestTimeout.
    requestTimeout,
    http: { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.min(1000, Math.max(50, requestTimeout / 4 || 1000)) },
    clientErrorHandler: clientErrorAnswer(requestTimeout),
    frameworkErrors,
    // Twilio serves no HEAD; not registering them halves route set-up.
    exposeHeadRoutes: false,
    schemaController: {
      compilersFactory: { buildValidator: lazyFactory('@fastify/ajv-compiler'), buildSerializer: lazyFactory('@fastify/fast-json-stringify-compiler') },
    },
  });
  installErrorHandling(app, options.core.db);
  // JSON bodies, on every route: nesting is bounded before parsing (wire/json-depth.ts).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonTooDeep(body as string)) return done(jsonTooDeepError('The JSON body'), undefined);
    parseJson(request, body as string, done);
  });

  // Form bodies, on every route: repeated keys become arrays, dotted keys stay literal names, into null-prototype
  // objects (a `__proto__` field is a field); @fastify/formbody with its default parser, fast-querystring
  app.register(formbody);

  app.register(restPlugin, { prefix: '/v1', core: options.core, publicUrl: options.publicUrl, onAnswer: options.onAnswer });
  app.register(messagingPlugin, { prefix: '/2010-04-01', core: options.core, publicUrl: options.publicUrl });
  // WebSockets, registered once for the whole app; the client SDKs' twilsock endpoint at /v3/wsconnect
  app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES } });
  app.register(realtimePlugin, { core: options.core, publicUrl: options.publicUrl, ...options.realtime });
  app.register(controlPlugin, {
    prefix: '/_emulator',
    core: options.core,
    version: options.version,
    controlToken: options.controlToken,
    publicUrl: options.publicUrl,
  });
  app.register(inspectorPlugin, { prefix: '/_emulator/ui', core: options.core, controlToken: options.controlToken });
  return app;
}
