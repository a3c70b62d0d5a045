/**
 * What every Twilio REST request goes through before its operation, for /v1 and /2010-04-01 alike: HTTP Basic
 * auth as Twilio does it (AccountSid:AuthToken, TestAccountSid:TestAuthToken or ApiKeySid:ApiKeySecret, else
 * 401 / 20003; the test pair only where the plugin accepts it, else 403 / 20008), then the account's rate limits
 * (429 / 20429), then injected REST faults. Every answer is then noted in the request log.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Account } from '../accounts.js';
import type { EmulatorCore } from '../core.js';
import { TwilioError, twilioError } from '../wire/errors.js';
import { parseFaultHeader, type RestFaultAction } from './rest-faults.js';
import { logRequest } from './request-log.js';

declare module 'fastify' {
  interface FastifyRequest {
    account: Account | null;
    /** the operation, when the plugin routes by its own table (rest-plugin.ts) rather than by fastify routes */
    operationId?: string;
  }
}

/** The account the request proves, or the 401 to answer (with Twilio's `WWW-Authenticate` header set). */
export function authenticate(core: EmulatorCore, request: FastifyRequest, reply: FastifyReply): Account | TwilioError {
  const account = core.accounts.authenticate(request.headers.authorization);
  if (account) return account;
  reply.header('WWW-Authenticate', 'Basic realm="Twilio API"');
  return twilioError('Unauthenticated');
}

/** Act out an injected fault before the operation runs (so a faulted write never half-applies). */
function injectFault(core: EmulatorCore, fault: RestFaultAction, request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void {
  switch (fault.type) {
    case 'error':
      done(new TwilioError('InjectedFault', fault.code, fault.status, fault.message ?? `Injected fault: HTTP ${fault.status}`));
      return;
    case 'delay':
      core.restFaults.wait(fault, done);
      return;
    case 'reset':
      // no answer will finish, so the request log hears of it now
      logRequest(core.requestLog, request, reply, null);
      reply.hijack();
      reply.raw.socket?.destroy();
      return;
    case 'empty':
      reply.hijack();
      reply.raw.writeHead(fault.status, { 'content-length': '0' });
      reply.raw.end();
      return;
  }
}

/**
 * What fault rules match on, for the request being guarded: one object reused (rules are decided synchronously),
 * its path and operation worked out only when a rule asks, so loaded rules cost no allocation per request.
 */
class FaultSubject {
  method = '';
  accountSid = '';
  private request?: FastifyRequest;

  of(request: FastifyRequest, accountSid: string): this {
    this.request = request;
    this.method = request.method;
    this.accountSid = accountSid;
    return this;
  }

  path(): string {
    const url = this.request?.url ?? '';
    const query = url.indexOf('?');
    return query < 0 ? url : url.slice(0, query);
  }

  operation(): string | undefined {
    return this.request?.operationId ?? (this.request?.routeOptions.config as { operationId?: string } | undefined)?.operationId;
  }
}

/**
 * Authenticate every request of this plugin as soon as its headers arrive; then, once its body has arrived too,
 * limit and fault it (callback-style hooks: every request is synchronous work, so no promise is made per request).
 * A request counts against the concurrency limit only from then on: a client trickling its body (until the
 * request deadline of app.ts) holds no slot. Sets `request.account`.
 */
const LIMITED_ACCOUNT = Symbol('tce.limitedAccount');
type LimitedResponse = ServerResponse & { [LIMITED_ACCOUNT]?: string };

/**
 * `acceptsTestCredentials` names the requests an account's test pair may make (only 2010 Messages create, at
 * Twilio); every other request with it answers 403 / 20008, as Twilio's do.
 */
export function guardRequests(app: FastifyInstance, core: EmulatorCore, acceptsTestCredentials: (request: FastifyRequest) => boolean = () => false): void {
  const faultSubject = new FaultSubject();
  function releaseOnClose(this: LimitedResponse): void {
    const accountSid = this[LIMITED_ACCOUNT];
    if (accountSid !== undefined) core.limits.release(accountSid);
  }
  app.decorateRequest('account', null);
  app.addHook('onRequest', (request, reply, done) => {
    const account = authenticate(core, request, reply);
    if (account instanceof TwilioError) {
      done(account);
      return;
    }
    request.account = account;
    if (account.testCredentials && !acceptsTestCredentials(request)) {
      done(twilioError('TestCredentialsNotAccepted'));
      return;
    }
    done();
  });
  app.addHook('preHandler', (request, reply, done) => {
    const account = request.account as Account;
    if (core.limits.active) {
      if (!core.limits.admit(account.sid)) {
        reply.header('Retry-After', '1');
        done(twilioError('TooManyRequests'));
        return;
      }
      // Only a concurrency limit needs to see the end of the request; no per-request hook otherwise.
      if (core.limits.current.concurrency !== null) {
        if (reply.raw.destroyed) {
          // the client is gone already: 'close' has fired, nothing would release the slot
          core.limits.release(account.sid);
        } else {
          // one shared listener reading the account from the response: no closure or once-wrapper per request
          (reply.raw as LimitedResponse)[LIMITED_ACCOUNT] = account.sid;
          reply.raw.on('close', releaseOnClose);
        }
      }
    }
    const forced = request.headers['x-emulator-fault'];
    const fault =
      typeof forced === 'string'
        ? parseFaultHeader(forced)
        : core.restFaults.rules.length
          ? core.restFaults.decide(faultSubject.of(request, account.sid))
          : undefined;
    if (!fault) return done();
    injectFault(core, fault, request, reply, done);
  });
  // Every answer of this plugin, refusals included, goes into the request log (request-log.ts).
  app.addHook('onResponse', (request, reply, done) => {
    logRequest(core.requestLog, request, reply, reply.statusCode);
    done();
  });
}
