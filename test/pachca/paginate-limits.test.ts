import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PachcaClient, paginatePages } from '../../src/pachca/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { freshToken, recorder } from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const sandboxes = new Map<string, Sandbox>();
async function sandbox(opts: Parameters<typeof startSandbox>[0]): Promise<Sandbox> {
  const sb = await startSandbox(opts);
  sandboxes.set(sb.baseUrl, sb);
  cleanup.push(() => sb.close());
  return sb;
}
/** A client of `baseUrl`; a (strict) sandbox there is told to accept its token. */
function client(baseUrl: string, opts: Partial<ConstructorParameters<typeof PachcaClient>[0]> = {}): PachcaClient {
  const token = opts.token ?? freshToken();
  sandboxes.get(baseUrl)?.acceptToken(token);
  const c = new PachcaClient({ token, baseUrl, retry: { baseDelayMs: 10, maxDelayMs: 50 }, ...opts });
  cleanup.push(() => c.close());
  return c;
}
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A real HTTP server answering GET /items from a script of pages keyed by cursor. */
async function pagesServer(pages: Record<string, { data: unknown[]; has_next?: boolean; next_page?: string | null }>) {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen.push(url.search);
    const page = pages[url.searchParams.get('cursor') ?? ''];
    res.setHeader('content-type', 'application/json');
    if (!page) {
      res.statusCode = 400;
      res.end(JSON.stringify({ errors: [{ key: 'cursor', value: null, message: 'bad cursor', code: 'invalid', payload: null }] }));
      return;
    }
    const paginate: Record<string, unknown> = {};
    if (page.has_next !== undefined) paginate.has_next = page.has_next;
    if (page.next_page !== undefined) paginate.next_page = page.next_page;
    res.end(JSON.stringify({ data: page.data, meta: { paginate } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`, seen };
}

describe('pagination', () => {
  it('reads every message of a chat across pages, always sending limit', async () => {
    const sb = await sandbox({ rateLimits: false });
    for (let i = 0; i < 120; i++) {
      sb.store.createMessage({ entity_type: 'discussion', entity_id: 101, chat_id: 101, content: `m${i}`, user_id: 1 } as any);
    }
    const c = client(sb.baseUrl, { rateLimits: { messageRead: { perSecond: 500, burst: 50 } } });
    const all = await collect(c.listMessages({ chat_id: 101 }));
    expect(all).toHaveLength(120);
    expect(new Set(all.map((m) => m.id)).size).toBe(120);
    expect(all[0]!.content).toBe('m119'); // newest first by default
    const asc = await collect(c.listMessages({ chat_id: 101, order: 'asc', limit: 7 }));
    expect(asc.map((m) => m.content)).toEqual(Array.from({ length: 120 }, (_, i) => `m${i}`));
    const gets = sb.requests().filter((r) => r.endpoint === 'GET /messages');
    expect(gets.length).toBe(3 + 18);
    for (const g of gets) expect(g.path).toMatch(/[?&]limit=\d+/);
  });

  it('continues over empty and short pages while has_next is true', async () => {
    const { baseUrl, seen } = await pagesServer({
      '': { data: [1, 2], has_next: true, next_page: 'a' },
      a: { data: [], has_next: true, next_page: 'b' },
      b: { data: [3], has_next: true, next_page: 'c' },
      c: { data: [4, 5], has_next: false, next_page: 'd' },
    });
    const items = await collect(client(baseUrl).paginate<number>('/items', { q: 'x' }, { limit: 2 }));
    expect(items).toEqual([1, 2, 3, 4, 5]);
    expect(seen).toEqual(['?q=x&limit=2', '?q=x&limit=2&cursor=a', '?q=x&limit=2&cursor=b', '?q=x&limit=2&cursor=c']);
  });

  it('fails on a repeated cursor instead of looping forever', async () => {
    const { baseUrl } = await pagesServer({
      '': { data: [1], has_next: true, next_page: 'a' },
      a: { data: [2], has_next: true, next_page: 'b' },
      b: { data: [3], has_next: true, next_page: 'a' },
    });
    const got: number[] = [];
    const e = await (async () => {
      for await (const x of client(baseUrl).paginate<number>('/items')) got.push(x);
    })().catch((x) => x);
    expect(e).toMatchObject({ code: 'E_DELIVERY' });
    expect(e.message).toMatch(/cursor repeated/);
    expect(got).toEqual([1, 2, 3]);
  });

  it('caps the number of pages', async () => {
    const pages: Record<string, { data: unknown[]; has_next: boolean; next_page: string }> = {};
    for (let i = 0; i < 10; i++) pages[i === 0 ? '' : `p${i}`] = { data: [i], has_next: true, next_page: `p${i + 1}` };
    const { baseUrl, seen } = await pagesServer(pages);
    const e = await collect(client(baseUrl).paginate<number>('/items', {}, { maxPages: 3 })).catch((x) => x);
    expect(e).toMatchObject({ code: 'E_DELIVERY' });
    expect(e.message).toMatch(/more than 3 pages/);
    expect(seen).toHaveLength(3);
  });

  it('fails when has_next is true without a cursor; ends without has_next on an empty page', async () => {
    const { baseUrl } = await pagesServer({ '': { data: [1], has_next: true, next_page: null } });
    const e = await collect(client(baseUrl).paginate<number>('/items')).catch((x) => x);
    expect(e.message).toMatch(/next_page is missing/);
    // Search-style lists: only next_page, the end is an empty page.
    const search = await pagesServer({ '': { data: [1], next_page: 'a' }, a: { data: [], next_page: 'b' } });
    expect(await collect(client(search.baseUrl).paginate<number>('/items'))).toEqual([1]);
  });

  it('paginatePages is usable on its own', async () => {
    const pages = [
      { data: ['a'], meta: { paginate: { has_next: true, next_page: '1' } } },
      { data: ['b'], meta: { paginate: { has_next: false, next_page: '2' } } },
    ];
    const items = await collect(paginatePages<string>('/x', async (cursor) => pages[cursor ? Number(cursor) : 0]!));
    expect(items).toEqual(['a', 'b']);
  });
});

describe('one limiter per token', () => {
  it('two clients of one token share the pacing: zero 429s from a sandbox enforcing the limits', async () => {
    const sb = await sandbox({ rateLimits: { messageWrite: { perSecond: 20, burst: 3 }, messageRead: { perSecond: 20, burst: 3 } } });
    const token = freshToken();
    const rateLimits = { messageWrite: { perSecond: 20, burst: 3 }, messageRead: { perSecond: 20, burst: 3 } };
    const rec = recorder();
    const a = client(sb.baseUrl, { token, rateLimits, events: rec.events });
    const b = client(sb.baseUrl, { token, rateLimits, events: rec.events });
    expect(a.limiter).toBe(b.limiter);
    const job = (c: PachcaClient, name: string) =>
      Promise.all(
        Array.from({ length: 15 }, (_, i) =>
          c.createMessage({ entity_type: 'discussion', entity_id: 101 + (i % 2), content: `${name}-${i}` }),
        ),
      );
    const reads = (c: PachcaClient) => Promise.all(Array.from({ length: 8 }, () => collect(c.listMessages({ chat_id: 103 }))));
    await Promise.all([job(a, 'a'), job(b, 'b'), reads(a), reads(b)]);
    expect(sb.stats().rateLimited).toBe(0);
    expect(rec.of('pachca:rate-limited')).toEqual([]);
    expect(rec.of('pachca:limiter-wait').length).toBeGreaterThan(0);
    const contents = [...sb.store.messages(101), ...sb.store.messages(102)].map((m) => m.content).sort();
    expect(contents).toHaveLength(30);
    expect(new Set(contents).size).toBe(30);
  });

  it('without shared pacing the same sandbox does answer 429 (the test can fail)', async () => {
    const sb = await sandbox({ rateLimits: { messageWrite: { perSecond: 20, burst: 3 } } });
    const c = client(sb.baseUrl, { rateLimits: { messageWrite: { perSecond: 1000, burst: 1000 } } });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => c.createMessage({ entity_type: 'discussion', entity_id: 101, content: `x${i}` })),
    );
    expect(sb.stats().rateLimited).toBeGreaterThan(0);
    expect(sb.store.messages(101)).toHaveLength(10); // 429s were waited out, nothing lost or doubled
  });
});
