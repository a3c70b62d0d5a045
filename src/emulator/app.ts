/** The fastify app: REST under /v1 and the control plane under /_emulator, as siblings. Not started here. */
import Fastify, { type FastifyInstance } from 'fastify';
import { controlPlugin } from './control/control-plugin.js';
import type { EmulatorCore } from './core.js';
import { installErrorHandling } from './http/error-handler.js';
import { restPlugin, type RestOptions } from './http/rest-plugin.js';

export interface AppOptions {
  core: EmulatorCore;
  version: string;
  publicUrl?: string;
  controlToken?: string;
  logger?: boolean;
  onAnswer?: RestOptions['onAnswer'];
}

export function buildApp(options: AppOptions): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    // Twilio SIDs and unique names are case-sensitive; paths are matched as sent.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
    bodyLimit: 1024 * 1024,
    // Twilio serves no HEAD; not registering them halves route set-up.
    exposeHeadRoutes: false,
  });
  installErrorHandling(app);

  app.register(restPlugin, { prefix: '/v1', core: options.core, publicUrl: options.publicUrl, onAnswer: options.onAnswer });
  app.register(controlPlugin, {
    prefix: '/_emulator',
    core: options.core,
    version: options.version,
    controlToken: options.controlToken,
    publicUrl: options.publicUrl,
  });
  return app;
}
