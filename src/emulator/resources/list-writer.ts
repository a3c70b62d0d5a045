/**
 * List pages written straight to JSON text. Per route, one compiled function writes a record's spec properties
 * in spec order from the row (its stored fields, engine.storedFields) and from what `represent` adds, and
 * produces exactly the text JSON.stringify would for the projected wire object. It skips that object, its
 * projection and JSON.stringify's scan of every character: SIDs, dates and URLs assembled from checked parts
 * are written as they are, other strings are checked (wire/json.ts). A record holding a value whose JSON
 * depends on context is written by JSON.stringify itself.
 *
 * The text is built by concatenation, and every `+` of long strings is a rope node that V8 allocates and later
 * walks to flatten the page (~10 ns each, thousands per page): what is the same for the whole page (labels, the
 * scope's SIDs, the URL around the row's SID) is joined once per page, so a record costs about two nodes per
 * value that varies.
 */
import type { Row } from '../store/database.js';
import { isoSeconds } from '../wire/dates.js';
import { isPlainJsonText, jsonString, jsonValue, UnusualJsonValue } from '../wire/json.js';
import { projection } from '../wire/projection.js';
import type { OperationContext } from './context.js';
import type { ResourceDescriptor } from './descriptor.js';
import { represent, storedField } from './engine.js';

/** A row's URL below the base URL: literals[0] + row[columns[0]] + literals[1] + … (one more literal than columns). */
export interface UrlPattern {
  literals: string[];
  columns: string[];
}

/** The records of one page of `engine.list` (rows of one scope), as JSON text separated by commas. */
export type PageWriter = (ctx: OperationContext, rows: Row[]) => string;

/** Part of a property's text: literal JSON text, or the row's URL (URL_MARK) */
type Segment = string | null;

/** What every record of a page shares, computed once per page (and kept while pages come from the same scope). */
interface PageState {
  /** what it was computed from: the base URL and the scope's SIDs */
  baseUrl: string;
  scopeSids: unknown[];
  /** by property: label and JSON text of a scope SID (the same in every row) */
  scope: string[];
  /**
   * by property holding the URL: its text split at each occurrence of the row's SID; null when some part
   * needs escaping (each URL is then escaped whole)
   */
  url: string[][] | null;
}

type RecordWriter = (row: Row, added: Record<string, unknown>, page: PageState, ctx: OperationContext) => string;

/** where a URL field holds the row's URL */
const URL_MARK = null;

/**
 * The page writer of a list route, or undefined when the route needs the general path: unusual names, or a URL
 * that is not the row's SID below its scope.
 */
