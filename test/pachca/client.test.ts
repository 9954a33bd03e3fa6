import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DigestError } from '../../src/errors.js';
import { PachcaApiError, PachcaClient, utf8Bytes } from '../../src/pachca/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { clientFor, freshToken, recorder, requestsTo } from './helpers.js';

let sb: Sandbox;
const clients: PachcaClient[] = [];
const client = (opts: Parameters<typeof clientFor>[1] = {}) => {
  const c = clientFor(sb, opts);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  sb = await startSandbox({ rateLimits: false });
});
afterAll(async () => {
  await sb.close();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  sb.reset();
});

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

const times = (entries: { time: string }[]) => entries.map((e) => Date.parse(e.time));

describe('delivery basics', () => {
  it('posts with Bearer auth and the documented body shape (link_preview top level)', async () => {
    const c = client();
    const m = await c.createMessage({ entity_type: 'discussion', entity_id: 101, content: 'Привет', link_preview: false });
    expect(m).toMatchObject({ id: expect.any(Number), chat_id: 101, content: 'Привет', entity_type: 'discussion' });
    const stored = sb.store.messages(101);
    expect(stored.map((s) => s.content)).toEqual(['Привет']);
    expect(stored[0]!.link_preview).toBe(false);
    expect(c.botUserId).toBe(stored[0]!.user_id);
    expect(await c.getMessage(m.id)).toMatchObject({ id: m.id, content: 'Привет' });
    const upd = await c.updateMessage(m.id, { content: 'Привет!' });
    expect(upd.content).toBe('Привет!');
    await c.deleteMessage(m.id);
    expect(sb.store.messages(101)[0]!.deleted_at).not.toBeNull();
  });

  it('creates a thread and posts into it, and sends direct messages to a user', async () => {
    const c = client();
    const root = await c.createMessage({ entity_type: 'discussion', entity_id: 102, content: 'root' });
    const thread = await c.createThread(root.id);
    const reply = await c.createMessage({ entity_type: 'thread', entity_id: thread.id, content: 'reply' });
    expect(reply.chat_id).toBe(thread.chat_id);
    const dm = await c.createMessage({ entity_type: 'user', entity_id: 1, content: 'лично' });
    expect(dm.content).toBe('лично');
    expect((await c.getUser(1)).nickname).toBe('ivan.petrov');
  });
});

describe('errors', () => {
  it('401: not retried, hint about PACHCA_TOKEN, never shows the token', async () => {
    const strict = await startSandbox({ rateLimits: false, tokens: ['the-only-valid-token'] });
    try {
      const token = freshToken();
      sb.acceptToken(token);
      const c = new PachcaClient({ token, baseUrl: strict.baseUrl });
      clients.push(c);
      const e = await failure(c.createMessage({ entity_type: 'discussion', entity_id: 101, content: 'x' }));
      expect(e).toBeInstanceOf(PachcaApiError);
      expect(e).toBeInstanceOf(DigestError);
      expect(e).toMatchObject({ code: 'E_DELIVERY', status: 401, method: 'POST', path: '/messages' });
      expect(e.codes).toContain('invalid_token');
      expect(e.hint).toMatch(/PACHCA_TOKEN/);
      expect(e.hint).toMatch(/«API»/);
      const everything = [e.message, e.hint, e.format(), JSON.stringify(e.toJSON()), String(e.stack)].join('\n');
      expect(everything).not.toContain(token);
      expect(everything).not.toContain('SECRETVALUE');
      expect(strict.requests()).toHaveLength(1);
    } finally {
      await strict.close();
    }
  });

  it('404: not retried, says the chat is missing or the bot is not a member', async () => {
    const c = client();
    const e = await failure(c.createMessage({ entity_type: 'discussion', entity_id: 999, content: 'x' }));
    expect(e).toMatchObject({ code: 'E_DELIVERY', status: 404 });
    expect(e.codes).toContain('not_found');
    expect(e.hint).toMatch(/not a member/);
    expect(requestsTo(sb, 'POST /messages')).toHaveLength(1);
  });

  it('403 insufficient_scope names the missing scope', async () => {
    sb.faults.add({
      kind: 'status',
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'Required scope: messages:create' },
    });
    const e = await failure(client().createMessage({ entity_type: 'discussion', entity_id: 101, content: 'x' }));
    expect(e).toMatchObject({ status: 403, oauthError: 'insufficient_scope' });
    expect(e.hint).toMatch(/messages:create/);
    expect(sb.requests()).toHaveLength(1);
  });

  it('400/422 name the rejected field and are not retried', async () => {
    const e = await failure(client().createMessage({ entity_type: 'discussion', entity_id: 101, content: '   ' }));
    expect([400, 422]).toContain(e.status);
    expect(e.errors[0].key).toBe('content');
    expect(e.hint).toMatch(/content/);
    expect(sb.requests()).toHaveLength(1);
  });

  it('a non-JSON error body (a proxy page) becomes a readable error', async () => {
    sb.faults.add({
      kind: 'status',
      status: 502,
      path: '/users',
      times: Infinity,
      body: '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>',
      headers: { 'content-type': 'text/html' },
    });
    const rec = recorder();
    const e = await failure(client({ events: rec.events }).getUser(1));
    expect(e).toMatchObject({ code: 'E_DELIVERY', status: 502 });
    expect(e.message).toMatch(/502 Bad Gateway/);
    expect(e.message).not.toMatch(/<h1>/);
    // 1 attempt + retry.retries (3)
    expect(requestsTo(sb, 'GET /users/{id}')).toHaveLength(4);
    expect(rec.of('pachca:retry')).toHaveLength(3);
  });
  it('a token echoed back in an error body (a misbehaving proxy) is redacted', async () => {
    const token = freshToken();
    sb.acceptToken(token);
    sb.faults.add({
      kind: 'status',
      status: 400,
      body: { errors: [{ key: 'authorization', value: `Bearer ${token}`, message: `bad header Bearer ${token}`, code: 'invalid', payload: null }] },
    });
    const c = new PachcaClient({ token, baseUrl: sb.baseUrl });
    clients.push(c);
    const e = await failure(c.getUser(1));
    expect(e.status).toBe(400);
    const everything = [e.format(), JSON.stringify(e.toJSON()), JSON.stringify(e.errors)].join('\n');
    expect(everything).toContain('***');
    expect(everything).not.toContain(token);
  });
});

