/**
 * Cursor pagination shaped like the real API's `meta.paginate`. A list is a fixed ordered
 * sequence; a cursor is a position in it (the sort key of an item) plus a direction: `next`
 * means "items after this position", `prev` "items before it". Cursors are base64url JSON and
 * carry the sort and order, so following one needs nothing but the cursor and a limit.
 */
import { apiError } from './errors.js';

export type SortOrder = 'asc' | 'desc';
/** Comparable sort key of an item; the last element is always its unique id. */
export type Position = number[];

export interface Cursor {
  d: 'next' | 'prev';
  /** null: the very start of the list (an empty first page). */
  p: Position | null;
  s: string;
  o: SortOrder;
}

export interface Paginate {
  next_page: string;
  prev_page: string;
  has_next: boolean;
  has_prev: boolean;
}

export interface Page<T> {
  data: T[];
  meta: { paginate: Paginate };
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  const bad = () => apiError(400, 'cursor', 'invalid', 'Cursor is invalid', text);
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (
    typeof c !== 'object' ||
    c === null ||
    !['next', 'prev'].includes((c as Cursor).d) ||
    !['asc', 'desc'].includes((c as Cursor).o) ||
    typeof (c as Cursor).s !== 'string' ||
    !((c as Cursor).p === null || (Array.isArray((c as Cursor).p) && (c as Cursor).p!.every(Number.isFinite)))
  ) {
    throw bad();
  }
  return c as Cursor;
}

function compare(a: Position, b: Position): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * One page of `items` (in any order) sorted by `position` in `order`, starting at `cursor`.
 * Linear in the list size: the sandbox holds hundreds of items, not millions.
 */
export function paginate<T>(
  items: readonly T[],
  position: (item: T) => Position,
  opts: { limit: number; order: SortOrder; sort: string; cursor?: Cursor },
): Page<T> {
  const { limit, order, sort, cursor } = opts;
  const sign = order === 'asc' ? 1 : -1;
  const rows = items.map((item) => ({ item, pos: position(item) }));
  rows.sort((a, b) => sign * compare(a.pos, b.pos));
  // Index of the first row strictly after p in list order (p null: the start).
  const after = (p: Position | null) => (p === null ? 0 : firstIndex(rows, (r) => sign * compare(r.pos, p) > 0));
  // Index of the first row at or after p, i.e. the count of rows strictly before p.
  const notBefore = (p: Position | null) => (p === null ? 0 : firstIndex(rows, (r) => sign * compare(r.pos, p) >= 0));

  let start: number;
  let end: number;
  if (!cursor || cursor.d === 'next') {
    start = after(cursor?.p ?? null);
    end = Math.min(rows.length, start + limit);
  } else {
    end = notBefore(cursor.p);
    start = Math.max(0, end - limit);
  }
  const page = rows.slice(start, end);
  const first = page[0];
  const last = page[page.length - 1];
  const mk = (d: Cursor['d'], p: Position | null) => encodeCursor({ d, p, s: sort, o: order });
  // An empty page keeps the request's position, so polling "what came after" keeps working.
  const here = cursor?.p ?? (start > 0 ? rows[start - 1]!.pos : null);
  return {
    data: page.map((r) => r.item),
    meta: {
      paginate: {
        next_page: mk('next', last ? last.pos : here),
        prev_page: mk('prev', first ? first.pos : here),
        has_next: end < rows.length,
        has_prev: start > 0,
      },
    },
  };
}

function firstIndex<R>(rows: R[], pred: (r: R) => boolean): number {
  // Rows are sorted, so the predicate flips once: binary search.
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(rows[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
