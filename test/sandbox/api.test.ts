import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { call, expectApiErrorShape, post } from './helpers.js';

let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({
    rateLimits: false,
    users: [
      { id: 1, first_name: 'Иван', last_name: 'Петров', nickname: 'ivan' },
      { id: 2, first_name: 'Мария', last_name: 'Смирнова', nickname: 'maria' },
    ],
    chats: [
      { id: 101, name: 'Общий' },
      { id: 102, name: 'Новости', channel: true, public: true },
      { id: 103, name: 'Чужой', member_ids: [1, 2], public: true },
    ],
  });
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

describe('auth', () => {
  it('answers 401 OAuthError without a token', async () => {
    const r = await call(sb, 'GET', '/chats', undefined, { token: null });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: 'invalid_token', error_description: expect.any(String) });
  });

  it('accepts only configured tokens and maps them to authors', async () => {
    const s = await startSandbox({ tokens: { good: 1000, other: 2000 }, rateLimits: false });
    try {
      const bad = await call(s, 'GET', '/chats', undefined, { token: 'wrong' });
      expect(bad.status).toBe(401);
      expect(bad.body.error).toBe('invalid_token');
      const r1 = await post(s, { entity_id: 101, content: 'a' }, {}, 'good');
      const r2 = await post(s, { entity_id: 101, content: 'b' }, {}, 'other');
      expect([r1.body.data.user_id, r2.body.data.user_id]).toEqual([1000, 2000]);
      expect(s.store.user(2000)?.bot).toBe(true);
      // Every token's author is a member of the default chats, so is_member lists them.
      const chats = await call(s, 'GET', '/chats', undefined, { token: 'other' });
      expect(chats.body.data.length).toBeGreaterThan(0);
      // The token never shows up in the inspection log.
      const log = await call(s, 'GET', '/__sandbox/requests');
      expect(log.text).not.toContain('good');
    } finally {
      await s.close();
    }
  });
});

