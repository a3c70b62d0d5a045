/**
 * The router's structured logs (pino, JSON lines). Tokens and message bodies never reach a log line: they are
 * redacted by path, wherever the router puts them (request headers, webhook params, the config, errors).
 * Each event gets a child logger carrying its correlationId, so one grep follows it from ingress to side effect.
 */
import { randomUUID } from 'node:crypto';
import { pino, type DestinationStream, type Logger } from 'pino';

export type RouterLogger = Logger;

/** Where secrets and bodies can appear in what the router logs. `*` matches one level of nesting. */
export const REDACT_PATHS = [
  // HTTP requests (fastify's req serializer and our own)
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-twilio-signature"]',
  'req.body',
  '*.headers.authorization',
  '*.headers["x-twilio-signature"]',
  // webhook params and message bodies: at the top level, one level down (params.Body), and in x.params
  'Body',
  'body',
  '*.Body',
  '*.body',
  '*.params.Body',
  // credentials (config objects, SDK options)
  'authToken',
  'apiKeySecret',
  'apiToken',
  'password',
  'databaseUrl',
  'redisUrl',
  '*.authToken',
  '*.apiKeySecret',
  '*.apiToken',
  '*.password',
  '*.databaseUrl',
  '*.redisUrl',
];

export const REDACTED = '[redacted]';

export interface RouterLoggerOptions {
  /** fatal, error, warn, info, debug, trace or silent */
  level: string;
  /** default stdout; tests pass a stream to read the lines */
  destination?: DestinationStream;
}

export function createRouterLogger(options: RouterLoggerOptions): RouterLogger {
  const opts = {
    name: 'tce-router',
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

export function newCorrelationId(): string {
  return randomUUID();
}

/** The logger of one event (or request): every line carries its correlationId, plus the given bindings. */
export function eventLogger(logger: RouterLogger, correlationId: string, bindings: Record<string, unknown> = {}): RouterLogger {
  return logger.child({ ...bindings, correlationId });
}
