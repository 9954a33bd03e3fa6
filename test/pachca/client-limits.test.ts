/**
 * The client against Pachca's limits: 429s are not retries, edits are paced by their chat, the
 * read-only mode holds for every path, and `entity_type` may be left to the API's default.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PachcaClient } from '../../src/pachca/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { clientFor, freshToken, requestsTo } from './helpers.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});
async function sandbox(opts: Parameters<typeof startSandbox>[0] = {}): Promise<Sandbox> {
  const sb = await startSandbox({ web: false, ...opts });
  open.push(sb);
  return sb;
}
function client(sb: Sandbox, opts: Parameters<typeof clientFor>[1] = {}): PachcaClient {
  const c = clientFor(sb, opts);
  open.push(c);
  return c;
}

describe('429s are not retries', () => {
  it('Retry-After: 0 still waits a growing minimum, and the call fails after retry.rateLimitRetries 429s in a row', async () => {
    const sb = await sandbox({ rateLimits: false });
    sb.faults.add({ method: 'POST', path: '/messages', kind: 'rate-limit', retryAfter: 0, times: 20 });
    const c = client(sb, { retry: { minRetryAfterMs: 150, rateLimitRetries: 3, maxDelayMs: 5000 } });
    const e = await c.createMessage({ entity_type: 'discussion', entity_id: 101, content: 'x' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'E_DELIVERY', status: 429 });
    expect((e as Error).message).toMatch(/4 times in a row.*rateLimitRetries \(3\)/);
    const posts = requestsTo(sb, 'POST /messages');
    expect(posts.map((p) => p.status)).toEqual([429, 429, 429, 429]); // not 21
    const at = posts.map((p) => Date.parse(p.time));
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // 150, 300, 600 ms floors (the machine may add, never subtract).
    expect(gaps[0]).toBeGreaterThanOrEqual(145);
    expect(gaps[1]).toBeGreaterThanOrEqual(295);
    expect(gaps[2]).toBeGreaterThanOrEqual(595);
    expect(sb.store.messages(101)).toHaveLength(0);
  });

  it('a few 429s in a row are waited out and the message is posted once', async () => {
    const sb = await sandbox({ rateLimits: false });
    sb.faults.add({ method: 'POST', path: '/messages', kind: 'rate-limit', retryAfter: 0, times: 2 });
    const c = client(sb, { retry: { minRetryAfterMs: 50 } });
    await c.createMessage({ entity_id: 101, content: 'после двух 429' });
    expect(requestsTo(sb, 'POST /messages').map((p) => p.status)).toEqual([429, 429, 201]);
    expect(sb.store.messages(101)).toHaveLength(1);
  });
});

describe('edits are paced by the chat they touch', () => {
  it('a fresh process editing 12 messages of one chat stays under the per-chat limit: no 429', async () => {
    const sb = await sandbox({ rateLimits: { messageWrite: { perSecond: 4, burst: 5 } } });
    const ids = Array.from({ length: 12 }, (_, i) => sb.store.createMessage({ chat_id: 101, entity_type: 'discussion', entity_id: 101, content: `v1 ${i}`, user_id: 1000 }).id);
    // A client that never saw these messages (another process): it does not know their chat.
    const c = client(sb, { rateLimits: { messageWrite: { perSecond: 4, burst: 5 } } });
    await Promise.all(ids.map((id, i) => c.updateMessage(id, { content: `v2 ${i}` })));
    const puts = requestsTo(sb, 'PUT /messages/{id}');
    expect(puts.filter((p) => p.status === 429)).toHaveLength(0);
    expect(puts).toHaveLength(12);
    expect(sb.store.messages(101).map((m) => m.content)).toEqual(ids.map((_, i) => `v2 ${i}`));
  });

  it('edits with their chat passed are paced per chat, different chats in parallel', async () => {
    const sb = await sandbox({ rateLimits: { messageWrite: { perSecond: 4, burst: 3 } } });
    const a = Array.from({ length: 4 }, (_, i) => sb.store.createMessage({ chat_id: 101, entity_type: 'discussion', entity_id: 101, content: `a${i}`, user_id: 1000 }).id);
    const b = Array.from({ length: 4 }, (_, i) => sb.store.createMessage({ chat_id: 102, entity_type: 'discussion', entity_id: 102, content: `b${i}`, user_id: 1000 }).id);
    const c = client(sb, { rateLimits: { messageWrite: { perSecond: 4, burst: 3 } } });
    await Promise.all([...a.map((id) => c.updateMessage(id, { content: 'A' }, { chatId: 101 })), ...b.map((id) => c.updateMessage(id, { content: 'B' }, { chatId: 102 }))]);
    expect(sb.stats().rateLimited).toBe(0);
  });
});

describe('read-only client', () => {
  it('refuses every write before it leaves — typed method, request(), any case of the method — and still reads', async () => {
    const sb = await sandbox({ rateLimits: false });
    const c = client(sb, { readOnly: true });
    const attempts = [
      c.createMessage({ entity_id: 101, content: 'x' }),
      c.sendMessage({ entity_id: 101, content: 'x' }),
      c.updateMessage(1, { content: 'x' }),
      c.deleteMessage(1),
      c.createThread(1),
      c.request('POST', '/messages', { body: { message: { entity_id: 101, content: 'x' } } }),
      c.request('post', '/messages', { body: { message: { entity_id: 101, content: 'x' } } }),
      c.request('DELETE', '/webhooks/events/1'),
    ];
    for (const p of attempts) await expect(p).rejects.toMatchObject({ code: 'E_READ_ONLY' });
    expect(sb.requests()).toHaveLength(0);
    const users: unknown[] = [];
    for await (const u of c.listUsers()) users.push(u);
    expect(users.length).toBeGreaterThan(0);
  });
});

describe('entity_type is optional (the API default: discussion)', () => {
  it('with 5xx and drops after commit, every message lands exactly once', async () => {
    const sb = await sandbox({ rateLimits: false });
    const c = client(sb, { token: freshToken() });
    for (let i = 0; i < 12; i++) {
      if (i % 3 === 0) sb.faults.add({ method: 'POST', path: '/messages', kind: 'reset-after' });
      if (i % 3 === 1) sb.faults.add({ method: 'POST', path: '/messages', kind: 'status', status: 503 });
      await c.createMessage({ entity_id: 101, content: `без entity_type ${i}` });
    }
    const contents = sb.store.messages(101).map((m) => m.content);
    expect(contents).toEqual(Array.from({ length: 12 }, (_, i) => `без entity_type ${i}`));
    expect(sb.store.messages(101).every((m) => m.entity_type === 'discussion')).toBe(true);
  });
});
