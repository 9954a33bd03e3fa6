/**
 * Cursor pagination over `meta.paginate`. The end is `has_next: false` — neither an empty page
 * nor a short page (Pachca may return fewer than `limit` items in the middle of a list).
 */
import { DigestError } from '../errors.js';
import type { Paginate } from './types.js';

export interface PageBody<T> {
  data?: T[];
  meta?: { paginate?: Paginate | null } | null;
}

export interface PaginateOptions {
  signal?: AbortSignal;
  /** Page size sent as `limit` (1..50; default 50). */
  limit?: number;
  /** Stop with an error after this many pages (default 1000): a runaway cursor must not loop forever. */
  maxPages?: number;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const DEFAULT_MAX_PAGES = 1000;

/**
 * Iterates the items of every page. `fetchPage(cursor)` returns one page's body (cursor
 * undefined for the first page).
 */
export async function* paginatePages<T>(
  path: string,
  fetchPage: (cursor: string | undefined) => Promise<PageBody<T>>,
  opts: { maxPages?: number } = {},
): AsyncGenerator<T, void, undefined> {
  const maxPages = opts.maxPages ?? DEFAULT_MAX_PAGES;
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 1; ; page++) {
    const body = await fetchPage(cursor);
    const data = Array.isArray(body?.data) ? body.data : [];
    for (const item of data) yield item;
    const p = body?.meta?.paginate ?? undefined;
    const next = typeof p?.next_page === 'string' && p.next_page !== '' ? p.next_page : undefined;
    // has_next is authoritative; lists without it (search) end on an empty page or no cursor.
    const more = typeof p?.has_next === 'boolean' ? p.has_next : next !== undefined && data.length > 0;
    if (!more) return;
    if (next === undefined) {
      throw new DigestError('E_DELIVERY', `Pachca GET ${path}: has_next is true but next_page is missing`, {
        location: { path: `GET ${path}` },
        hint: 'the API answered an inconsistent page; retry later or report it to Pachca support',
      });
    }
    if (seen.has(next)) {
      throw new DigestError('E_DELIVERY', `Pachca GET ${path}: the next_page cursor repeated on page ${page}`, {
        location: { path: `GET ${path}` },
        hint: 'the API returned a cursor it had already returned; stopping instead of looping forever',
      });
    }
    if (page >= maxPages) {
      throw new DigestError('E_DELIVERY', `Pachca GET ${path}: more than ${maxPages} pages`, {
        location: { path: `GET ${path}` },
        hint: 'narrow the query (dates, limit) or raise maxPages',
      });
    }
    seen.add(next);
    cursor = next;
  }
}
