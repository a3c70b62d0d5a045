/**
 * One page of a 2010 list (Messages, IncomingPhoneNumbers): `PageSize` (default 50, clamped to 1000), `Page`,
 * `PageToken` keyset-paged like /v1 (store/paging.ts), in the 2010 envelope: the rows under their key, `page`,
 * `page_size`, `start`, `end`, and URIs relative to api.twilio.com.
 */
import type { Database, Row, SqlValue } from '../store/database.js';
import { anchorSeq, formatPageToken, parsePageToken, readPage, type PageToken } from '../store/paging.js';
import { invalidParameter, twilioError } from '../wire/errors.js';
import { pageMeta } from '../wire/page.js';
import { integerParam, one, type Params } from './params.js';

const DEFAULT_PAGE_SIZE = 50;
/** The 2010 API allows pages of up to 1000 (v1: 100); larger asks are clamped, as /v1 clamps. */
const MAX_PAGE_SIZE = 1000;

export interface ListRequest {
  params: Params;
  table: string;
  where: string[];
  args: SqlValue[];
  /** the filters given, echoed in page URIs in that order */
  filters: [string, string][];
  listUrl: string;
  key: string;
  order: 'asc' | 'desc';
  represent: (row: Row) => unknown;
}

export function listPage(db: Database, req: ListRequest): Record<string, unknown> {
  const { params } = req;
  const requested = integerParam(params, 'PageSize');
  if (requested !== undefined && requested < 1) throw invalidParameter(`Invalid PageSize: ${requested}. PageSize must be an integer between 1 and ${MAX_PAGE_SIZE}`);
  const pageSize = Math.min(requested ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const page = integerParam(params, 'Page') ?? 0;
  // beyond 2^53 a number is no longer that integer (and SQLite would see a float)
  if (!Number.isSafeInteger(page)) throw invalidParameter(`Invalid Page: ${one(params, 'Page')}. Page must be at most ${Number.MAX_SAFE_INTEGER}`);
  const rawToken = one(params, 'PageToken');

  let token: PageToken | undefined;
  let seq: number | undefined;
  if (rawToken !== undefined) {
    token = parsePageToken(rawToken);
    seq = token ? anchorSeq(db, req.table, token.sid) : undefined;
    if (!token || seq === undefined) throw twilioError('InvalidPageToken', { value: rawToken });
  }
  // Page without a token pages by offset (store/paging.ts)
  const result = readPage(db, { from: req.table, seqColumn: 'seq', anchorTable: req.table, where: req.where, args: req.args, order: req.order, pageSize, token, page }, seq);
  const first = result.rows[0];
  const last = result.rows[result.rows.length - 1];
  const meta = pageMeta({
    listUrl: req.listUrl,
    filters: req.filters,
    pageSize,
    page,
    key: req.key,
    token: rawToken,
    nextToken: result.hasNext && last ? formatPageToken('after', last.sid as string) : undefined,
    previousToken: result.hasPrevious && first && page > 0 ? formatPageToken('before', first.sid as string) : undefined,
  });
  const start = page * pageSize;
  return {
    end: Math.max(start, start + result.rows.length - 1),
    first_page_uri: meta.first_page_url,
    [req.key]: result.rows.map(req.represent),
    next_page_uri: meta.next_page_url,
    page,
    page_size: pageSize,
    previous_page_uri: meta.previous_page_url,
    start,
    uri: meta.url,
  };
}
