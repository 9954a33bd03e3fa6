/**
 * Unfurl end to end, the way it runs in production: a person shares report links in a chat, the
 * sandbox (as Pachca) sends the Unfurl bot a `message_link_shared` event, and the built CLI's
 * `events` command (a CronJob draining the history) answers it with preview cards — two for the
 * four links (one unknown, one whose job fails), the chart of the job as the card's picture.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { openStateStore } from '../../src/state/index.js';
import { makeProject, runCli, type Project } from '../helpers/project.js';

const CONFIG = `
version: 1
jobs:
  - name: daily-sales
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: static, data: { revenue: 6323801, orders: 513, rows: [{ region: Москва, revenue: 4000000 }, { region: Казань, revenue: 2323801 }] } }
    template: sales.hbs
    target: { chat_id: 101 }
    attachments:
      - chart: { type: bar, data: metrics.rows, x: region, y: revenue, title: "Выручка по регионам" }
  - name: broken
    schedule: "0 9 * * *"
    source: { type: file, path: data/missing.json }
    template: sales.hbs
    target: { chat_id: 101 }
unfurl:
  - pattern: "https://bi.example.ru/sales/daily?date=:date"
    job: daily-sales
    slot: ":date"
  - pattern: "https://bi.example.ru/broken/:id"
    job: broken
`;

describe('link_shared through the events command', () => {
  const TOKEN = 'unfurl-cli-token';
  let sandbox: Sandbox;
  let p: Project;
  beforeAll(async () => {
    sandbox = await startSandbox({ tokens: [TOKEN], bot: { unfurlDomains: ['bi.example.ru'] } });
    p = makeProject({ 'jobs.config.yaml': CONFIG, 'templates/sales.hbs': '📈 **Продажи за {{date slot "d MMMM"}}**\nВыручка: {{currency metrics.revenue}}, {{metrics.orders}} заказов\n' });
  });
  afterAll(async () => {
    await sandbox.close();
    p.cleanup();
  });

  it('a person shares four links: the bot adds two cards (with the chart), ignores one, skips the broken one', async () => {
    const links = [
      'https://bi.example.ru/sales/daily?date=2026-11-30',
      'https://bi.example.ru/sales/daily?date=2026-11-29',
      'https://bi.example.ru/unknown/report',
      'https://bi.example.ru/broken/7',
    ];
    const posted = await fetch(`${sandbox.origin}/__sandbox/chats/101/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: `Смотрите отчёты:\n${links.join('\n')}\nи ещё https://elsewhere.example/x` }),
    });
    expect(posted.status).toBe(201);
    const message = ((await posted.json()) as { data: { id: number; user_id: number } }).data;
    // Only the watched domain's links are in the event, as Pachca sends them.
    const [event] = sandbox.bot.events();
    expect(event).toMatchObject({ event_type: 'message_link_shared', payload: { type: 'message', event: 'link_shared', message_id: message.id, chat_id: 101 } });
    expect((event!.payload.links as Array<{ url: string }>).map((l) => l.url)).toEqual(links);

    const r = await runCli(['events'], { cwd: p.dir, env: { PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sandbox.baseUrl, PACHCA_DIGEST_STATE: `sqlite://${p.dir}/state.db` }, timeoutMs: 60_000 });
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/1 handled/);

    const cards = sandbox.linkPreviews.get(message.id);
    expect(cards.map((c) => c.url)).toEqual([links[0], links[1]]);
    expect(cards[0]!.title).toBe('📈 Продажи за 30 ноября');
    // The job's chart, uploaded through the documented flow and named in the card.
    expect(cards[0]!.image).toMatchObject({ name: expect.stringMatching(/\.png$/), key: expect.any(String) });
    expect(sandbox.uploads.has(cards[0]!.image!.key)).toBe(true);
    // Nothing was posted in the chat, and the handled event left the history.
    expect(sandbox.store.messages(101)).toHaveLength(1);
    expect(sandbox.bot.events()).toHaveLength(0);
  });

  it("the bot's own messages and links to other domains send no event", async () => {
    const before = sandbox.bot.events().length;
    const res = await fetch(`${sandbox.baseUrl}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: { entity_id: 101, content: 'https://bi.example.ru/sales/daily?date=2026-11-30' } }),
    });
    expect(res.status).toBe(201);
    await fetch(`${sandbox.origin}/__sandbox/chats/101/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'https://elsewhere.example/report' }),
    });
    expect(sandbox.bot.events().length).toBe(before);
  });

  it('a link whose preview its author hid (link_preview: false → skip: true) gets no card', async () => {
    const link = 'https://bi.example.ru/sales/daily?date=2026-11-28';
    const posted = await fetch(`${sandbox.origin}/__sandbox/chats/101/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: `Без превью: ${link}`, link_preview: false }),
    });
    expect(posted.status).toBe(201);
    const message = ((await posted.json()) as { data: { id: number } }).data;
    const [event] = sandbox.bot.events().filter((e) => e.payload.message_id === message.id);
    expect(event!.payload.links).toEqual([{ url: link, domain: 'bi.example.ru', skip: true }]);
    const r = await runCli(['events'], { cwd: p.dir, env: { PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sandbox.baseUrl, PACHCA_DIGEST_STATE: `sqlite://${p.dir}/state.db` }, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(sandbox.linkPreviews.get(message.id)).toEqual([]);
    expect(sandbox.bot.events().filter((e) => e.payload.message_id === message.id)).toHaveLength(0);
  });

  it('the events command prunes handled event keys older than a week, and keeps newer ones', async () => {
    const url = `sqlite://${p.dir}/prune.db`;
    let store = await openStateStore(url, { baseDir: p.dir });
    const old = new Date(Date.now() - 8 * 86_400_000);
    await store.interactions.take('event:old', 'x', 60_000, old);
    await store.interactions.complete('event:old', 'x', old);
    await store.interactions.take('event:new', 'x', 60_000, new Date());
    await store.interactions.complete('event:new', 'x', new Date());
    await store.close();
    const r = await runCli(['events'], { cwd: p.dir, env: { PACHCA_TOKEN: TOKEN, PACHCA_API_URL: sandbox.baseUrl, PACHCA_DIGEST_STATE: url }, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    store = await openStateStore(url, { baseDir: p.dir });
    expect(await store.interactions.isDone('event:old')).toBe(false);
    expect(await store.interactions.isDone('event:new')).toBe(true);
    await store.close();
  });
});
