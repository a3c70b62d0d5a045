/**
 * ERS, the push registrar the SDK calls from `setPushRegistrationId` (fcm / apn), tunnelled: a registration is a
 * push Binding (BS…) of the service, the one REST lists at /v1/Services/{IS}/Bindings, bound to the token's
 * ChatGrant `pushCredentialSid`. tce sends no push notifications; the binding is what an app's server sees.
 *   POST   /v1/registrations        {channel_type, message_types, data: {registration_id}} → {id}
 *   DELETE /v1/registrations/{id}
 *   DELETE /v1/registrations        {binding_type, address}: every binding of this identity for that device
 */
import type { EmulatorCore } from '../core.js';
import { remove } from '../resources/engine.js';
import type { Row } from '../store/database.js';
import { TwilioError } from '../wire/errors.js';
import { segments, UpstreamError, type ClientSession, type UpstreamAnswer, type UpstreamRequest } from './upstream.js';

function body(request: UpstreamRequest): Record<string, unknown> {
  return typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {};
}

function removeBindings(core: EmulatorCore, session: ClientSession, rows: Row[]): void {
  const account = core.accounts.get(session.accountSid);
  const service = core.db.get('SELECT * FROM services WHERE sid = ?', session.serviceSid);
  if (!account || !service) return;
  const ctx = { ...core.systemContext(account, session.httpBase), source: 'SDK' as const, parents: { Service: service } };
  const d = core.descriptor('ServiceBinding');
  core.db.transaction(() => rows.forEach((row) => remove(ctx, d, row)));
}

export function handleErs(core: EmulatorCore, session: ClientSession, request: UpstreamRequest): UpstreamAnswer {
  const parts = segments(request.path);
  const method = request.method.toUpperCase();
  if (parts[0] !== 'v1' || parts[1] !== 'registrations' || parts.length > 3) throw new UpstreamError(404, 20404, `tce does not serve ${method} ${request.path} of ERS`);
  if (method === 'POST' && parts.length === 2) {
    const b = body(request);
    const address = (b.data as { registration_id?: unknown } | undefined)?.registration_id;
    if (typeof address !== 'string' || address === '') throw new UpstreamError(400, 20001, 'data.registration_id (the device token) is required');
    if (!session.pushCredentialSid) {
      throw new UpstreamError(400, 20001, "the token's ChatGrant has no pushCredentialSid: a push registration binds to a credential (POST /v1/Credentials)");
    }
    const messageTypes = Array.isArray(b.message_types) ? b.message_types.filter((t): t is string => typeof t === 'string').map((t) => t.slice(t.lastIndexOf('.') + 1)) : undefined;
    try {
      const binding = core.createPushBinding(
        { chatServiceSid: session.serviceSid, identity: session.identity, bindingType: String(b.channel_type), address, credentialSid: session.pushCredentialSid, messageTypes },
        session.httpBase,
      );
      return { status: 201, body: { id: binding.sid } };
    } catch (error) {
      if (error instanceof TwilioError) throw new UpstreamError(error.status, error.code, error.message);
      throw error;
    }
  }
  if (method === 'DELETE' && parts.length === 3) {
    const row = core.db.get('SELECT * FROM bindings WHERE sid = ? AND chat_service_sid = ? AND identity = ?', parts[2] as string, session.serviceSid, session.identity);
    if (!row) throw new UpstreamError(404, 20404, `registration ${parts[2]} not found`);
    removeBindings(core, session, [row]);
    return { status: 204 };
  }
  if (method === 'DELETE' && parts.length === 2) {
    const b = body(request);
    const rows = core.db.all(
      'SELECT * FROM bindings WHERE chat_service_sid = ? AND identity = ? AND binding_type = ? AND endpoint = ?',
      session.serviceSid, session.identity, String(b.binding_type), String(b.address),
    );
    removeBindings(core, session, rows);
    return { status: 204 };
  }
  throw new UpstreamError(405, 20004, `${method} is not allowed on ${request.path}`);
}