describe('429 and Retry-After', () => {
  it('waits Retry-After in seconds before retrying (never earlier), pausing the bucket', async () => {
    sb.faults.add({ kind: 'rate-limit', retryAfter: 1, method: 'POST', path: '/messages' });
    const rec = recorder();
    const m = await client({ events: rec.events }).createMessage({ entity_type: 'discussion', entity_id: 101, content: 'a' });
    expect(m.content).toBe('a');
    const posts = requestsTo(sb, 'POST /messages');
    expect(posts.map((p) => p.status)).toEqual([429, 201]);
    const [t1, t2] = times(posts);
    expect(t2! - t1!).toBeGreaterThanOrEqual(1000);
    expect(rec.of('pachca:rate-limited')).toMatchObject([{ retryAfterMs: 1000, bucket: 'messageWrite:chat:101' }]);
    expect(rec.of('pachca:paused')).toHaveLength(1);
    expect(sb.store.messages(101)).toHaveLength(1);
  });

  it('waits until a Retry-After HTTP date', async () => {
    const until = new Date(Math.ceil((Date.now() + 1500) / 1000) * 1000);
    sb.faults.add({
      kind: 'status',
      status: 429,
      path: '/chats',
      headers: { 'Retry-After': until.toUTCString() },
      body: { errors: [{ key: 'rate_limit', value: null, message: 'slow down', code: 'rate_limit', payload: null }] },
    });
    const chats = [];
    for await (const chat of client().listChats()) chats.push(chat);
    expect(chats.length).toBeGreaterThan(0);
    const gets = requestsTo(sb, 'GET /chats');
    expect(gets[0]!.status).toBe(429);
    expect(gets[1]!.status).toBe(200);
    expect(Date.parse(gets[1]!.time)).toBeGreaterThanOrEqual(until.getTime());
  });

  it('a Retry-After beyond retry.maxRetryAfterMs fails with a clear E_DELIVERY; later calls on that bucket fail fast, others go on', async () => {
    sb.faults.add({ kind: 'rate-limit', retryAfter: 600, path: '/users' });
    const token = freshToken();
    sb.acceptToken(token);
    const opts = { token, baseUrl: sb.baseUrl, retry: { maxRetryAfterMs: 10_000, baseDelayMs: 20, maxDelayMs: 100 } };
    const c = new PachcaClient(opts);
    clients.push(c);
    const e = await failure(c.getUser(1));
    expect(e).toBeInstanceOf(PachcaApiError);
    expect(e).toMatchObject({ code: 'E_DELIVERY', status: 429, retryAfterMs: 600_000 });
    expect(e.message).toMatch(/600 s/);
    expect(e.hint).toMatch(/retry\.maxRetryAfterMs/);
    expect(e.hint).toMatch(/block a token that keeps sending after a 429/);
    expect(sb.requests()).toHaveLength(1);

    // The `other` bucket stays paused for the whole Retry-After: a later call on it (from this
    // client or another one of the same token) is not sent, and fails at once with the same
    // clear error instead of waiting silently until an outer deadline (here 5 s → E_TIMEOUT).
    const e2 = await failure(c.getUser(2, { signal: AbortSignal.timeout(5_000) }));
    expect(e2).toBeInstanceOf(PachcaApiError);
    expect(e2).toMatchObject({ code: 'E_DELIVERY', status: 429, method: 'GET', path: '/users/2' });
    expect(e2.retryAfterMs).toBeGreaterThan(500_000);
    expect(e2.retryAfterMs).toBeLessThanOrEqual(600_000);
    expect(e2.message).toMatch(/not sent/);
    expect(e2.message).toMatch(/Retry-After/);
    expect(e2.message).toMatch(/600 s/);
    expect(e2.hint).toMatch(/retry\.maxRetryAfterMs/);
    expect(e2.hint).toMatch(/other chats and request classes are not affected/);
    const c2 = new PachcaClient(opts);
    clients.push(c2);
    const e3 = await failure(c2.createThread(1, { signal: AbortSignal.timeout(5_000) }));
    expect(e3).toMatchObject({ code: 'E_DELIVERY', status: 429 });
    expect(sb.requests()).toHaveLength(1);

    // Other buckets are not affected.
    const m = await c.createMessage({ entity_type: 'discussion', entity_id: 101, content: 'ещё можно' });
    expect(m.content).toBe('ещё можно');
    expect((await c.getMessage(m.id)).id).toBe(m.id);
    expect(sb.requests().map((r) => r.endpoint)).toEqual(['GET /users/{id}', 'POST /messages', 'GET /messages/{id}']);
  });
});

