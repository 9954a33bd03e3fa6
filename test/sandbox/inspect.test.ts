import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { call, post } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ rateLimits: false, requestLogSize: 10 });
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

describe('inspection API', () => {
  it('seeds Russian-named defaults and a bot user', async () => {
    const chats = (await call(sb, 'GET', '/__sandbox/chats')).body.data;
    expect(chats.length).toBeGreaterThanOrEqual(3);
    expect(chats.map((c: any) => c.name)).toContain('Общий');
    const users = (await call(sb, 'GET', '/__sandbox/users')).body.data;
    expect(users.find((u: any) => u.id === 1000)).toMatchObject({ bot: true });
  });

  it('shows every message with edit/delete state and link_preview, and counts per chat', async () => {
    const a = (await post(sb, { entity_id: 101, content: 'первое' }, { link_preview: false })).body.data;
    await post(sb, { entity_id: 101, content: 'второе' });
    await post(sb, { entity_id: 102, content: 'другой чат' });
    await call(sb, 'PUT', `/messages/${a.id}`, { message: { content: 'первое, исправлено' } });
    await call(sb, 'DELETE', `/messages/${a.id}`);

    const msgs = (await call(sb, 'GET', '/__sandbox/messages?chat_id=101')).body.data;
    expect(msgs.map((m: any) => m.content)).toEqual(['первое, исправлено', 'второе']);
    expect(msgs[0]).toMatchObject({ link_preview: false, changed_at: expect.any(String), deleted_at: expect.any(String) });
    expect(msgs[1]).toMatchObject({ link_preview: null, deleted_at: null });
    expect((await call(sb, 'GET', '/__sandbox/messages')).body.data).toHaveLength(3);
    expect(sb.store.messages(101)).toHaveLength(2);

    const chats = (await call(sb, 'GET', '/__sandbox/chats')).body.data;
    expect(chats.find((c: any) => c.id === 101)).toMatchObject({ message_count: 1, total_message_count: 2 });
  });

  it('logs requests without secrets, capped, and counts them in stats', async () => {
    for (let i = 0; i < 12; i++) await call(sb, 'GET', '/chats/101');
    await call(sb, 'GET', '/chats/999');
    await call(sb, 'GET', '/chats', undefined, { token: null });
    const log = (await call(sb, 'GET', '/__sandbox/requests')).body.data;
    expect(log.length).toBeLessThanOrEqual(10);
    expect(log.at(-1)).toMatchObject({ method: 'GET', path: '/api/shared/v1/chats', status: 401, endpoint: 'GET /chats' });
    expect(log.at(-2)).toMatchObject({ status: 404, endpoint: 'GET /chats/{id}', bucket: 'other' });
    expect(JSON.stringify(log)).not.toContain('test-token');
    const stats = (await call(sb, 'GET', '/__sandbox/stats')).body.data;
    expect(stats.requests).toBe(14);
    expect(stats.byEndpoint['GET /chats/{id}']).toEqual({ '200': 12, '404': 1 });
    expect(stats.byEndpoint['GET /chats']).toEqual({ '401': 1 });
  });

  it('adds chats and users over HTTP and resets to the seed', async () => {
    expect((await call(sb, 'POST', '/__sandbox/chats', { id: 300, name: 'Тест' })).status).toBe(201);
    expect((await call(sb, 'POST', '/__sandbox/users', { id: 30, first_name: 'Анна', last_name: 'Орлова', nickname: 'anna' })).status).toBe(201);
    expect((await post(sb, { entity_id: 300, content: 'x' })).status).toBe(201);
    expect((await post(sb, { entity_type: 'user', entity_id: 30, content: 'x' })).status).toBe(201);
    sb.faults.add({ kind: 'status', status: 500, times: Infinity, path: '/users' });

    expect((await call(sb, 'POST', '/__sandbox/reset')).status).toBe(200);
    expect(sb.store.chat(300)).toBeUndefined();
    expect(sb.store.messages()).toHaveLength(0);
    expect(sb.faults.list()).toHaveLength(0);
    expect(sb.stats().requests).toBe(0);
    expect((await post(sb, { entity_id: 101, content: 'x' })).body.data.id).toBe(1);
  });

  it('streams message events over SSE', async () => {
    const ac = new AbortController();
    const res = await fetch(`${sb.origin}/__sandbox/events`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const seen: string[] = [];
    const got = (async () => {
      let buf = '';
      while (!buf.includes('event: message:deleted')) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += new TextDecoder().decode(value);
      }
      seen.push(...[...buf.matchAll(/^event: (.+)$/gm)].map((m) => m[1]!));
    })();
    const m = (await post(sb, { entity_id: 101, content: 'живое' })).body.data;
    await call(sb, 'DELETE', `/messages/${m.id}`);
    await got;
    ac.abort();
    expect(seen).toEqual(['message:created', 'message:deleted']);
  });

  it('notifies in-process listeners', async () => {
    const events: string[] = [];
    const off = sb.store.events.on('message:created', ({ message }) => events.push(message.content));
    await post(sb, { entity_id: 101, content: 'событие' });
    off();
    await post(sb, { entity_id: 101, content: 'после отписки' });
    expect(events).toEqual(['событие']);
  });

  it('serves a root page pointing at the API', async () => {
    const res = await fetch(`${sb.origin}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(sb.baseUrl);
  });
});
