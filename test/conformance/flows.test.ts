/**
 * OpenAPI conformance of real flows of the built CLI, not a workload written for the check: a DM
 * fan-out, a long message split into its thread, `delivery: update` across two slots, and a
 * refresh / acknowledge / details click taken from the event history by `events`. Every exchange
 * our client had with the strict sandbox (user-agent pachca-digest; events the test injects are
 * not ours) is validated both ways, the request it sent and the answer it got, against
 * ../shared/reference/pachca-openapi.en.yaml (openapi.ts; departures only in spec-quirks.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_BASE_PATH, startSandbox, type Sandbox, type SandboxExchange } from '../../src/sandbox/index.js';
import { makeProject, runCli, type Project } from '../helpers/project.js';
import { OpenApiConformance } from './openapi.js';

const TOKEN = 'conformance-flows-token';
const oas = new OpenApiConformance();
const exchanges: SandboxExchange[] = [];
let sb: Sandbox;
let p: Project;

const CONFIG = `
version: 1
pachca:
  max_message_bytes: 1000
events: { mode: poll }
jobs:
  - name: people
    schedule: "0 9 * * *"
    timezone: UTC
    source: { type: static, data: { people: [{ id: 2, name: Мария }, { id: 3, name: Алексей }, { id: 4, name: Ольга }] } }
    for_each: metrics.people
    template: person.hbs
    target: { user_id: "{{item.id}}" }
  - name: long
    schedule: "0 9 * * *"
    timezone: UTC
    split_to_thread: true
    source: { type: static, data: { paras: [1, 2, 3, 4, 5, 6] } }
    template: long.hbs
    target: { chat_id: 101 }
  - name: board
    schedule: "0 9 * * *"
    timezone: UTC
    delivery: update
    source: { type: static, data: {} }
    template: board.hbs
    target: { chat_id: 102 }
  - name: sales
    description: Продажи
    schedule: "0 9 * * *"
    timezone: UTC
    source: { type: file, path: data.json }
    template: sales.hbs
    target:
      chat_id: 103
      buttons:
        - - { text: "🔄 Обновить", action: refresh }
          - { text: "✅ Принято", action: acknowledge }
          - { text: "Подробнее", action: details, template: details.hbs }
`;

const TEMPLATES = {
  'templates/person.hbs': 'Привет, {{item.name}}! Ваши задачи на {{date slot "d MMMM"}}.\n',
  'templates/long.hbs': `{{#each metrics.paras}}Абзац {{this}}: ${'длинный текст сводки '.repeat(12)}\n\n{{/each}}`,
  'templates/board.hbs': 'Доска на {{date slot "d MMMM"}}\n',
  'templates/sales.hbs': 'Продажи: **{{metrics.total}}**\n',
  'templates/details.hbs': 'Подробно: {{metrics.total}} за {{metrics.days}} дн.\n',
  'data.json': '{"total": 10, "days": 7}',
};

beforeAll(async () => {
  sb = await startSandbox({ tokens: [TOKEN], web: false, onExchange: (x) => exchanges.push(x) });
  p = makeProject({ 'jobs.config.yaml': CONFIG, ...TEMPLATES });
});
afterAll(async () => {
  p?.cleanup();
  await sb?.close();
});

const env = () => ({ PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sb.baseUrl });
/** Our client's exchanges (the API, not the direct upload URL) since `from`. */
const ours = (from: number) => exchanges.slice(from).filter((x) => x.base === API_BASE_PATH && (x.request.userAgent ?? '').startsWith('pachca-digest'));
const violations = (list: SandboxExchange[]) => list.flatMap((x) => oas.check(x, { request: true }).map((problem) => `${x.method} ${x.path}${x.query} → ${x.response.status}: ${problem}`));
const ops = (list: SandboxExchange[]) => new Set(list.map((x) => `${x.method} ${x.template} ${x.response.status}`));

async function cli(args: string[]): Promise<void> {
  const r = await runCli(args, { cwd: p.dir, env: env(), timeoutMs: 60_000 });
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
}