export function compilePageWriter(d: ResourceDescriptor, properties: readonly string[], pattern: UrlPattern | undefined): PageWriter | undefined {
  const scopeColumns = ['account_sid', ...d.parents.map((p) => p.column)];
  const names = [...properties, ...scopeColumns, ...d.columns.map((c) => c.name), ...Object.keys(d.links ?? {})];
  if (!pattern || names.includes('__proto__')) return undefined;
  if (pattern.columns.some((c) => c !== 'sid' && !scopeColumns.includes(c))) return undefined;

  const q = JSON.stringify;
  /** JSON text of a literal, without its quotes */
  const escaped = (text: string) => q(text).slice(1, -1);
  const sidsPerUrl = pattern.columns.filter((c) => c === 'sid').length;
  const scopeFields: { property: number; column: string }[] = [];
  const urlFields: Segment[][] = [];

  /** by property: its label, with an opening quote, with null (see `field`) */
  const labels: string[][] = [];
  const parts = properties.map((key, i) => {
    const label = (i === 0 ? '{' : ',') + q(key) + ':';
    labels.push([label, label + '"', label + 'null'].map(flat));
    const fieldOf = (value: string) => `field(labels[${i}], ${value})`;
    const stored = storedField(d, key);
    let base: string;
    switch (stored?.kind) {
      case undefined:
        base = q(label + 'null');
        break;
      case 'scope':
        scopeFields.push({ property: i, column: stored.column });
        base = `page.scope[${i}]`;
        break;
      case 'column':
        base = stored.column === 'sid' ? `(sidPlain ? ${q(label + '"')} + sid + '"' : ${fieldOf('sid')})` : fieldOf(`row[${q(stored.column)}]`);
        break;
      case 'date': {
        const at = `row[${q(stored.column)}]`;
        const text = `${q(label)} + quotedDate(${at})`;
        base = stored.nullable ? `(${at} === null ? ${q(label + 'null')} : ${text})` : text;
        break;
      }
      case 'url':
      case 'links': {
        const segments: Segment[] =
          stored.kind === 'url'
            ? [label + '"', URL_MARK, '"']
            : stored.paths.length === 0
              ? [label + '{}']
              : [...stored.paths.flatMap(([link, path], j): Segment[] => [(j === 0 ? label + '{' : ',') + q(link) + ':"', URL_MARK, escaped('/' + path) + '"']), '}'];
        const n = urlFields.push(segments) - 1;
        const occurrences = segments.filter((s) => s === URL_MARK).length * sidsPerUrl;
        const fast = Array.from({ length: occurrences + 1 }, (_, j) => `page.url[${n}][${j}]`).join(' + sid + ');
        base = `(fastUrl ? ${fast} : urlField(${n}, ctx.urlOf(name, row)))`;
        break;
      }
    }
    if (d.represent === undefined) return base;
    // what `represent` sets wins; `in` also sees Object.prototype's names, those need an own-property test
    const added = key in Object.prototype ? `Object.hasOwn(added, ${q(key)})` : `${q(key)} in added`;
    return `(${added} ? ${fieldOf(`added[${q(key)}]`)} : ${base})`;
  });
  const body =
    `const sid = row.sid;\n` +
    `const sidPlain = typeof sid === 'string' && isPlain(sid);\n` +
    (urlFields.length ? `const fastUrl = page.url !== null && sidPlain;\n` : '') +
    `return ${parts.length ? parts.join('\n  + ') : `'{'`} + '}';`;
  const urlField = (n: number, url: string): string => {
    const text = escaped(url);
    return urlFields[n].map((s) => (s === URL_MARK ? text : s)).join('');
  };
  const make = new Function('field', 'labels', 'isPlain', 'quotedDate', 'urlField', 'name', `return function writeRecord(row, added, page, ctx) {\n${body}\n};`);
  const writeRecord = make(field, labels, isPlainJsonText, quotedDate, urlField, d.name) as RecordWriter;
  const project = projection(properties);

  let last: PageState | undefined;
  const pageState = (ctx: OperationContext, first: Row): PageState => {
    const scopeSids = scopeColumns.map((c) => first[c]);
    if (last && last.baseUrl === ctx.baseUrl && last.scopeSids.every((sid, i) => sid === scopeSids[i])) return last;
    const scope: string[] = [];
    for (const { property, column } of scopeFields) {
      scope[property] = flat((property === 0 ? '{' : ',') + q(properties[property]) + ':' + jsonValue(first[column]));
    }
    return (last = { baseUrl: ctx.baseUrl, scopeSids, scope, url: urlPieces(ctx, first) });
  };
  /** Each URL field split at the row's SID, if every constant part is plain and the split is what urlOf writes. */
  const urlPieces = (ctx: OperationContext, first: Row): string[][] | null => {
    if (!urlFields.length || typeof first.sid !== 'string') return null;
    const around: string[] = [];
    let current = ctx.baseUrl + pattern.literals[0];
    pattern.columns.forEach((column, i) => {
      if (column === 'sid') {
        around.push(current);
        current = '';
      } else current += String(first[column] ?? '');
      current += pattern.literals[i + 1];
    });
    around.push(current);
    if (!around.every(isPlainJsonText) || ctx.urlOf(d.name, first) !== around.join(first.sid)) return null;
    return urlFields.map((segments) => {
      const pieces = [''];
      for (const segment of segments) {
        if (segment !== URL_MARK) pieces[pieces.length - 1] += segment;
        else {
          pieces[pieces.length - 1] += around[0];
          for (let i = 1; i < around.length; i++) pieces.push(around[i]);
        }
      }
      return pieces.map(flat);
    });
  };

  return (ctx, rows) => {
    if (rows.length === 0) return '';
    const page = pageState(ctx, rows[0]);
    let out = '';
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const added: Record<string, unknown> = {};
      d.represent?.(row, ctx, added);
      let text: string;
      try {
        text = writeRecord(row, added, page, ctx);
      } catch (error) {
        if (!(error instanceof UnusualJsonValue)) throw error;
        text = JSON.stringify(project(represent(ctx, d, row)));
      }
      out += i === 0 ? text : ',' + text;
    }
    return out;
  };
}

/**
 * The same string, flattened: a string joined from parts is a rope, and one used in every record would have its
 * parts walked again in every record when the page is flattened. Reading a character makes V8 flatten it in place.
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

/**
 * A property's label and JSON value. The label's text comes with an opening quote for a plain string, and with
 * `null` for null: one rope node fewer (`labels` is [label, label + '"', label + 'null']).
 */
function field(labels: readonly string[], value: unknown): string {
  if (typeof value === 'string') return isPlainJsonText(value) ? labels[1] + value + '"' : labels[0] + jsonString(value);
  return value === null || value === undefined ? labels[2] : labels[0] + jsonValue(value);
}

let lastDate = '';
let lastQuoted = '""';

/** JSON text of `isoSeconds` (rows of a page mostly share their second: the quoted text is kept). */
function quotedDate(epochMs: number): string {
  const text = isoSeconds(epochMs);
  // isoSeconds writes digits, '-', '+', 'T', ':' and 'Z' only: nothing to escape
  if (text !== lastDate) {
    lastDate = text;
    lastQuoted = JSON.stringify(text);
  }
  return lastQuoted;
}
