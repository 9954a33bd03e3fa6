/**
 * The web view's HTTP side, no browser needed: mounting options, the page's JSON API, and the
 * guard on "Run now".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { call, post } from '../sandbox/helpers.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

describe('sandbox web routes', () => {
  it('serves the HTML page at / by default, without a Jobs view unless a provider is given', async () => {
    sb = await startSandbox();
    const res = await fetch(`${sb.origin}/`);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('data-jobs="0"');
    expect(html).toContain(sb.baseUrl);
    expect((await call(sb, 'GET', '/__web/api/jobs')).status).toBe(404);
    expect((await fetch(`${sb.origin}/__web/app.css`)).headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('keeps the plain-text index with web: false, and extra routes at "" next to the page', async () => {
    sb = await startSandbox({ web: false });
    expect(await (await fetch(`${sb.origin}/`)).text()).toMatch(/^Pachca sandbox\nAPI: /);
    expect((await fetch(`${sb.origin}/__web/app.js`)).status).toBe(404);
    await sb.close();

    sb = await startSandbox({
      extraRoutes: () => [{ prefix: '', routes: [{ method: 'GET', path: '/health', handle: () => ({ status: 200, body: 'ok' }) }] }],
    });
    expect(await (await fetch(`${sb.origin}/health`)).text()).toBe('ok');
    expect(await (await fetch(`${sb.origin}/`)).text()).toContain('<!doctype html>');
  });

  it('returns a chat grouped for display: replies and thread messages under the parent, sizes in bytes', async () => {
    sb = await startSandbox({ rateLimits: false });
    const parent = (await post(sb, { entity_id: 101, content: 'Итоги: **готово**' })).body.data;
    const reply = (await post(sb, { entity_id: 101, content: 'Спасибо', parent_message_id: parent.id })).body.data;
    const replyToReply = (await post(sb, { entity_id: 101, content: 'И вам', parent_message_id: reply.id })).body.data;
    const thread = (await call(sb, 'POST', `/messages/${parent.id}/thread`)).body.data;
    const inThread = (await post(sb, { entity_type: 'thread', entity_id: thread.id, content: 'В треде' })).body.data;
    const gone = (await post(sb, { entity_id: 101, content: 'удалю' })).body.data;
    const orphan = (await post(sb, { entity_id: 101, content: 'ответ на удалённое', parent_message_id: gone.id })).body.data;
    await call(sb, 'DELETE', `/messages/${gone.id}`);

    const state = (await fetch(`${sb.origin}/__web/api/state?chat_id=101`).then((r) => r.json())) as any;
    expect(state.chat.messages.map((m: any) => m.id)).toEqual([parent.id, orphan.id]);
    const top = state.chat.messages[0];
    expect(top.bytes).toBe(Buffer.byteLength('Итоги: **готово**'));
    expect(top.replies.map((m: any) => m.id)).toEqual([reply.id, replyToReply.id]);
    expect(top.thread).toMatchObject({ id: thread.id, chat_id: thread.chat_id });
    expect(top.thread.messages.map((m: any) => m.id)).toEqual([inThread.id]);
    expect(state.chat.messages[1].parent_message_id).toBe(gone.id);
    expect(state.chats.map((c: any) => c.id)).not.toContain(thread.chat_id);
    expect(state.chats.find((c: any) => c.id === 101).count).toBe(4);
    expect(state.users.find((u: any) => u.id === 2).nickname).toBe('maria.smirnova');
  });

  it('reports stats and recent requests, newest first, without the token', async () => {
    sb = await startSandbox({ tokens: ['secret-token-123'] });
    sb.faults.add({ kind: 'status', status: 502, path: '/chats', times: 1 });
    await call(sb, 'GET', '/chats', undefined, { token: 'secret-token-123' });
    await call(sb, 'GET', '/chats', undefined, { token: 'secret-token-123' });
    const text = await (await fetch(`${sb.origin}/__web/api/stats`)).text();
    expect(text).not.toContain('secret-token-123');
    const body = JSON.parse(text);
    expect(body.stats.byEndpoint['GET /chats']).toEqual({ '200': 1, '502': 1 });
    expect(body.stats.faultsInjected).toBe(1);
    expect(body.requests.map((r: any) => r.status)).toEqual([200, 502]);
  });

  it('runs a job only for a same-origin JSON request and reports provider errors', async () => {
    const runs: string[] = [];
    sb = await startSandbox({
      web: {
        jobs: {
          list: async () => [],
          async runNow(name) {
            runs.push(name);
            if (name === 'broken') throw new Error('source "crm" timed out');
            const m = sb!.store.createMessage({ entity_type: 'discussion', entity_id: 102, chat_id: 102, content: 'x', user_id: 1000 });
            return { status: 'succeeded', messageIds: [m.id] };
          },
        },
      },
    });
    const run = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      fetch(`${sb!.origin}/__web/api/jobs/run`, { method: 'POST', headers, body: JSON.stringify(body) });

    const ok = await run({ name: 'daily' }, { 'content-type': 'application/json', origin: sb.origin });
    expect(ok.status).toBe(200);
    const data = ((await ok.json()) as any).data;
    expect(data).toMatchObject({ status: 'succeeded', messages: [{ chat_id: 102 }] });
    expect(data.messages[0].id).toBe(data.messageIds[0]);

    const failed = await run({ name: 'broken' });
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as any).data).toMatchObject({ status: 'error', error: 'source "crm" timed out' });

    expect((await run({ name: 'daily' }, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await run({ name: 'daily' }, { 'content-type': 'application/json', origin: 'http://evil.example' })).status).toBe(403);
    expect((await run({})).status).toBe(400);
    expect(runs).toEqual(['daily', 'broken']);
  });
});
