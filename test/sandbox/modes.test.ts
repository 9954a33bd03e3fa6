/**
 * Strict mode (the default, what integration tests use) answers like the real API: one accepted
 * token, 401 OAuthError for any other, 404 ApiError for unknown chats, users, threads and
 * messages. Preview mode accepts anything and says so when it starts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PREVIEW_NOTICE, SANDBOX_DEFAULTS, startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { call, expectApiErrorShape, post } from './helpers.js';

const open: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
async function sandbox(opts: Parameters<typeof startSandbox>[0] = {}): Promise<Sandbox> {
  const s = await startSandbox({ web: false, rateLimits: false, ...opts });
  open.push(s);
  return s;
}

describe('strict mode (default)', () => {
  it('accepts exactly one token by default; any other is 401 OAuthError, as the API answers', async () => {
    const notices: string[] = [];
    const s = await sandbox({ notice: (l) => notices.push(l) });
    expect(s.mode).toBe('strict');
    expect(s.token).toBe(SANDBOX_DEFAULTS.strictToken);
    expect((await call(s, 'GET', '/chats')).status).toBe(200);
    for (const token of ['any-token', 'sandbox', `${s.token}x`]) {
      const r = await call(s, 'GET', '/chats', undefined, { token });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'invalid_token', error_description: 'Access token is invalid' });
    }
    const none = await post(s, { entity_id: 101, content: 'x' }, {}, '');
    expect(none.status).toBe(401);
    expect(s.store.messages()).toHaveLength(0);
    expect(notices).toEqual([]);
  });

  it('a configured token and one accepted later work, nothing else does', async () => {
    const s = await sandbox({ tokens: ['the-bot'] });
    expect(s.token).toBe('the-bot');
    expect((await call(s, 'GET', '/profile', undefined, { token: 'fresh' })).status).toBe(401);
    s.acceptToken('fresh', 2);
    const r = await post(s, { entity_id: 101, content: 'от Марии' }, {}, 'fresh');
    expect(r.status).toBe(201);
    expect(r.body.data.user_id).toBe(2);
  });

  it('unknown chats, users, threads and messages are 404 ApiError, for reads and writes alike', async () => {
    const s = await sandbox();
    const cases: Array<[string, string, unknown?]> = [
      ['POST', '/messages', { message: { entity_id: 99_999, content: 'x' } }],
      ['POST', '/messages', { message: { entity_type: 'user', entity_id: 99_999, content: 'x' } }],
      ['POST', '/messages', { message: { entity_type: 'thread', entity_id: 99_999, content: 'x' } }],
      ['GET', '/messages?chat_id=99999'],
      ['GET', '/chats/99999'],
      ['GET', '/users/99999'],
      ['GET', '/threads/99999'],
      ['GET', '/messages/99999'],
      ['PUT', '/messages/99999', { message: { content: 'x' } }],
      ['DELETE', '/messages/99999'],
      ['POST', '/messages/99999/thread'],
    ];
    for (const [method, path, body] of cases) {
      const r = await call(s, method, path, body);
      expect({ method, path, status: r.status }).toEqual({ method, path, status: 404 });
      expectApiErrorShape(r.body);
      expect(r.body.errors[0].code).toBe('not_found');
    }
    expect(s.store.chat(99_999)).toBeUndefined();
    expect(s.store.messages()).toHaveLength(0);
  });

  it('refuses autoCreateChats: an unknown chat must be a 404, as in Pachca', async () => {
    await expect(startSandbox({ autoCreateChats: true })).rejects.toThrow(/preview-mode option/);
  });
});

describe('preview mode', () => {
  it('accepts any token, creates any chat on first post, and prints a one-line notice when it starts', async () => {
    const notices: string[] = [];
    const s = await sandbox({ mode: 'preview', notice: (l) => notices.push(l) });
    expect(notices).toEqual([PREVIEW_NOTICE]);
    expect(PREVIEW_NOTICE).toMatch(/preview.*any token.*any chat/);
    expect(PREVIEW_NOTICE).not.toMatch(/\n/);
    for (const token of ['whatever', 'sandbox']) expect((await call(s, 'GET', '/chats', undefined, { token })).status).toBe(200);
    const r = await post(s, { entity_id: 777, content: 'x' }, {}, 'whatever');
    expect(r.status).toBe(201);
    expect(s.store.chat(777)?.name).toBeTruthy();
    // Still the API's shape for what it cannot invent: a missing token, an unknown user.
    expect((await call(s, 'GET', '/chats', undefined, { token: null })).status).toBe(401);
    expect((await post(s, { entity_type: 'user', entity_id: 99_999, content: 'x' })).status).toBe(404);
  });

  it('writes the notice to stderr by default', async () => {
    const written: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      await sandbox({ mode: 'preview' });
    } finally {
      process.stderr.write = orig;
    }
    expect(written).toEqual([`${PREVIEW_NOTICE}\n`]);
  });
});
