/**
 * OpenAPI conformance: a representative workload of our client (and of the built CLI) against a
 * strict sandbox that records every exchange; each request our client sent and each answer the
 * sandbox gave is validated against ../shared/reference/pachca-openapi.en.yaml with Ajv
 * (openapi.ts; departures only in spec-quirks.ts). The validator is shown to reject a wrong
 * request and a wrong answer, so a silent pass means something.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PachcaClient, uploadFile, type PachcaApiError } from '../../src/pachca/index.js';
import { API_BASE_PATH, startSandbox, type Sandbox, type SandboxExchange } from '../../src/sandbox/index.js';
import { makeProject, runCli } from '../helpers/project.js';
import { OpenApiConformance } from './openapi.js';
import { SPEC_QUIRKS } from './spec-quirks.js';

/** Raw requests of this test (deliberately invalid ones among them) carry this user agent. */
const RAW_UA = 'conformance-raw-request';
const TOKEN = 'conformance-bot-token';

const oas = new OpenApiConformance();
const exchanges: SandboxExchange[] = [];
let sb: Sandbox;
let client: PachcaClient;

beforeAll(async () => {
  sb = await startSandbox({
    tokens: [TOKEN],
    web: false,
    // Low enough that the workload below meets a 429 of each kind it can.
    rateLimits: { messageRead: { perSecond: 10, burst: 3 }, eventHistory: { perSecond: 2.5, burst: 2 } },
    onExchange: (x) => exchanges.push(x),
  });
  client = new PachcaClient({ token: TOKEN, baseUrl: sb.baseUrl, retry: { baseDelayMs: 20, maxDelayMs: 100, minRetryAfterMs: 50 } });
});
afterAll(async () => {
  await client?.close();
  await sb?.close();
});