describe('POST /messages', () => {
  it('creates a message with the documented shape', async () => {
    const r = await post(
      sb,
      { entity_id: 101, content: 'Отчёт за день', buttons: [[{ text: 'Открыть', url: 'https://example.com' }, { text: 'Ок', data: 'ok' }]] },
      { link_preview: true },
    );
    expect(r.status).toBe(201);
    const m = r.body.data;
    expect(m).toMatchObject({
      entity_type: 'discussion',
      entity_id: 101,
      chat_id: 101,
      root_chat_id: 101,
      content: 'Отчёт за день',
      user_id: 1000,
      thread: null,
      parent_message_id: null,
      display_name: null,
      display_avatar_url: null,
      changed_at: null,
      deleted_at: null,
      buttons: [[{ text: 'Открыть', url: 'https://example.com' }, { text: 'Ок', data: 'ok' }]],
    });
    expect(m.url).toBe(`${sb.origin}/chats/101#message-${m.id}`);
    expect(new Date(m.created_at).toISOString()).toBe(m.created_at);
    expect(sb.store.messages(101)[0]?.link_preview).toBe(true);
  });

  it('treats entity_type case-insensitively and rejects unknown ones with 400 invalid', async () => {
    expect((await post(sb, { entity_type: 'DISCUSSION', entity_id: 101, content: 'x' })).status).toBe(201);
    const r = await post(sb, { entity_type: 'channel', entity_id: 101, content: 'x' });
    expect(r.status).toBe(400);
    expectApiErrorShape(r.body);
    expect(r.body.errors[0]).toMatchObject({ key: 'entity_type', code: 'invalid', value: 'channel' });
  });

  it('validates the body', async () => {
    const cases: Array<[unknown, number, string, string]> = [
      [{ message: { entity_id: 101, content: '   ' } }, 422, 'content', 'blank'],
      [{ message: { entity_id: 101 } }, 400, 'content', 'required'],
      [{ message: { entity_id: 1.5, content: 'x' } }, 400, 'entity_id', 'invalid'],
      [{ message: { content: 'x' } }, 400, 'entity_id', 'required'],
      [{ content: 'x' }, 400, 'message', 'required'],
      [{ message: { entity_id: 101, content: 'x', display_name: 'я'.repeat(256) } }, 422, 'display_name', 'too_long'],
      [{ message: { entity_id: 101, content: 'x', display_avatar_url: 'h'.repeat(256) } }, 422, 'display_avatar_url', 'too_long'],
      [{ message: { entity_id: 101, content: 'ж'.repeat(20_001) } }, 422, 'content', 'too_long'],
      [{ message: { entity_id: 101, content: 'x', buttons: [[{ text: 'a' }]] } }, 422, 'buttons[0][0]', 'invalid'],
      [{ message: { entity_id: 101, content: 'x', buttons: [[{ text: 'a', url: 'ftp://x' }]] } }, 422, 'buttons[0][0].url', 'invalid'],
      [{ message: { entity_id: 101, content: 'x', buttons: [Array(9).fill({ text: 'a', data: 'b' })] } }, 422, 'buttons[0]', 'invalid'],
      [{ message: { entity_id: 101, content: 'x', buttons: Array(13).fill(Array(8).fill({ text: 'a', data: 'b' })) } }, 422, 'buttons', 'invalid'],
      [{ message: { entity_id: 101, content: 'x', buttons: 'no' } }, 400, 'buttons', 'invalid'],
      [{ message: { entity_id: 101, content: 'x' }, link_preview: 'yes' }, 400, 'link_preview', 'invalid'],
    ];
    for (const [body, status, key, code] of cases) {
      const r = await call(sb, 'POST', '/messages', body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expectApiErrorShape(r.body);
      expect(r.body.errors.map((e: any) => [e.key, e.code])).toContainEqual([key, code]);
    }
    expect(sb.store.messages()).toHaveLength(0);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const r = await call(sb, 'POST', '/messages', '{not json');
    expect(r.status).toBe(400);
    expectApiErrorShape(r.body);
  });

  it('accepts exactly 100 buttons', async () => {
    const buttons = [...Array(12).fill(Array(8).fill({ text: 'a', data: 'b' })), Array(4).fill({ text: 'a', data: 'b' })];
    expect((await post(sb, { entity_id: 101, content: 'x', buttons })).status).toBe(201);
  });

  it('answers 404 not_found for an unknown chat, user, thread or parent', async () => {
    for (const message of [
      { entity_id: 999, content: 'x' },
      { entity_type: 'user', entity_id: 999, content: 'x' },
      { entity_type: 'thread', entity_id: 999, content: 'x' },
      { entity_id: 101, content: 'x', parent_message_id: 999 },
    ]) {
      const r = await post(sb, message);
      expect(r.status).toBe(404);
      expectApiErrorShape(r.body);
      expect(r.body.errors[0].code).toBe('not_found');
    }
  });

  it('sends direct messages to a user through one direct chat', async () => {
    const a = await post(sb, { entity_type: 'user', entity_id: 2, content: 'Привет' });
    const b = await post(sb, { entity_type: 'user', entity_id: 2, content: 'Ещё раз' });
    expect(a.status).toBe(201);
    expect(a.body.data).toMatchObject({ entity_type: 'user', entity_id: 2 });
    expect(b.body.data.chat_id).toBe(a.body.data.chat_id);
    const chat = await call(sb, 'GET', `/chats/${a.body.data.chat_id}`);
    expect(chat.body.data).toMatchObject({ personal: true, member_ids: [1000, 2] });
  });

  it('creates threads and posts into them', async () => {
    const root = (await post(sb, { entity_id: 101, content: 'Корень' })).body.data;
    const t1 = await call(sb, 'POST', `/messages/${root.id}/thread`);
    expect(t1.status).toBe(201);
    const thread = t1.body.data;
    expect(thread).toMatchObject({ message_id: root.id, message_chat_id: 101, id: expect.any(Number), chat_id: expect.any(Number) });
    const t2 = await call(sb, 'POST', `/messages/${root.id}/thread`);
    expect(t2.body.data).toEqual(thread);

    const reply = await post(sb, { entity_type: 'thread', entity_id: thread.id, content: 'Ответ', skip_invite_mentions: true });
    expect(reply.status).toBe(201);
    expect(reply.body.data).toMatchObject({ entity_type: 'thread', entity_id: thread.id, chat_id: thread.chat_id, root_chat_id: 101 });

    const list = await call(sb, 'GET', `/messages?chat_id=${thread.chat_id}`);
    expect(list.body.data.map((m: any) => m.content)).toEqual(['Ответ']);
    expect((await call(sb, 'GET', `/messages/${root.id}`)).body.data.thread).toEqual({ id: thread.id, chat_id: thread.chat_id });
    const threads = await call(sb, 'GET', '/threads?limit=10');
    expect(threads.body.data.map((t: any) => t.id)).toEqual([thread.id]);
    const nested = await call(sb, 'POST', `/messages/${reply.body.data.id}/thread`);
    expect(nested.status).toBe(400);
    expect(nested.body.errors[0].code).toBe('thread_message');
    // Thread chats are not listed among chats.
    const chats = await call(sb, 'GET', '/chats');
    expect(chats.body.data.map((c: any) => c.id)).not.toContain(thread.chat_id);
  });
});

describe('edit, read and delete', () => {
  it('edits partially, removes buttons with [], and deletes', async () => {
    const m = (await post(sb, { entity_id: 101, content: 'v1', buttons: [[{ text: 'a', data: 'b' }]], display_name: 'Бот' })).body.data;
    const e1 = await call(sb, 'PUT', `/messages/${m.id}`, { message: { content: 'v2' } });
    expect(e1.status).toBe(200);
    expect(e1.body.data).toMatchObject({ content: 'v2', buttons: [[{ text: 'a', data: 'b' }]], display_name: 'Бот' });
    expect(e1.body.data.changed_at).toEqual(expect.any(String));
    const e2 = await call(sb, 'PUT', `/messages/${m.id}`, { message: { buttons: [] } });
    expect(e2.body.data).toMatchObject({ content: 'v2', buttons: null });
    const bad = await call(sb, 'PUT', `/messages/${m.id}`, { message: { content: '' } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0]).toMatchObject({ key: 'content', code: 'blank' });

    expect((await call(sb, 'GET', `/messages/${m.id}`)).body.data.content).toBe('v2');
    expect((await call(sb, 'DELETE', `/messages/${m.id}`)).status).toBe(204);
    for (const [method, body] of [['GET'], ['DELETE'], ['PUT', { message: { content: 'x' } }]] as const) {
      const r = await call(sb, method, `/messages/${m.id}`, body);
      expect(r.status).toBe(404);
      expect(r.body.errors[0].code).toBe('not_found');
    }
    const list = await call(sb, 'GET', '/messages?chat_id=101');
    expect(list.body.data).toEqual([]);
    expect(sb.store.messages(101)[0]).toMatchObject({ content: 'v2', deleted_at: expect.any(String) });
  });
});

describe('GET /messages pagination', () => {
  async function walk(order: 'asc' | 'desc' | undefined, limit: number): Promise<number[]> {
    const ids: number[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 50; guard++) {
      const q = new URLSearchParams({ chat_id: '101', limit: String(limit) });
      if (order) q.set('order', order);
      if (cursor) q.set('cursor', cursor);
      const r = await call(sb, 'GET', `/messages?${q}`);
      expect(r.status).toBe(200);
      expect(r.body.data.length).toBeLessThanOrEqual(limit);
      expect(typeof r.body.meta.paginate.next_page).toBe('string');
      expect(r.body.meta.paginate.has_prev).toBe(cursor !== undefined);
      ids.push(...r.body.data.map((m: any) => m.id));
      if (!r.body.meta.paginate.has_next) return ids;
      cursor = r.body.meta.paginate.next_page;
    }
    throw new Error('pagination did not end');
  }

  it('walks all pages newest first by default and oldest first with order=asc', async () => {
    const created: number[] = [];
    for (let i = 0; i < 12; i++) created.push((await post(sb, { entity_id: 101, content: `m${i}` })).body.data.id);
    await post(sb, { entity_id: 102, content: 'elsewhere' });
    await call(sb, 'DELETE', `/messages/${created[5]}`);
    const live = created.filter((_, i) => i !== 5);
    expect(await walk(undefined, 5)).toEqual([...live].reverse());
    expect(await walk('desc', 4)).toEqual([...live].reverse());
    expect(await walk('asc', 5)).toEqual(live);
    // An exact multiple of the limit still ends with has_next false on the last full page.
    expect(await walk('asc', 11)).toEqual(live);
  });

  it('goes back with prev_page', async () => {
    for (let i = 0; i < 6; i++) await post(sb, { entity_id: 101, content: `m${i}` });
    const p1 = await call(sb, 'GET', '/messages?chat_id=101&limit=2&order=asc');
    const p2 = await call(sb, 'GET', `/messages?chat_id=101&limit=2&cursor=${p1.body.meta.paginate.next_page}`);
    const back = await call(sb, 'GET', `/messages?chat_id=101&limit=2&cursor=${p2.body.meta.paginate.prev_page}`);
    expect(back.body.data.map((m: any) => m.id)).toEqual(p1.body.data.map((m: any) => m.id));
    expect(back.body.meta.paginate.has_prev).toBe(false);
  });

  it('rejects bad parameters', async () => {
    const cases: Array<[string, number, string]> = [
      ['/messages', 400, 'chat_id'],
      ['/messages?chat_id=abc', 400, 'chat_id'],
      ['/messages?chat_id=101&limit=0', 400, 'limit'],
      ['/messages?chat_id=101&limit=51', 400, 'limit'],
      ['/messages?chat_id=101&order=up', 400, 'order'],
      ['/messages?chat_id=101&cursor=%%%', 400, 'cursor'],
      ['/messages?chat_id=999', 404, 'chat_id'],
    ];
    for (const [path, status, key] of cases) {
      const r = await call(sb, 'GET', path);
      expect(r.status, path).toBe(status);
      expectApiErrorShape(r.body);
      expect(r.body.errors[0].key).toBe(key);
    }
  });
});

describe('chats and users', () => {
  it('lists member chats by default, public ones on request, paginated', async () => {
    const member = await call(sb, 'GET', '/chats?sort=id&order=asc');
    expect(member.body.data.map((c: any) => c.id)).toEqual([101, 102]);
    // No message yet: the spec's last_message_at is never null, it is the chat's creation time.
    expect(member.body.data[0]).toMatchObject({ name: 'Общий', channel: false, personal: false });
    expect(member.body.data[0].last_message_at).toBe(member.body.data[0].created_at);
    const pub = await call(sb, 'GET', '/chats?availability=public&order=asc');
    expect(pub.body.data.map((c: any) => c.id)).toEqual([102, 103]);
    const p1 = await call(sb, 'GET', '/chats?limit=1');
    expect(p1.body.data.map((c: any) => c.id)).toEqual([102]);
    expect(p1.body.meta.paginate.has_next).toBe(true);
    const p2 = await call(sb, 'GET', `/chats?limit=1&cursor=${p1.body.meta.paginate.next_page}`);
    expect(p2.body.data.map((c: any) => c.id)).toEqual([101]);
    expect(p2.body.meta.paginate.has_next).toBe(false);
    expect((await call(sb, 'GET', '/chats?availability=all')).status).toBe(400);
    expect((await call(sb, 'GET', '/chats?last_message_at_after=soon')).status).toBe(400);
  });

  it('filters and sorts by last_message_at', async () => {
    let t = Date.parse('2025-03-01T10:00:00.000Z');
    const s = await startSandbox({ rateLimits: false, now: () => t });
    try {
      await post(s, { entity_id: 102, content: 'старое' });
      t += 3_600_000;
      await post(s, { entity_id: 101, content: 'новое' });
      const sorted = await call(s, 'GET', '/chats?sort=last_message_at&order=desc');
      expect(sorted.body.data.map((c: any) => c.id).slice(0, 2)).toEqual([101, 102]);
      const after = await call(s, 'GET', '/chats?last_message_at_after=2025-03-01T10:30:00.000Z');
      expect(after.body.data.map((c: any) => c.id)).toEqual([101]);
      const before = await call(s, 'GET', '/chats?last_message_at_before=2025-03-01T10:30:00.000Z');
      expect(before.body.data.map((c: any) => c.id)).toEqual([102]);
      expect(after.body.data[0].last_message_at).toBe('2025-03-01T11:00:00.000Z');
    } finally {
      await s.close();
    }
  });

  it('gets single chats and users, 404 for unknown ids', async () => {
    expect((await call(sb, 'GET', '/chats/101')).body.data.name).toBe('Общий');
    expect((await call(sb, 'GET', '/chats/999')).status).toBe(404);
    expect((await call(sb, 'GET', '/users/1')).body.data).toMatchObject({ first_name: 'Иван', nickname: 'ivan', bot: false });
    const missing = await call(sb, 'GET', '/users/999');
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0].code).toBe('not_found');
    const users = await call(sb, 'GET', '/users?limit=2');
    expect(users.body.data.map((u: any) => u.id)).toEqual([1, 2]);
    const rest = await call(sb, 'GET', `/users?limit=2&cursor=${users.body.meta.paginate.next_page}`);
    expect(rest.body.data.map((u: any) => u.id)).toEqual([1000]);
  });

  it('adds chats and users at runtime', async () => {
    sb.store.addUser({ id: 5, first_name: 'Пётр', last_name: 'Иванов', nickname: 'petr' });
    sb.store.addChat({ id: 200, name: 'Новый' });
    expect((await post(sb, { entity_id: 200, content: 'x' })).status).toBe(201);
    expect((await post(sb, { entity_type: 'user', entity_id: 5, content: 'x' })).status).toBe(201);
  });

  it('answers 404 ApiError for unknown API routes', async () => {
    const r = await call(sb, 'GET', '/nope');
    expect(r.status).toBe(404);
    expectApiErrorShape(r.body);
  });
});
