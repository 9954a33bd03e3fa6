/**
 * The sandbox's web view in a real Chromium: messages posted through the API (real HTTP, a real
 * token) must show up rendered the way Pachca renders them, live, safely.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { escapeMarkdown, finalizeMarkdown } from '../../src/render/escape.js';
import { startSandbox, type Sandbox, type WebJobsProvider } from '../../src/sandbox/index.js';
import { call, post } from '../sandbox/helpers.js';
import { findChromium, launchChromium } from './helpers.js';

const chromium = findChromium();
const VIEWER_ZONE = 'Asia/Vladivostok';
// A 1×1 PNG the avatar route answers with (the page must never reach the internet).
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

if (chromium.skip) {
  describe.skip(`sandbox web view in Chromium — skipped: ${chromium.skip}`, () => {
    it('needs a browser', () => {});
  });
} else {
  describe('sandbox web view in Chromium', () => {
    let sb: Sandbox;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const dialogs: string[] = [];
    const pageErrors: string[] = [];
    const jobRuns: string[] = [];

    const jobs: WebJobsProvider = {
      async list() {
        return [
          {
            name: 'sales-daily',
            description: 'Продажи за вчера',
            schedule: '0 9 * * 1-5',
            scheduleText: 'at 09:00 on Monday–Friday',
            timezone: 'Europe/Moscow',
            enabled: true,
            next: ['2030-01-07T06:00:00.000Z', '2030-01-08T06:00:00.000Z'],
          },
          { name: 'oncall', schedule: '0 10 * * 1', scheduleText: 'at 10:00 on Monday', timezone: 'UTC', enabled: false, next: [] },
        ];
      },
      async runNow(name) {
        jobRuns.push(name);
        if (name !== 'sales-daily') throw new Error(`job "${name}" failed: source timed out`);
        const res = await post(sb, { entity_id: 103, content: '**Продажи** за вчера: 1 200 000 ₽' });
        return { status: 'succeeded', messageIds: [res.body.data.id] };
      },
    };

    /** Posts through the API as a client would; returns the created message. */
    const send = async (message: Record<string, unknown>) => {
      const res = await post(sb, message);
      expect(res.status, res.text).toBe(201);
      return res.body.data as { id: number; chat_id: number; created_at: string };
    };

    /** A fresh load of the page on a chat. */
    const open = async (chatId: number) => {
      await page.goto('about:blank');
      await page.goto(`${sb.origin}/#chat-${chatId}`);
      await page.waitForSelector('.chat-item.active');
    };

    const msg = (id: number) => page.locator(`#message-${id}`);

    beforeAll(async () => {
      sb = await startSandbox({
        tokens: ['test-token'],
        // Per chat and nearly no refill: the 21st post to one chat within a test is a real 429.
        rateLimits: { messageWrite: { perSecond: 0.01, burst: 20 } },
        web: { jobs },
      });
      browser = await launchChromium(chromium.path!);
      context = await browser.newContext({ timezoneId: VIEWER_ZONE, locale: 'ru-RU', viewport: { width: 1280, height: 860 } });
      // Anything else outside the sandbox is a bug in the page (a CDN, a leaked link preview…).
      // Routes registered later are tried first: the avatar host is answered, the rest aborted.
      await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
      await context.route('https://avatars.test/**', (route) => route.fulfill({ status: 200, contentType: 'image/png', body: PNG }));
      await context.addInitScript(() => {
        (globalThis as any).__xss = 'untouched';
      });
      page = await context.newPage();
      page.setDefaultTimeout(10_000);
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      page.on('pageerror', (e) => pageErrors.push(e.message));
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await sb?.close();
    });

    beforeEach(() => sb.reset());

    it('serves the page, its script and styles from the sandbox with a strict CSP', async () => {
      const res = await fetch(`${sb.origin}/`);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await res.text();
      expect(html).toContain(sb.baseUrl);
      expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[^"'\s]+\.(js|css)/);
      expect((await fetch(`${sb.origin}/__web/app.js`)).headers.get('content-type')).toMatch(/javascript/);

      await open(101);
      expect(await page.locator('.chat-item').allTextContents()).toEqual(
        expect.arrayContaining([expect.stringContaining('Общий'), expect.stringContaining('Продажи')]),
      );
      expect(await page.locator('#base-url').textContent()).toBe(sb.baseUrl);
    });

    it('renders bold, italic, strike, links and code; leaves headings, lists, quotes and tables raw', async () => {
      const content = [
        '# Итоги дня',
        '**Выручка** выросла, *курсив* и _тоже курсив_, ~~старый план~~.',
        'Отчёт: [открыть](https://example.com/report?id=1) и https://example.com/raw, код `SELECT 1`.',
        'Ответственный: <@2>, поле user_name_field, \\*не курсив\\*.',
        '- первый пункт',
        '1. нумерованный',
        '> цитата',
        '| Город | Сумма |',
        '|---|---|',
        '```text',
        'Москва   1 200',
        '**не жирный** внутри кода',
        '```',
      ].join('\n');
      const m = await send({ entity_id: 101, content });
      await open(101);
      const box = msg(m.id).locator('.content');
      await box.waitFor();

      expect(await box.locator('strong').allTextContents()).toEqual(['Выручка']);
      expect(await box.locator('em').allTextContents()).toEqual(['курсив', 'тоже курсив']);
      expect(await box.locator('s').allTextContents()).toEqual(['старый план']);
      const link = box.locator('a', { hasText: 'открыть' });
      expect(await link.getAttribute('href')).toBe('https://example.com/report?id=1');
      expect(await link.getAttribute('target')).toBe('_blank');
      expect(await link.getAttribute('rel')).toContain('noopener');
      expect(await box.locator('a', { hasText: 'https://example.com/raw' }).getAttribute('href')).toBe('https://example.com/raw');
      expect(await box.locator('code.inline-code').allTextContents()).toEqual(['SELECT 1']);
      expect(await box.locator('pre.code-block code').textContent()).toBe('Москва   1 200\n**не жирный** внутри кода');
      expect(await box.locator('pre.code-block .code-lang').textContent()).toBe('text');
      expect(await box.locator('.mention').textContent()).toBe('@maria.smirnova');

      const text = (await box.textContent())!;
      for (const raw of ['# Итоги дня', '- первый пункт', '1. нумерованный', '> цитата', '| Город | Сумма |', '|---|---|', 'user_name_field', '*не курсив*']) {
        expect(text).toContain(raw);
      }
      expect(await box.locator('h1, h2, ul, ol, li, blockquote, table').count()).toBe(0);
    });

    it('shows data escaped by the template engine literally, and an unclosed fence raw', async () => {
      const value = '**жирно** _курсив_ ~~зачёркнуто~~ [ссылка](https://evil.example) https://evil.example @all <@2> `код`';
      const m = await send({ entity_id: 101, content: finalizeMarkdown(`Клиент: ${escapeMarkdown(value)}`) });
      const broken = await send({ entity_id: 101, content: 'До\n```text\nне закрыт **жирный**' });
      await open(101);
      const box = msg(m.id).locator('.content');
      await box.waitFor();
      expect((await box.textContent())!.replace(/\u2060/g, '')).toBe(`Клиент: ${value}`);
      expect(await box.locator('strong, em, s, a, code, .mention').count()).toBe(0);

      const raw = msg(broken.id).locator('.content');
      expect(await raw.locator('pre').count()).toBe(0);
      expect(await raw.textContent()).toBe('До\n```text\nне закрыт жирный');
      expect(await raw.locator('strong').textContent()).toBe('жирный');
    });

    it('shows byte size, time in the viewer zone, display name and avatar, a buttons grid, and edits live', async () => {
      const content = 'Сводка: **готово** ✅';
      const m = await send({
        entity_id: 102,
        content,
        display_name: 'Отчёт по продажам',
        display_avatar_url: 'https://avatars.test/sales.png',
        buttons: [
          [
            { text: 'Дашборд', url: 'https://bi.example.com/sales' },
            { text: 'CRM', url: 'https://crm.example.com' },
          ],
          [{ text: 'Подтвердить', data: 'ack:sales' }],
        ],
      });
      await open(102);
      const el = msg(m.id);
      await el.waitFor();

      expect(await el.locator('.size').getAttribute('data-bytes')).toBe(String(Buffer.byteLength(content, 'utf8')));
      expect(await el.locator('.size').textContent()).toBe(`${Buffer.byteLength(content, 'utf8')} Б`);
      const hhmm = new Intl.DateTimeFormat('en-GB', { timeZone: VIEWER_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
        new Date(m.created_at),
      );
      expect(await el.locator('time').first().textContent()).toMatch(new RegExp(`${hhmm}$`));
      expect(await el.locator('time').first().getAttribute('datetime')).toBe(m.created_at);

      expect(await el.locator('.author').first().textContent()).toBe('Отчёт по продажам');
      const img = el.locator('.avatar img');
      expect(await img.getAttribute('src')).toBe('https://avatars.test/sales.png');
      await page.waitForFunction((id) => {
        // Runs in the page (the project's TS lib has no DOM types).
        const i = (globalThis as any).document.querySelector(`#message-${id} .avatar img`);
        return i !== null && i.complete && i.naturalWidth > 0;
      }, m.id);

      const rows = el.locator('.buttons .button-row');
      expect(await rows.count()).toBe(2);
      const urlButtons = rows.nth(0).locator('a.msg-button');
      expect(await urlButtons.allTextContents()).toEqual(['Дашборд', 'CRM']);
      expect(await urlButtons.nth(0).getAttribute('href')).toBe('https://bi.example.com/sales');
      expect(await urlButtons.nth(0).getAttribute('target')).toBe('_blank');
      expect(await urlButtons.nth(0).getAttribute('rel')).toContain('noopener');
      expect(await rows.nth(1).locator('button.msg-button').allTextContents()).toEqual(['Подтвердить']);
      expect(await el.locator('.edited').count()).toBe(0);

      await page.evaluate(() => ((globalThis as any).__noReload = true));
      const edited = await call(sb, 'PUT', `/messages/${m.id}`, { message: { content: 'Сводка: **обновлено**' } });
      expect(edited.status).toBe(200);
      await el.locator('.edited').waitFor();
      expect(await el.locator('.content strong').textContent()).toBe('обновлено');
      expect(await page.evaluate(() => (globalThis as any).__noReload)).toBe(true);
    });

    it('groups replies and thread messages under their parent', async () => {
      const parent = await send({ entity_id: 101, content: 'Дежурство на неделю' });
      const reply = await send({ entity_id: 101, content: 'Принято', parent_message_id: parent.id });
      const other = await send({ entity_id: 101, content: 'Отдельное сообщение' });
      const thread = await call(sb, 'POST', `/messages/${parent.id}/thread`);
      expect(thread.status).toBe(201);
      const inThread = await send({ entity_type: 'thread', entity_id: thread.body.data.id, content: 'Подробности в треде' });

      await open(101);
      await msg(parent.id).waitFor();
      expect(await page.locator(`#message-${parent.id} .children.replies #message-${reply.id}`).count()).toBe(1);
      expect(await page.locator(`#message-${parent.id} .children.thread #message-${inThread.id}`).count()).toBe(1);
      // Top level: the parent and the unrelated message only, in order.
      expect(await page.locator('#messages > .msg').evaluateAll((els) => els.map((e) => e.id))).toEqual([
        `message-${parent.id}`,
        `message-${other.id}`,
      ]);
      // Thread chats are not chats of the sidebar.
      expect(await page.locator(`.chat-item[data-chat-id="${thread.body.data.chat_id}"]`).count()).toBe(0);
      expect(await page.locator('.chat-item[data-chat-id="101"] .chat-count').textContent()).toBe('3');
    });

    it('opens the message link the API returns: that chat, the message scrolled to and highlighted', async () => {
      const first = await send({ entity_id: 102, content: 'Первое' });
      // Tall filler (under the 20-per-chat burst) so the first message is far above the bottom.
      for (let i = 0; i < 15; i++) await send({ entity_id: 102, content: `заполнитель ${i}` + "\n.".repeat(12) });
      const parent = await send({ entity_id: 101, content: 'Родитель треда' });
      const thread = await call(sb, 'POST', `/messages/${parent.id}/thread`);
      const inThread = await send({ entity_type: 'thread', entity_id: thread.body.data.id, content: 'В треде' });
      // Something newer elsewhere: following the latest chat must not win over the link.
      await send({ entity_id: 104, content: 'Свежее в другом чате' });

      const url = (await call(sb, 'GET', `/messages/${first.id}`)).body.data.url as string;
      expect(url).toBe(`${sb.origin}/chats/102#message-${first.id}`);
      expect((await fetch(url)).status).toBe(200);
      await page.goto('about:blank');
      await page.goto(url);
      await msg(first.id).waitFor();
      expect(await page.locator('.chat-item.active').getAttribute('data-chat-id')).toBe('102');
      // Marked as the linked one, and still so after the repaints that follow the live connection.
      expect(await page.locator('.msg.linked').evaluateAll((els) => els.map((e) => e.id))).toEqual([`message-${first.id}`]);
      await page.locator('#live.on').waitFor();
      await send({ entity_id: 102, content: 'Ещё одно' });
      await page.locator('#messages .msg').last().filter({ hasText: 'Ещё одно' }).waitFor();
      expect(await page.locator('.msg.linked').evaluateAll((els) => els.map((e) => e.id))).toEqual([`message-${first.id}`]);
      // Scrolled to: the first of many messages is in view, not the bottom of the chat.
      await expect.poll(() => msg(first.id).isVisible()).toBe(true);
      const box = await msg(first.id).boundingBox();
      expect(box!.y).toBeGreaterThan(0);
      expect(box!.y).toBeLessThan(860);

      // A thread message lives in the thread's own chat; its link opens the parent's chat.
      const threadUrl = (await call(sb, 'GET', `/messages/${inThread.id}`)).body.data.url as string;
      await page.goto('about:blank');
      await page.goto(threadUrl);
      await page.locator(`#message-${parent.id} .children.thread #message-${inThread.id}`).waitFor();
      expect(await page.locator('.chat-item.active').getAttribute('data-chat-id')).toBe('101');
    });

    it('keeps the chat just opened when a slow answer for the previous one arrives after it', async () => {
      const inTarget = await send({ entity_id: 103, content: 'Целевой чат' });
      await send({ entity_id: 101, content: 'Прежний чат' });
      await open(101);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let seen = 0;
      await page.route(/\/__web\/api\/state\?chat_id=101$/, async (route) => {
        seen++;
        await held;
        await route.continue();
      });
      try {
        // A repaint of chat 101 is on its way (held), then the viewer opens chat 103.
        await send({ entity_id: 101, content: 'Ещё в прежний' });
        await expect.poll(() => seen, { timeout: 10_000 }).toBeGreaterThan(0);
        await page.locator('.chat-item[data-chat-id="103"]').click();
        release();
        await msg(inTarget.id).waitFor();
        await page.waitForTimeout(300);
        expect(await page.locator('.chat-item.active').getAttribute('data-chat-id')).toBe('103');
        expect(await msg(inTarget.id).count()).toBe(1);
      } finally {
        release();
        await page.unroute(/\/__web\/api\/state\?chat_id=101$/);
      }
    });

    it('keeps hostile content inert', async () => {
      const payloads = [
        '<img src=x onerror="window.__xss=\'img\';alert(1)">',
        '<script>window.__xss="script";alert(2)</script>',
        '[x](javascript:alert(3))',
        '[y](data:text/html,<script>alert(4)</script>)',
        '"><svg onload="window.__xss=\'svg\';alert(5)">',
        '**<iframe src="javascript:alert(6)">**',
      ];
      await open(101);
      const ids: number[] = [];
      for (const content of payloads) {
        ids.push((await send({ entity_id: 101, content, display_name: '<img src=x onerror=alert(7)>', buttons: [[{ text: '<b>жми</b>', data: '"><svg onload=alert(8)>' }]] })).id);
      }
      await msg(ids.at(-1)!).waitFor();
      // Follow the would-be links too: nothing may run.
      for (const a of await page.locator('#messages a').all()) {
        expect(await a.getAttribute('href')).toMatch(/^(https?:|mailto:)/);
      }
      await page.locator('#messages button.msg-button').first().click();

      expect(dialogs).toEqual([]);
      expect(await page.evaluate(() => (globalThis as any).__xss)).toBe('untouched');
      expect(await page.locator('#messages img[src="x"], #messages script, #messages svg, #messages iframe, #messages b').count()).toBe(0);
      const texts = await page.locator('#messages .msg .content').allTextContents();
      expect(texts).toEqual(payloads.map((p) => p.replace(/^\*\*(.*)\*\*$/, '$1')));
      expect(await page.locator(`#message-${ids[0]} .author`).textContent()).toBe('<img src=x onerror=alert(7)>');
    });

    it('shows a message posted after the page loaded without a reload', async () => {
      await open(103);
      await page.evaluate(() => ((globalThis as any).__noReload = true));
      expect(await page.locator('#messages .msg').count()).toBe(0);
      const m = await send({ entity_id: 103, content: 'Новая сделка: **ООО «Ромашка»**' });
      await msg(m.id).waitFor({ timeout: 10_000 });
      expect(await msg(m.id).locator('strong').textContent()).toBe('ООО «Ромашка»');
      expect(await page.evaluate(() => (globalThis as any).__noReload)).toBe(true);
      // A post to another chat marks that chat unread instead of jumping away.
      await send({ entity_id: 104, content: 'В канал' });
      await page.locator('.chat-item.unread[data-chat-id="104"]').waitFor();
      expect(await page.locator('.chat-item.active').getAttribute('data-chat-id')).toBe('103');
    });

    it('shows requests by endpoint and status, 429s and injected faults', async () => {
      await open(104);
      for (let i = 0; i < 22; i++) await post(sb, { entity_id: 104, content: `сообщение ${i}` });
      sb.faults.add({ kind: 'status', status: 503, path: '/chats', times: 1 });
      expect((await call(sb, 'GET', '/chats')).status).toBe(503);
      await call(sb, 'GET', '/chats/999');

      const stats = sb.stats();
      expect(stats.rateLimited).toBe(2);
      const row = page.locator('.ep-row[data-endpoint="POST /messages"]');
      await expect.poll(() => row.locator('.chip[data-status="429"]').textContent().catch(() => null), { timeout: 10_000 }).toBe('429 × 2');
      expect(await row.locator('.chip[data-status="201"]').textContent()).toBe('201 × 20');
      await expect.poll(() => page.locator('[data-stat="faults"] .tile-value').textContent(), { timeout: 10_000 }).toBe('1');
      expect(await page.locator('[data-stat="rate-limited"] .tile-value').textContent()).toBe('2');
      expect(await page.locator('.ep-row[data-endpoint="GET /chats"] .chip[data-status="503"]').textContent()).toBe('503 × 1');
      expect(await page.locator('.ep-row[data-endpoint="GET /chats/{id}"] .chip[data-status="404"]').textContent()).toBe('404 × 1');
      expect(await page.locator('.fault-kind').allTextContents()).toEqual(['status: 1']);
      expect(await page.locator('.stats').textContent()).not.toContain('test-token');
    });

    it('lists jobs with their next runs and runs one on demand', async () => {
      await open(101);
      await page.locator('.tab[data-view="jobs"]').click();
      const row = page.locator('tr.job[data-job="sales-daily"]');
      await row.waitFor();
      expect(await row.locator('.job-desc').textContent()).toBe('Продажи за вчера');
      expect(await row.textContent()).toContain('at 09:00 on Monday–Friday');
      // Next runs are shown in the job's zone: 06:00Z is 09:00 in Moscow.
      expect(await row.locator('.next-run').count()).toBe(2);
      expect(await row.locator('.next-run').first().textContent()).toContain('09:00');
      expect(await page.locator('tr.job[data-job="oncall"] .disabled-badge').count()).toBe(1);

      await row.locator('button.run-now').click();
      const result = row.locator('.job-result[data-status="succeeded"]');
      await result.waitFor();
      expect(jobRuns.at(-1)).toBe('sales-daily');
      const posted = sb.store.liveMessages(103).at(-1)!;
      expect(await result.locator('a.job-message').textContent()).toBe(`#${posted.id}`);
      await result.locator('a.job-message').click();
      await msg(posted.id).waitFor();
      expect(await page.locator('.chat-item.active').getAttribute('data-chat-id')).toBe('103');

      await page.locator('.tab[data-view="jobs"]').click();
      await page.locator('tr.job[data-job="oncall"] button.run-now').click();
      const failed = page.locator('tr.job[data-job="oncall"] .job-result.fail');
      await failed.waitFor();
      expect(await failed.textContent()).toContain('source timed out');

      // Run now has side effects: a form post from another site must not reach the provider.
      const runs = jobRuns.length;
      const cross = await fetch(`${sb.origin}/__web/api/jobs/run`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ name: 'sales-daily' }),
      });
      expect(cross.status).toBe(415);
      const foreign = await fetch(`${sb.origin}/__web/api/jobs/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
        body: JSON.stringify({ name: 'sales-daily' }),
      });
      expect(foreign.status).toBe(403);
      expect(jobRuns.length).toBe(runs);
    });

    it('writes a screenshot of a realistic chat', async () => {
      const a = await send({
        entity_id: 103,
        content: '**Продажи за 14 мая**\nВыручка: **1 248 300 ₽** (+12% к прошлой неделе)\n```text\nМенеджер   Сделки   Сумма\nИванов         7   412 000\nПетрова        5   388 500\n```\nПодробнее в [дашборде](https://bi.example.com/sales)',
        buttons: [[{ text: 'Открыть дашборд', url: 'https://bi.example.com/sales' }, { text: 'Выгрузить CSV', url: 'https://bi.example.com/sales.csv' }]],
      });
      await send({ entity_id: 103, content: 'Отличный день, <@1>!', parent_message_id: a.id });
      await open(103);
      await msg(a.id).waitFor();
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/sandbox.png' });
      expect(pageErrors).toEqual([]);
    });
  });
}