describe('retries', () => {
  it('retries 5xx reads with backoff', async () => {
    sb.faults.add({ kind: 'status', status: 503, path: '/users', times: 2 });
    expect((await client().getUser(2)).id).toBe(2);
    expect(requestsTo(sb, 'GET /users/{id}').map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('retries a connection reset before the request was handled', async () => {
    sb.faults.add({ kind: 'reset-before', path: '/users' });
    expect((await client().getUser(3)).id).toBe(3);
    expect(requestsTo(sb, 'GET /users/{id}').map((r) => r.outcome)).toEqual(['reset', 'answered']);
  });

  it('retries after a per-attempt timeout', async () => {
    sb.faults.add({ kind: 'delay', ms: 1000, path: '/users' });
    const rec = recorder();
    const u = await client({ timeouts: { requestMs: 150 }, events: rec.events }).getUser(4);
    expect(u.id).toBe(4);
    expect(rec.of('pachca:retry')[0]!.reason).toBe('E_ATTEMPT_TIMEOUT');
    expect(rec.of('pachca:request').map((r) => r.status)).toEqual(['error', 200]);
  });

  it('uses the undici headers timeout', async () => {
    sb.faults.add({ kind: 'delay', ms: 1000, path: '/users' });
    const rec = recorder();
    const u = await client({ timeouts: { headersMs: 150 }, events: rec.events }).getUser(4);
    expect(u.id).toBe(4);
    expect(rec.of('pachca:retry')[0]!.reason).toBe('UND_ERR_HEADERS_TIMEOUT');
  });

  it('a refused connection is retried, then reported without the token', async () => {
    const token = freshToken();
    sb.acceptToken(token);
    const c = new PachcaClient({ token, baseUrl: 'http://127.0.0.1:9/api/shared/v1', retry: { baseDelayMs: 10, maxDelayMs: 20 } });
    clients.push(c);
    const e = await failure(c.createMessage({ entity_type: 'discussion', entity_id: 1, content: 'x' }));
    expect(e).toMatchObject({ code: 'E_DELIVERY', status: undefined });
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.format()).not.toContain(token);
  });
});

describe('no duplicates on an ambiguous POST', () => {
  it('reset after the message was stored: found by reading the chat, exactly one message', async () => {
    sb.faults.add({ kind: 'reset-after', method: 'POST', path: '/messages' });
    const rec = recorder();
    const m = await client({ events: rec.events }).createMessage({ entity_type: 'discussion', entity_id: 101, content: 'один раз' });
    const stored = sb.store.messages(101);
    expect(stored).toHaveLength(1);
    expect(m.id).toBe(stored[0]!.id);
    expect(rec.of('pachca:deduplicated')).toEqual([{ chatId: 101, messageId: m.id }]);
    expect(requestsTo(sb, 'POST /messages')).toHaveLength(1);
    expect(requestsTo(sb, 'GET /messages')).toHaveLength(1);
  });

  it('the bot posting the same text earlier is not mistaken for the lost message', async () => {
    const c = client();
    await c.createMessage({ entity_type: 'discussion', entity_id: 101, content: 'одинаковый' });
    sb.faults.add({ kind: 'reset-before', method: 'POST', path: '/messages' });
    const m = await c.createMessage({ entity_type: 'discussion', entity_id: 101, content: 'одинаковый' });
    expect(sb.store.messages(101)).toHaveLength(2);
    expect(m.id).toBe(sb.store.messages(101)[1]!.id);
  });

  it('5xx after storing and a timeout after storing: still exactly one message each', async () => {
    const c = client({ timeouts: { requestMs: 200 } });
    sb.faults.add({ kind: 'delay', ms: 1000, when: 'after', method: 'POST', path: '/messages' });
    await c.createMessage({ entity_type: 'discussion', entity_id: 102, content: 'медленно' });
    expect(sb.store.messages(102)).toHaveLength(1);
    sb.faults.add({ kind: 'status', status: 500, method: 'POST', path: '/messages' });
    await c.createMessage({ entity_type: 'discussion', entity_id: 102, content: 'после 500' });
    // The 500 fault answered before storing: the check finds nothing and the retry posts once.
    expect(sb.store.messages(102).map((m) => m.content)).toEqual(['медленно', 'после 500']);
  });

  it('a 5xx storm on POST: gives up after retry.retries, having checked the chat, nothing posted', async () => {
    sb.faults.add({ kind: 'status', status: 503, method: 'POST', path: '/messages', times: Infinity });
    const e = await failure(client().createMessage({ entity_type: 'discussion', entity_id: 103, content: 'шторм' }));
    expect(e).toMatchObject({ code: 'E_DELIVERY', status: 503 });
    expect(requestsTo(sb, 'POST /messages')).toHaveLength(4);
    expect(requestsTo(sb, 'GET /messages')).toHaveLength(4); // before each retry and before giving up
    expect(sb.store.messages(103)).toHaveLength(0);
  });

  it('thread target: the thread chat is looked up (GET /threads/{id}), exactly one message, no hint needed', async () => {
    const root = sb.store.createMessage({ entity_type: 'discussion', entity_id: 103, chat_id: 103, content: 'root', user_id: 1 } as any);
    const { thread } = sb.store.ensureThread(root.id)!;
    sb.faults.add({ kind: 'reset-after', method: 'POST', path: '/messages' });
    const m = await client().createMessage({ entity_type: 'thread', entity_id: thread.id, content: 'в тред' });
    expect(sb.store.messages(thread.chat_id).map((x) => x.content)).toEqual(['в тред']);
    expect(m.id).toBe(sb.store.messages(thread.chat_id)[0]!.id);
    expect(requestsTo(sb, 'POST /messages')).toHaveLength(1);
    expect(requestsTo(sb, 'GET /threads/{id}')).toHaveLength(1);
  });

  it('DM target: the direct chat is found among the personal chats, also when the lost POST created it', async () => {
    const c = client();
    sb.faults.add({ kind: 'status', status: 502, when: 'after', method: 'POST', path: '/messages' });
    const m = await c.createMessage({ entity_type: 'user', entity_id: 2, content: 'лично' });
    const dm = sb.store.messages().filter((x) => x.content === 'лично');
    expect(dm).toHaveLength(1);
    expect(m.id).toBe(dm[0]!.id);
    expect(requestsTo(sb, 'GET /chats').length).toBeGreaterThanOrEqual(1);
    expect(requestsTo(sb, 'POST /messages')).toHaveLength(1);

    // A chat the ledger remembers needs no lookup.
    const other = client();
    other.rememberChat({ entity_type: 'user', entity_id: 2 }, m.chat_id);
    sb.faults.add({ kind: 'reset-after', method: 'POST', path: '/messages' });
    const chatsBefore = requestsTo(sb, 'GET /chats').length;
    await other.createMessage({ entity_type: 'user', entity_id: 2, content: 'ещё лично' });
    expect(sb.store.messages(m.chat_id).map((x) => x.content)).toEqual(['лично', 'ещё лично']);
    expect(requestsTo(sb, 'GET /chats')).toHaveLength(chatsBefore);
  });

  it('an answer slower than the timeout whose message lands later: the settle window finds it', async () => {
    sb.faults.add({ kind: 'late', ms: 700, method: 'POST', path: '/messages' });
    const m = await client({ timeouts: { requestMs: 200 }, retry: { settleMs: 1500 } }).createMessage({ entity_id: 101, content: 'медленный сервер' });
    expect(sb.store.messages(101).map((x) => x.content)).toEqual(['медленный сервер']);
    expect(m.id).toBe(sb.store.messages(101)[0]!.id);
    expect(requestsTo(sb, 'POST /messages')).toHaveLength(1);
  });

  it('findLanded: the one answer for retries and takeovers (bot, content, since, taken)', async () => {
    const c = client();
    const since = Date.now();
    const posted = await c.createMessage({ entity_id: 104, content: '  итог  ' });
    const fresh = client(); // another process: nothing claimed yet
    const taken = new Set<number>();
    const input = { entity_id: 104, content: 'итог' };
    expect((await fresh.findLanded(input, { since, taken }))?.id).toBe(posted.id);
    expect(taken.has(posted.id)).toBe(true);
    // Taken by another key: not found twice; other content, an earlier slot: not found.
    expect(await fresh.findLanded(input, { since, taken })).toBeNull();
    expect(await fresh.findLanded({ entity_id: 104, content: 'другое' }, { since })).toBeNull();
    expect(await fresh.findLanded(input, { since: Date.now() + 60_000 })).toBeNull();
    // The poster itself never claims its own answered message again.
    expect(await c.findLanded(input, { since })).toBeNull();
    // A chat that does not exist holds nothing.
    expect(await fresh.findLanded({ entity_id: 999_999, content: 'итог' }, { since })).toBeNull();
    expect(await fresh.findLanded({ entity_type: 'thread', entity_id: 999_999, content: 'итог' }, { since })).toBeNull();
    expect(await fresh.findLanded({ entity_type: 'user', entity_id: 3, content: 'итог' }, { since })).toBeNull();
  });
});

describe('abort', () => {
  it('an aborted call rejects promptly with E_ABORTED, also while waiting for a retry', async () => {
    sb.faults.add({ kind: 'delay', ms: 5000, path: '/users' });
    const ac = new AbortController();
    const p = client().getUser(1, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const e = await failure(p);
    expect(e).toMatchObject({ code: 'E_ABORTED' });

    sb.faults.add({ kind: 'rate-limit', retryAfter: 30, path: '/users' });
    const e2 = await failure(client().getUser(1, { signal: AbortSignal.timeout(200) }));
    expect(e2).toMatchObject({ code: 'E_TIMEOUT' });
  });

  it('an already aborted signal sends nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    const e = await failure(client().createMessage({ entity_type: 'discussion', entity_id: 101, content: 'x' }, { signal: ac.signal }));
    expect(e).toMatchObject({ code: 'E_ABORTED' });
    expect(sb.requests()).toHaveLength(0);
  });
});

describe('long messages', () => {
  // The sandbox enforces no limits here; pacing is tested elsewhere.
  const rateLimits = { messageWrite: { perSecond: 200, burst: 50 } };
  const long = Array.from({ length: 30 }, (_, i) => `Абзац ${i}: ${'текст '.repeat(8).trim()}`).join('\n\n');

  it('createMessage refuses over-long content without sending anything', async () => {
    const e = await failure(client({ maxMessageBytes: 200 }).createMessage({ entity_type: 'discussion', entity_id: 101, content: long }));
    expect(e).toMatchObject({ code: 'E_DELIVERY' });
    expect(e.message).toMatch(/bytes/);
    expect(e.hint).toMatch(/sendMessage/);
    expect(sb.requests()).toHaveLength(0);
  });

  it('sendMessage delivers every part in order, each within the byte limit', async () => {
    const parts = await client({ maxMessageBytes: 300, rateLimits }).sendMessage({
      entity_type: 'discussion',
      entity_id: 101,
      content: long,
      buttons: [[{ text: 'Открыть', url: 'https://example.com' }]],
    });
    expect(parts.length).toBeGreaterThan(3);
    const stored = sb.store.messages(101);
    expect(stored.map((m) => m.id)).toEqual(parts.map((p) => p.id));
    for (const m of stored) expect(utf8Bytes(m.content)).toBeLessThanOrEqual(300);
    expect(stored.map((m) => m.content).join('\n\n')).toBe(long);
    expect(stored.at(-1)!.buttons).toBeTruthy();
    expect(stored[0]!.buttons ?? null).toBeNull();
  });

  it('splitToThread posts the continuation into the first message thread', async () => {
    const parts = await client({ maxMessageBytes: 300, rateLimits }).sendMessage(
      { entity_type: 'discussion', entity_id: 102, content: long },
      { splitToThread: true },
    );
    const [first, ...rest] = parts;
    expect(first!.chat_id).toBe(102);
    expect(sb.store.messages(102)).toHaveLength(1);
    const thread = sb.store.threads().find((t) => t.message_id === first!.id)!;
    expect(thread).toBeTruthy();
    for (const m of rest) {
      expect(m.entity_type).toBe('thread');
      expect(m.chat_id).toBe(thread.chat_id);
    }
    expect(sb.store.messages(thread.chat_id).map((m) => m.id)).toEqual(rest.map((m) => m.id));
  });
});

describe('lifecycle events (the library surface for logs and metrics)', () => {
  it('request, rate-limited, paused, limiter-wait, retry and deduplicated events: documented shapes, no token', async () => {
    const token = freshToken();
    sb.acceptToken(token);
    const rec = recorder();
    const c = new PachcaClient({ token, baseUrl: sb.baseUrl, events: rec.events, retry: { baseDelayMs: 20, maxDelayMs: 100 } });
    clients.push(c);
    sb.faults.add({ kind: 'rate-limit', retryAfter: 1, method: 'POST', path: '/messages' });
    sb.faults.add({ kind: 'status', status: 503, path: '/users' });
    sb.faults.add({ kind: 'reset-after', method: 'POST', path: '/messages', times: 1 });

    const m = await c.createMessage({ entity_type: 'discussion', entity_id: 101, content: 'события' });
    expect((await c.getUser(1)).id).toBe(1);

    const write = { bucket: 'messageWrite:chat:101', class: 'messageWrite' };
    const n = expect.any(Number);
    expect(rec.log.map((l) => l.event)).toEqual([
      'pachca:request', // POST → 429
      'pachca:paused',
      'pachca:rate-limited',
      'pachca:limiter-wait', // the retry held until Retry-After
      'pachca:request', // POST → reset after storing
      'pachca:retry',
      'pachca:request', // GET /messages: was it stored?
      'pachca:deduplicated',
      'pachca:request', // GET /users/1 → 503
      'pachca:retry',
      'pachca:request', // GET /users/1 → 200
    ]);
    const [req429, pausedEv, limited, wait, reqReset, retryPost, reqCheck, dedup, req503, retryGet, req200] = rec.log.map((l) => l.payload);
    expect(req429).toEqual({ method: 'POST', path: '/messages', status: 429, durationMs: n, attempt: 1, ...write });
    expect(pausedEv).toEqual({ untilMs: n, ...write });
    expect(limited).toEqual({ method: 'POST', path: '/messages', retryAfterMs: 1000, ...write });
    expect(wait).toEqual({ waitedMs: n, ...write });
    expect(wait.waitedMs).toBeGreaterThan(0);
    expect(pausedEv.untilMs).toBeGreaterThan(Date.now() - 60_000);
    expect(reqReset).toEqual({ method: 'POST', path: '/messages', status: 'error', durationMs: n, attempt: 2, ...write });
    expect(retryPost).toEqual({ method: 'POST', path: '/messages', attempt: 2, delayMs: n, reason: expect.any(String) });
    expect(reqCheck).toEqual({ method: 'GET', path: '/messages', status: 200, durationMs: n, attempt: 1, bucket: 'messageRead', class: 'messageRead' });
    expect(dedup).toEqual({ chatId: 101, messageId: m.id });
    expect(req503).toEqual({ method: 'GET', path: '/users/1', status: 503, durationMs: n, attempt: 1, bucket: 'other', class: 'other' });
    expect(retryGet).toEqual({ method: 'GET', path: '/users/1', attempt: 1, delayMs: n, reason: 'status 503' });
    expect(req200).toEqual({ method: 'GET', path: '/users/1', status: 200, durationMs: n, attempt: 2, bucket: 'other', class: 'other' });

    expect(sb.store.messages(101)).toHaveLength(1);
    const everything = JSON.stringify(rec.log);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain('SECRETVALUE');
    expect(everything).not.toMatch(/Bearer|authorization/i);
  });
});