describe('OpenAPI conformance of the CLI\'s real flows', () => {
  it('a DM fan-out: the direct messages, and every request and answer of the run', async () => {
    const from = exchanges.length;
    await cli(['run-job', 'people', '--slot', '2026-12-01T09:00:00Z']);
    const run = ours(from);
    expect(run.filter((x) => x.method === 'POST' && x.template === '/messages' && x.response.status === 201)).toHaveLength(3);
    expect(sb.store.messages().filter((m) => m.entity_type === 'user')).toHaveLength(3);
    expect(violations(run)).toEqual([]);
  });

  it('a DM fan-out whose 2nd post is stored but answered 502: the lookup that finds it before anything is re-sent', async () => {
    const from = exchanges.length;
    sb.faults.add({ method: 'POST', path: '/messages', skip: 1, kind: 'status', status: 502, when: 'after' });
    await cli(['run-job', 'people', '--slot', '2026-12-02T09:00:00Z']);
    expect(sb.faults.list()).toHaveLength(0);
    // One DM per person for the slot: the stored one was found, not posted again.
    expect(sb.store.messages().filter((m) => m.entity_type === 'user' && m.content.includes('2 декабря'))).toHaveLength(3);
    const run = ours(from);
    // The DM's messages since the slot, in its chat (known from the ledger, or looked up with GET /chats?personal=true).
    expect([...ops(run)]).toEqual(expect.arrayContaining(['GET /messages 200']));
    expect(violations(run)).toEqual([]);
  });

  it('a long message split into its thread: the first part, the thread, the replies', async () => {
    const from = exchanges.length;
    await cli(['run-job', 'long', '--slot', '2026-12-01T09:00:00Z']);
    const run = ours(from);
    expect([...ops(run)]).toEqual(expect.arrayContaining(['POST /messages 201', 'POST /messages/{id}/thread 201']));
    const replies = run.filter((x) => x.method === 'POST' && x.template === '/messages' && /"entity_type":"thread"/.test(x.request.body));
    expect(replies.length).toBeGreaterThanOrEqual(2);
    expect(violations(run)).toEqual([]);
  });

  it('delivery: update across two slots: the second run edits the first message', async () => {
    const from = exchanges.length;
    await cli(['run-job', 'board', '--slot', '2026-12-01T09:00:00Z']);
    await cli(['run-job', 'board', '--slot', '2026-12-02T09:00:00Z']);
    const run = ours(from);
    expect([...ops(run)]).toEqual(expect.arrayContaining(['POST /messages 201', 'PUT /messages/{id} 200']));
    expect(sb.store.messages(102).map((m) => m.content)).toEqual(['Доска на 2 декабря']);
    expect(violations(run)).toEqual([]);
  });

  it('button clicks taken from the event history by `events`: refresh, acknowledge, details', async () => {
    const from = exchanges.length;
    await cli(['run-job', 'sales', '--slot', '2026-12-01T09:00:00Z']);
    const [m] = sb.store.messages(103);
    expect(m?.content).toContain('Продажи: **10**');
    writeFileSync(join(p.dir, 'data.json'), '{"total": 42, "days": 7}');
    sb.bot.click({ messageId: m!.id, userId: 2, text: '🔄 Обновить' });
    sb.bot.click({ messageId: m!.id, userId: 3, text: '✅ Принято' });
    sb.bot.click({ messageId: m!.id, userId: 4, text: 'Подробнее' });
    await cli(['events']);
    expect(sb.store.message(m!.id)!.content).toMatch(/^Продажи: \*\*42\*\*\n\nПринято: /);
    expect(sb.store.messages().filter((x) => x.entity_type === 'user' && x.entity_id === 4 && x.content.startsWith('Подробно')).map((x) => x.content)).toEqual(['Подробно: 42 за 7 дн.']);
    expect(sb.bot.events()).toEqual([]);
    const run = ours(from);
    expect([...ops(run)]).toEqual(
      expect.arrayContaining(['POST /messages 201', 'GET /webhooks/events 200', 'DELETE /webhooks/events/{id} 204', 'PUT /messages/{id} 200', 'GET /messages/{id} 200', 'GET /users/{id} 200']),
    );
    expect(violations(run)).toEqual([]);
  });

  it('the bot from the CLI: `bot webhook --url` and `bot status`', async () => {
    const from = exchanges.length;
    await cli(['bot', 'webhook', '--url', 'https://digest.example.ru/pachca/webhook']);
    await cli(['bot', 'status']);
    const run = ours(from);
    expect([...ops(run)]).toEqual(expect.arrayContaining(['PUT /bot/webhook 200', 'GET /oauth/token/info 200', 'GET /webhooks/events 200']));
    expect(violations(run)).toEqual([]);
  });

  it('the check covered every exchange of the flows: only the direct upload URL and nothing of anyone else is left out', () => {
    const api = exchanges.filter((x) => x.base === API_BASE_PATH);
    expect(api.length).toBeGreaterThan(15);
    expect(api.filter((x) => !(x.request.userAgent ?? '').startsWith('pachca-digest'))).toEqual([]);
  });
});
