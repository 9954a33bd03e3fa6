import { describe, expect, it } from 'vitest';
import { decodeCursor, paginate, type Cursor } from '../../src/sandbox/pagination.js';

const items = [5, 1, 9, 3, 7].map((id) => ({ id }));
const pos = (i: { id: number }) => [i.id];

function walk(order: 'asc' | 'desc', limit: number): number[][] {
  const pages: number[][] = [];
  let cursor: Cursor | undefined;
  for (;;) {
    const p = paginate(items, pos, { limit, order, sort: 'id', cursor });
    pages.push(p.data.map((i) => i.id));
    if (!p.meta.paginate.has_next) return pages;
    cursor = decodeCursor(p.meta.paginate.next_page);
  }
}

describe('paginate', () => {
  it('splits a sorted list into pages in both orders', () => {
    expect(walk('asc', 2)).toEqual([[1, 3], [5, 7], [9]]);
    expect(walk('desc', 2)).toEqual([[9, 7], [5, 3], [1]]);
    expect(walk('desc', 5)).toEqual([[9, 7, 5, 3, 1]]);
  });

  it('keeps position on an empty page so polling finds later items', () => {
    const last = paginate(items, pos, { limit: 10, order: 'asc', sort: 'id' });
    const cursor = decodeCursor(last.meta.paginate.next_page);
    const empty = paginate(items, pos, { limit: 10, order: 'asc', sort: 'id', cursor });
    expect(empty.data).toEqual([]);
    const later = paginate([...items, { id: 11 }], pos, {
      limit: 10,
      order: 'asc',
      sort: 'id',
      cursor: decodeCursor(empty.meta.paginate.next_page),
    });
    expect(later.data).toEqual([{ id: 11 }]);
  });

  it('pages backwards with prev cursors', () => {
    const p2 = paginate(items, pos, { limit: 2, order: 'asc', sort: 'id', cursor: { d: 'next', p: [3], s: 'id', o: 'asc' } });
    expect(p2.data.map((i) => i.id)).toEqual([5, 7]);
    expect(p2.meta.paginate).toMatchObject({ has_prev: true, has_next: true });
    const back = paginate(items, pos, { limit: 2, order: 'asc', sort: 'id', cursor: decodeCursor(p2.meta.paginate.prev_page) });
    expect(back.data.map((i) => i.id)).toEqual([1, 3]);
    expect(back.meta.paginate.has_prev).toBe(false);
  });

  it('rejects cursors it did not make', () => {
    expect(() => decodeCursor('not-a-cursor')).toThrow();
    expect(() => decodeCursor(Buffer.from('{"d":"sideways"}').toString('base64url'))).toThrow();
  });
});
