/** A list answer: `{<key>: [...], meta}` with page URLs built from the request. */
import { pageMeta, type PageMeta } from '../wire/page.js';
import type { ListPage } from './engine.js';
import type { Answer, Call } from './operation.js';

/** Query parameters that select rows and are echoed in page URLs (PageSize, Page, PageToken are added after). */
function echoedFilters(call: Call): [string, string][] {
  const filters: [string, string][] = [];
  for (const p of call.op.params) {
    if (p.in !== 'query' || p.name === 'PageSize' || p.name === 'Page' || p.name === 'PageToken') continue;
    const value = call.input[p.name];
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) filters.push([p.name, String(v)]);
  }
  return filters;
}

function meta(call: Call, page: ListPage): PageMeta {
  return pageMeta({
    listUrl: call.ctx.baseUrl + call.ctx.requestPath,
    filters: echoedFilters(call),
    pageSize: call.pageSize,
    page: typeof call.input.Page === 'number' ? call.input.Page : 0,
    key: call.op.listKey as string,
    token: call.input.PageToken as string | undefined,
    nextToken: page.nextToken,
    previousToken: page.previousToken,
  });
}

export function list(call: Call, page: ListPage, records: Record<string, unknown>[]): Answer {
  return { status: 200, body: { [call.op.listKey as string]: records, meta: meta(call, page) } };
}

/** The same answer with its records already written as JSON text (list-writer.ts): the body as JSON text. */
export function listText(call: Call, page: ListPage, records: string): Answer {
  return { status: 200, json: `{${JSON.stringify(call.op.listKey as string)}:[${records}],"meta":${JSON.stringify(meta(call, page))}}` };
}
