/**
 * Unfurl against the sandbox: a message with four links — two that match rules, one no rule knows,
 * one whose job fails to render — gets exactly two preview cards, and nothing fails for the user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { Emitter, type DigestEvents } from '../../src/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { PachcaClient } from '../../src/pachca/index.js';
import { previewRenderer } from '../../src/pipeline/unfurl.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { handleLinkShared, slotFor, type LinkSharedEvent } from '../../src/unfurl/index.js';
import { makeProject, type Project } from '../helpers/project.js';

const CONFIG = `
version: 1
jobs:
  - name: daily-sales
    schedule: "0 9 * * *"
    timezone: Europe/Moscow
    source: { type: static, data: { revenue: 6323801, orders: 513 } }
    template: sales.hbs
    target: { chat_id: 101 }
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

describe('unfurl on the sandbox', () => {
  let sandbox: Sandbox;
  let p: Project;
  const TOKEN = 'unfurl-token';
  beforeAll(async () => {
    sandbox = await startSandbox({ tokens: [TOKEN] });
    p = makeProject({ 'jobs.config.yaml': CONFIG, 'templates/sales.hbs': '📈 **Продажи за {{date slot "d MMMM"}}**\nВыручка: {{currency metrics.revenue}}, {{metrics.orders}} заказов\n' });
  });
  afterAll(async () => {
    await sandbox.close();
    p.cleanup();
  });

  it('four links: two previews, the unknown one ignored, the failing one skipped, no error', async () => {
    const config = await loadConfig({ cwd: p.dir, env: {} });
    const client = new PachcaClient({ token: TOKEN, baseUrl: sandbox.baseUrl });
    const events = new Emitter<DigestEvents>();
    const seen: Array<DigestEvents['unfurl:preview']> = [];
    events.on('unfurl:preview', (e) => seen.push(e));
    const links = [
      'https://bi.example.ru/sales/daily?date=2026-11-30',
      'https://bi.example.ru/sales/daily?date=2026-11-29&utm=chat',
      'https://bi.example.ru/unknown/report',
      'https://bi.example.ru/broken/7',
    ];
    const [msg] = await client.sendMessage({ entity_type: 'discussion', entity_id: 101, content: `Смотрите:\n${links.join('\n')}` });
    const event: LinkSharedEvent = {
      type: 'message',
      event: 'link_shared',
      chat_id: 101,
      message_id: msg!.id,
      links: links.map((url) => ({ url, domain: 'bi.example.ru', skip: false })),
      user_id: 1,
      created_at: new Date().toISOString(),
      webhook_timestamp: Math.floor(Date.now() / 1000),
    };
    const now = new Date('2026-12-01T12:00:00Z');
    const render = previewRenderer({ config, events, logger: silentLogger, store: null, client: () => client, owner: 'test', now: () => now });
    const result = await handleLinkShared({ config, client, events, render, now }, event);

    expect(result.previews).toEqual([links[0], links[1]]);
    expect(result.ignored).toEqual([links[2]]);
    expect(result.failed.map((f) => f.url)).toEqual([links[3]]);
    const cards = sandbox.linkPreviews.get(msg!.id);
    expect(cards.map((c) => c.url)).toEqual([links[0], links[1]]);
    // 2026-11-30 → the slot of that day (09:00 Moscow); the card's text is plain (no ** markup).
    expect(cards[0]).toMatchObject({ title: '📈 Продажи за 30 ноября', description: expect.stringMatching(/^Выручка: 6\s323\s801(,00)?\s₽, 513 заказов$/u) });
    expect(cards[1]!.title).toBe('📈 Продажи за 29 ноября');
    // Nothing was posted: the chat holds only the user's message.
    expect(sandbox.store.messages(101)).toHaveLength(1);
    expect(seen.filter((e) => e.ok)).toHaveLength(2);
    expect(seen.filter((e) => !e.ok)).toHaveLength(1);
    await client.close();
  });

  it('the sandbox rejects a preview for a URL that is not in the message (the whole request fails, as documented)', async () => {
    const client = new PachcaClient({ token: TOKEN, baseUrl: sandbox.baseUrl, retry: { retries: 0 } } as ConstructorParameters<typeof PachcaClient>[0]);
    const [msg] = await client.sendMessage({ entity_type: 'discussion', entity_id: 101, content: 'https://bi.example.ru/a' });
    await expect(
      client.request('POST', `/messages/${msg!.id}/link_previews`, {
        body: { link_previews: { 'https://bi.example.ru/a': { title: 'A', description: '' }, 'https://other.example/b': { title: 'B', description: '' } } },
      }),
    ).rejects.toMatchObject({ status: 422 });
    expect(sandbox.linkPreviews.get(msg!.id)).toEqual([]);
    await client.close();
  });

  it('slot: a date means the latest slot on that day; a future date is capped at now', () => {
    const job = { schedule: '0 9 * * *', timezone: 'Europe/Moscow' };
    const now = new Date('2026-12-01T12:00:00Z');
    expect(slotFor(job, { slot: ':date' }, { date: '2026-11-30' }, now)?.toISOString()).toBe('2026-11-30T06:00:00.000Z');
    expect(slotFor(job, { slot: ':date' }, { date: '2027-01-01' }, now)?.toISOString()).toBe('2026-12-01T06:00:00.000Z');
    expect(slotFor(job, { slot: ':date' }, { date: 'yesterday' }, now)).toBeNull();
    expect(slotFor(job, {}, {}, now)?.toISOString()).toBe('2026-12-01T06:00:00.000Z');
  });

  it("slot: for a report of the previous day, a link's date is the data's day: the next morning's slot", () => {
    const job = { schedule: '0 9 * * *', timezone: 'Europe/Moscow', period: 'previous_day' as const };
    const now = new Date('2026-12-01T12:00:00Z');
    expect(slotFor(job, { slot: ':date' }, { date: '2026-11-29' }, now)?.toISOString()).toBe('2026-11-30T06:00:00.000Z');
    // Today's numbers are not reported yet: the newest report there is (yesterday's).
    expect(slotFor(job, { slot: ':date' }, { date: '2026-12-01' }, now)?.toISOString()).toBe('2026-12-01T06:00:00.000Z');
    const weekly = { schedule: '0 9 * * 1', timezone: 'Europe/Berlin', period: 'previous_week' as const };
    // Wednesday 18 Nov 2026 is reported on Monday 23 Nov.
    expect(slotFor(weekly, { slot: ':date' }, { date: '2026-11-18' }, now)?.toISOString()).toBe('2026-11-23T08:00:00.000Z');
  });
});
