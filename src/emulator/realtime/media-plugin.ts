/**
 * MCS, the media service of the client SDKs, over plain HTTP (the only part of the client protocol that is not
 * tunnelled): upload and metadata with the `X-Twilio-Token` header, content at a temporary URL, and CORS so a
 * browser page on another origin may call it. `Configuration.links.media_service` points here.
 *   POST /mcs/v1/Services/{IS}/Media?Category=&Filename=   raw bytes, Content-Type = the media's
 *   GET  /mcs/v1/Services/{IS}/Media/{ME}                    its record
 *   GET  /mcs/v1/Services/{IS}/Media/{ME}/Content            its bytes
 *   POST /mcs/v1/Services/{IS}/MediaSet                      {command: "get", list: [{media_sid}]}
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorCore } from '../core.js';
import { AccessTokenError, verifyAccessToken, type ClientIdentity } from './access-token.js';
import { MAX_MEDIA_BYTES, type MediaStore, type StoredMedia } from './media-store.js';

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'X-Twilio-Token, Content-Type',
  'access-control-max-age': '600',
};

interface Params {
  serviceSid: string;
  mediaSid?: string;
}

export function mediaRecord(base: string, media: StoredMedia): Record<string, unknown> {
  const url = `${base}/mcs/v1/Services/${media.serviceSid}/Media/${media.sid}`;
  const at = new Date(media.dateCreated).toISOString();
  return {
    sid: media.sid,
    service_sid: media.serviceSid,
    channel_sid: null,
    message_sid: null,
    date_created: at,
    date_upload_updated: at,
    date_updated: at,
    size: media.bytes.length,
    content_type: media.contentType,
    author: media.author,
    url,
    links: { content: `${url}/Content`, content_direct_temporary: `${url}/Content` },
    filename: media.filename,
    category: media.category,
    is_multipart_upstream: false,
  };
}

export async function mediaPlugin(app: FastifyInstance, options: { core: EmulatorCore; store: MediaStore; publicUrl?: string }): Promise<void> {
  const { core, store } = options;
  // any content type is media here: the bytes as they came
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_MEDIA_BYTES }, (_request, body, done) => done(null, body));
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(CORS);
    return payload;
  });

  const fail = (reply: FastifyReply, status: number, code: number, message: string) => reply.code(status).send({ status, code, message });
  const base = (request: FastifyRequest) => options.publicUrl ?? `${request.protocol}://${request.headers.host ?? request.hostname}`;

  /** The token's identity, if it may use this service's media; else the answer is sent. */
  function authorize(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply): ClientIdentity | undefined {
    let identity: ClientIdentity;
    try {
      identity = verifyAccessToken(core.db, request.headers['x-twilio-token'], core.clock.now());
    } catch (error) {
      if (!(error instanceof AccessTokenError)) throw error;
      fail(reply, error.status, error.code, error.message);
      return undefined;
    }
    if (identity.serviceSid !== request.params.serviceSid) {
      fail(reply, 403, 20106, `the token grants Conversation Service ${identity.serviceSid}, not ${request.params.serviceSid}`);
      return undefined;
    }
    return identity;
  }

  app.options('/*', async (_request, reply) => reply.code(204).send());

  app.post<{ Params: Params; Querystring: { Category?: string; Filename?: string } }>('/Services/:serviceSid/Media', async (request, reply) => {
    const identity = authorize(request, reply);
    if (!identity) return reply;
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) return fail(reply, 400, 20001, 'the request body is the media: it must not be empty');
    const contentType = request.headers['content-type'];
    if (!contentType) return fail(reply, 400, 20001, 'Content-Type is required: it is the media content type');
    const media = store.add({
      accountSid: identity.accountSid,
      serviceSid: identity.serviceSid,
      author: identity.identity,
      contentType,
      filename: request.query.Filename ?? null,
      category: request.query.Category ?? 'media',
      bytes: body,
      dateCreated: core.clock.now(),
    });
    return reply.code(201).send(mediaRecord(base(request), media));
  });

  app.get<{ Params: Params }>('/Services/:serviceSid/Media/:mediaSid', async (request, reply) => {
    if (!authorize(request, reply)) return reply;
    const media = store.get(request.params.mediaSid as string);
    if (!media || media.serviceSid !== request.params.serviceSid) return fail(reply, 404, 20404, `Media ${request.params.mediaSid} not found`);
    return mediaRecord(base(request), media);
  });

  // the temporary URL: no token (a browser <img> loads it as is)
  app.get<{ Params: Params }>('/Services/:serviceSid/Media/:mediaSid/Content', async (request, reply) => {
    const media = store.get(request.params.mediaSid as string);
    if (!media || media.serviceSid !== request.params.serviceSid) return fail(reply, 404, 20404, `Media ${request.params.mediaSid} not found`);
    return reply.type(media.contentType).send(media.bytes);
  });

  app.post<{ Params: Params }>('/Services/:serviceSid/MediaSet', async (request, reply) => {
    if (!authorize(request, reply)) return reply;
    let query: { command?: string; list?: { media_sid?: string }[] };
    try {
      query = JSON.parse((request.body as Buffer | undefined)?.toString('utf8') ?? '{}') as typeof query;
    } catch {
      return fail(reply, 400, 20001, 'the body must be JSON: {"command": "get", "list": [{"media_sid": "ME…"}]}');
    }
    if (query.command !== 'get' || !Array.isArray(query.list) || query.list.length > 100) {
      return fail(reply, 400, 20001, 'the body must be {"command": "get", "list": [{"media_sid": "ME…"}]} with at most 100 items');
    }
    return query.list.map((item) => {
      const media = typeof item?.media_sid === 'string' ? store.get(item.media_sid) : undefined;
      return media && media.serviceSid === request.params.serviceSid
        ? { code: 200, media_record: mediaRecord(base(request), media) }
        : { code: 404, media_record: { sid: item?.media_sid ?? null } };
    });
  });
}
