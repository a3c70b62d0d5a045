/** Page `meta` as Twilio writes it: absolute URLs, filters echoed first, then PageSize, Page and PageToken. */

export interface PageMeta {
  page: number;
  page_size: number;
  first_page_url: string;
  previous_page_url: string | null;
  url: string;
  next_page_url: string | null;
  key: string;
}

export interface PageLinks {
  /** absolute list URL without query */
  listUrl: string;
  /** the filters to echo, in the order they were given */
  filters: [string, string][];
  pageSize: number;
  page: number;
  key: string;
  token?: string;
  nextToken?: string;
  previousToken?: string;
}

function pageUrl(l: PageLinks, page: number, token?: string): string {
  const query = new URLSearchParams(l.filters);
  query.set('PageSize', String(l.pageSize));
  query.set('Page', String(page));
  if (token) query.set('PageToken', token);
  return `${l.listUrl}?${query.toString()}`;
}

export function pageMeta(l: PageLinks): PageMeta {
  return {
    page: l.page,
    page_size: l.pageSize,
    first_page_url: pageUrl(l, 0),
    previous_page_url: l.previousToken ? pageUrl(l, Math.max(0, l.page - 1), l.previousToken) : null,
    url: pageUrl(l, l.page, l.token),
    next_page_url: l.nextToken ? pageUrl(l, l.page + 1, l.nextToken) : null,
    key: l.key,
  };
}