async function raw(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = { 'user-agent': RAW_UA };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(sb.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

const apiExchanges = () => exchanges.filter((x) => x.base === API_BASE_PATH);
const violations = (list: SandboxExchange[]) =>
  list.flatMap((x) => oas.check(x, { request: x.request.userAgent !== RAW_UA }).map((p) => `${x.method} ${x.path}${x.query} → ${x.response.status}: ${p}`));

describe('OpenAPI conformance', () => {
  it('the client workload: every request and every answer matches the spec', async () => {
    // Messages: create (chat, DM, thread), read, list, edit, delete.
    const m = await client.createMessage({ entity_type: 'discussion', entity_id: 101, content: 'Сводка за день', buttons: [[{ text: 'Открыть', url: 'https://example.com/r' }, { text: 'Принято', data: 'ack' }]] });
    await client.createMessage({ entity_id: 102, content: 'Без entity_type' });
    const dm = await client.createMessage({ entity_type: 'user', entity_id: 2, content: 'Личное сообщение' });
    const thread = await client.createThread(m.id);
    await client.createMessage({ entity_type: 'thread', entity_id: thread.id, content: 'В тред' });
    await client.getMessage(dm.id);
    await client.updateMessage(m.id, { content: 'Сводка (обновлено)', buttons: [] }, { chatId: 101 });
    const listed = [];
    for await (const x of client.listMessages({ chat_id: 101 }, { limit: 2 })) listed.push(x);
    expect(listed.length).toBeGreaterThan(0);
    for await (const _ of client.listChats({}, { limit: 2 })) void _;
    for await (const _ of client.listUsers({}, { limit: 2 })) void _;
    await client.getUser(1);
    await client.deleteMessage(dm.id, { chatId: dm.chat_id });
    // A file: upload parameters, the direct upload, a message with it.
    const file = await uploadFile(client, { name: 'отчёт.csv', bytes: Buffer.from('a,b\n1,2\n'), contentType: 'text/csv', fileType: 'file' });
    await client.createMessage({ entity_id: 103, content: 'Файл', files: [file] });
    // Event history (poll mode of the buttons) and link previews (unfurl), as the product calls them.
    sb.bot.emit('button_click', { type: 'button', event: 'click', message_id: m.id, trigger_id: 't-1', data: 'ack', user_id: 1, chat_id: 101 });
    const events = await client.request<{ data: Array<{ id: string }> }>('GET', '/webhooks/events', { query: { limit: 50 } });
    expect(events.data.length).toBe(1);
    await client.request('DELETE', `/webhooks/events/${events.data[0]!.id}`);
    const withLink = await client.createMessage({ entity_id: 101, content: 'Отчёт: https://reports.example.com/daily' });
    await client.request('POST', `/messages/${withLink.id}/link_previews`, {
      body: { link_previews: { 'https://reports.example.com/daily': { title: 'Продажи', description: 'За день' } } },
    });
    // Errors the client meets: 404, 401, 429 (reads and event history over their burst).
    expect(((await client.getMessage(999_999).catch((e: unknown) => e)) as PachcaApiError).status).toBe(404);
    const stranger = new PachcaClient({ token: 'not-this-sandbox-token', baseUrl: sb.baseUrl });
    expect(((await stranger.getUser(1).catch((e: unknown) => e)) as PachcaApiError).status).toBe(401);
    await stranger.close();
    await Promise.all(Array.from({ length: 6 }, () => raw('GET', '/messages?chat_id=101&limit=1')));
    await Promise.all(Array.from({ length: 4 }, () => raw('GET', '/webhooks/events?limit=10')));
    // Errors of bad requests (sent raw: our client refuses to build them): 400, 401, 422, 404.
    expect(await raw('POST', '/messages', { message: { entity_id: 101, content: '   ' } })).toBe(422);
    expect(await raw('POST', '/messages', { message: { entity_id: 'сто один', content: 'x' } })).toBe(400);
    expect(await raw('POST', '/messages', { message: { entity_id: 99_999, content: 'x' } })).toBe(404);
    expect(await raw('PUT', `/messages/${m.id}`, { message: { content: 'x'.repeat(50_000) } })).toBe(422);
    expect(await raw('GET', '/chats', undefined, null)).toBe(401);

    const seen = apiExchanges();
    const statuses = new Set(seen.map((x) => x.response.status));
    for (const s of [200, 201, 204, 400, 401, 404, 422, 429]) expect(statuses, `status ${s} exercised`).toContain(s);
    const ops = new Set(seen.map((x) => `${x.method} ${x.template}`));
    for (const op of [
      'POST /messages', 'GET /messages', 'GET /messages/{id}', 'PUT /messages/{id}', 'DELETE /messages/{id}', 'POST /messages/{id}/thread',
      'GET /chats', 'GET /users', 'GET /users/{id}', 'POST /uploads', 'GET /webhooks/events', 'DELETE /webhooks/events/{id}',
      'POST /messages/{id}/link_previews',
    ]) expect(ops, op).toContain(op);
    expect(violations(seen)).toEqual([]);
  });

  it('a digest run of the built CLI: every request it sends and every answer it gets matches the spec', async () => {
    const before = exchanges.length;
    const p = makeProject({
      'jobs.config.yaml': [
        'version: 1',
        'jobs:',
        '  - name: conformance',
        '    schedule: "0 9 * * *"',
        '    source: { type: static, data: { total: 42, teams: [{ name: "Продажи", chat: 101 }, { name: "Разработка", chat: 102 }] } }',
        '    for_each: metrics.teams',
        '    template: t.hbs',
        '    target: { chat_id: "{{item.chat}}" }',
        '',
      ].join('\n'),
      'templates/t.hbs': 'Итого для {{item.name}}: **{{metrics.total}}**\n',
    });
    try {
      const r = await runCli(['run-job', 'conformance'], { cwd: p.dir, env: { PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sb.baseUrl } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, r.stderr).toMatch(/chat:101[\s\S]*chat:102|chat:102[\s\S]*chat:101/);
    } finally {
      p.cleanup();
    }
    const run = exchanges.slice(before).filter((x) => x.base === API_BASE_PATH);
    expect(run.filter((x) => x.method === 'POST' && x.template === '/messages' && x.response.status === 201)).toHaveLength(2);
    expect(violations(run)).toEqual([]);
  });

  it('the validator rejects a wrong request and a wrong answer (it can fail)', () => {
    const ok = apiExchanges().find((x) => x.method === 'POST' && x.template === '/messages' && x.response.status === 201)!;
    expect(oas.check(ok, { request: true })).toEqual([]);
    // A request: entity_id as a string, an unknown entity_type, an undocumented query parameter.
    const badRequest = { ...ok, query: '?dry=1', request: { ...ok.request, body: JSON.stringify({ message: { entity_type: 'channel', entity_id: 'x', content: 'x' } }) } };
    const reqProblems = oas.checkRequest(badRequest);
    expect(reqProblems.join('\n')).toMatch(/query parameter dry is not in the spec/);
    expect(reqProblems.join('\n')).toMatch(/entity_id/);
    expect(reqProblems.join('\n')).toMatch(/entity_type/);
    // An answer: a Message without its id, a chat_id as a string, and a status the spec does not list.
    const data: Record<string, unknown> = { ...(ok.response.body as { data: Record<string, unknown> }).data, chat_id: '101' };
    delete data.id;
    const badAnswer = { ...ok, response: { ...ok.response, body: { data } } };
    const resProblems = oas.checkResponse(badAnswer).join('\n');
    expect(resProblems).toMatch(/must have required property 'id'/);
    expect(resProblems).toMatch(/chat_id must be integer/);
    expect(oas.checkResponse({ ...ok, response: { ...ok.response, status: 409 } }).join('\n')).toMatch(/status 409 is not documented/);
    expect(oas.checkResponse({ ...ok, response: { ...ok.response, contentType: 'text/html' } }).join('\n')).toMatch(/content-type/);
    // The 401 body is OAuthError, not ApiError.
    const unauthorized = apiExchanges().find((x) => x.response.status === 401)!;
    expect(oas.checkResponse({ ...unauthorized, response: { ...unauthorized.response, body: { errors: [] } } }).length).toBeGreaterThan(0);
  });

  it('the nullable-next-to-allOf quirk is needed: without it a real Message (voice_content: null) fails', () => {
    const ok = apiExchanges().find((x) => x.method === 'POST' && x.template === '/messages' && x.response.status === 201)!;
    expect((ok.response.body as { data: { voice_content: unknown } }).data.voice_content).toBeNull();
    expect(SPEC_QUIRKS.map((q) => q.id)).toContain('nullable-next-to-allOf');
    const literal = new OpenApiConformance(undefined, { quirks: false });
    expect(literal.checkResponse(ok).join('\n')).toMatch(/voice_content/);
  });
});
