/**
 * The token-wide budget ("Rate limit: ~50 req/sec" in Pachca's bot guide): every API request of a
 * token counts, whatever its class or chat, and each sandbox instance can be given its own limits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DOCUMENTED_LIMITS, startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { call, expectApiErrorShape, post } from './helpers.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

describe('token-wide rate limit', () => {
  it('counts every method and every chat of a token against one budget', async () => {
    let t = 5_000_000;
    sb = await startSandbox({ tokens: ['first-token', 'another-token'], now: () => t, rateLimits: { token: { perSecond: 2, burst: 4 } } });
    // Four requests to four different buckets (two chats, reads, other): each class has room left.
    expect((await post(sb, { entity_id: 101, content: 'a' })).status).toBe(201);
    expect((await post(sb, { entity_id: 102, content: 'b' })).status).toBe(201);
    expect((await call(sb, 'GET', '/messages?chat_id=101')).status).toBe(200);
    expect((await call(sb, 'GET', '/chats')).status).toBe(200);
    const limited = await call(sb, 'GET', '/users');
    expect(limited.status).toBe(429);
    expectApiErrorShape(limited.body);
    expect(limited.body.errors[0].code).toBe('rate_limit');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another token has its own budget.
    expect((await call(sb, 'GET', '/users', undefined, { token: 'another-token' })).status).toBe(200);

    t += 500; // one request's worth at 2/s
    expect((await post(sb, { entity_id: 103, content: 'c' })).status).toBe(201);
    expect((await post(sb, { entity_id: 103, content: 'd' })).status).toBe(429);
    expect(sb.stats().rateLimitedBy).toEqual({ token: 2 });
    expect(sb.requests().filter((r) => r.status === 429).map((r) => r.limitedBy)).toEqual(['token', 'token']);
    expect(sb.store.messages(103).map((m) => m.content)).toEqual(['c']);
  });

  it('a request its class refuses still counts against the token', async () => {
    let t = 9_000_000;
    sb = await startSandbox({ now: () => t, rateLimits: { token: { perSecond: 1, burst: 3 }, messageWrite: { perSecond: 0.1, burst: 1 } } });
    expect((await post(sb, { entity_id: 101, content: '1' })).status).toBe(201);
    const byChat = await post(sb, { entity_id: 101, content: '2' });
    expect(byChat.status).toBe(429);
    expect((await call(sb, 'GET', '/chats')).status).toBe(200);
    // 3 requests made, budget 3: the refused POST used one.
    expect((await call(sb, 'GET', '/chats')).status).toBe(429);
    expect(sb.requests().map((r) => r.limitedBy)).toEqual([null, 'messageWrite', null, 'token']);
    t += 1_000;
    expect((await call(sb, 'GET', '/chats')).status).toBe(200);
  });

  it('the documented limits are the default, overridable per limit and per instance', async () => {
    sb = await startSandbox({ rateLimits: { token: { perSecond: 30 }, messageWrite: { burst: 3 } } });
    expect(DOCUMENTED_LIMITS.token).toEqual({ perSecond: 50, burst: 50 });
    expect(sb.rateLimits!.token).toEqual({ perSecond: 30, burst: 50 });
    expect(sb.rateLimits!.messageWrite).toEqual({ perSecond: DOCUMENTED_LIMITS.messageWrite.perSecond, burst: 3 });
    expect(sb.rateLimits!.other).toEqual(DOCUMENTED_LIMITS.other);
    const other = await startSandbox({});
    try {
      expect(other.rateLimits).toEqual(DOCUMENTED_LIMITS);
    } finally {
      await other.close();
    }
    await expect(startSandbox({ rateLimits: { token: { perSecond: 0 } } })).rejects.toThrow(/rateLimits\.token/);
  });

  it('really waiting Retry-After after a burst over all methods is enough', async () => {
    sb = await startSandbox({ rateLimits: { token: { perSecond: 2, burst: 5 } } });
    const paths = ['/chats', '/users', '/messages?chat_id=101', '/threads', '/profile', '/chats/101', '/users/1', '/chats'];
    const answers = await Promise.all([...paths, ...paths].map((p) => call(sb!, 'GET', p)));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, Number(limited[0]!.headers.get('retry-after')) * 1000));
    expect((await call(sb, 'GET', '/chats')).status).toBe(200);
  });
});

describe('direct messages and the per-chat write limit', () => {
  it('each recipient of a DM is its own chat: a DM fan-out is not held to one chat\u2019s rate', async () => {
    const users = [1, 2, 3, 4, 5].map((i) => ({ id: 900 + i, first_name: `Имя${i}`, last_name: 'Тестов', nickname: `dm${i}` }));
    sb = await startSandbox({ users, now: () => 7_000_000, rateLimits: { messageWrite: { perSecond: 1, burst: 1 } } });
    // Five recipients at once: five chats, one message each, within a burst of 1 per chat.
    for (const u of users) expect((await post(sb, { entity_type: 'user', entity_id: u.id, content: `привет ${u.id}` })).status).toBe(201);
    // A second DM to the same person is the same chat, by user id or by the chat's id: its burst is spent.
    expect((await post(sb, { entity_type: 'user', entity_id: 901, content: 'ещё' })).status).toBe(429);
    const chatId = sb.store.messages().find((m) => m.content === 'привет 902')!.chat_id;
    expect((await post(sb, { entity_id: chatId, content: 'в чат' })).status).toBe(429);
    expect(sb.requests().filter((r) => r.status === 429).map((r) => r.limitedBy)).toEqual(['messageWrite', 'messageWrite']);
  });
});
