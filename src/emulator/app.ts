/** The fastify app: REST under /v1 and the control plane under /_emulator, as siblings. Not started here. */
import Fastify, { type FastifyInstance } from 'fastify';
import { createRequire } from 'node:module';
import { controlPlugin } from './control/control-plugin.js';
import type { EmulatorCore } from './core.js';
import { installErrorHandling } from './http/error-handler.js';
import { restPlugin, type RestOptions } from './http/rest-plugin.js';
import { messagingPlugin } from './messaging/messaging-plugin.js';

export interface AppOptions {
  core: EmulatorCore;
  version: string;
  publicUrl?: string;
  controlToken?: string;
  logger?: boolean;
  onAnswer?: RestOptions['onAnswer'];
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
  const app = Fastify({
    logger: options.logger ?? false,
    // Twilio SIDs and unique names are case-sensitive; paths are matched as sent.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
    bodyLimit: 1024 * 1024,
    // Twilio serves no HEAD; not registering them halves route set-up.
    exposeHeadRoutes: false,
    schemaController: {
      compilersFactory: { buildValidator: lazyFactory('@fastify/ajv-compiler'), buildSerializer: lazyFactory('@fastify/fast-json-stringify-compiler') },
    },
  });
  installErrorHandling(app, options.core.db);

  app.register(restPlugin, { prefix: '/v1', core: options.core, publicUrl: options.publicUrl, onAnswer: options.onAnswer });
  app.register(messagingPlugin, { prefix: '/2010-04-01', core: options.core });
  app.register(controlPlugin, {
    prefix: '/_emulator',
    core: options.core,
    version: options.version,
    controlToken: options.controlToken,
    publicUrl: options.publicUrl,
  });
  return app;
}
