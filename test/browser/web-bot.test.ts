/**
 * The web view as the bot's other side, in a real Chromium: a click on a data button reaches the bot
 * as a `button_click` event, a person's message with a report link becomes `link_shared`, and the
 * preview card the bot adds through the API appears under that message without a reload.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { findChromium, launchChromium } from './helpers.js';

const chromium = findChromium();
const TOKEN = 'bot-token';

if (chromium.skip) {
  describe.skip(`web view bot side — skipped: ${chromium.skip}`, () => {
    it('needs a browser', () => {});
  });
} else {
  describe('web view bot side in Chromium', () => {
    let sb: Sandbox;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${sb.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as any) };
    };

    beforeAll(async () => {
      sb = await startSandbox({ tokens: [TOKEN], bot: { unfurlDomains: ['bi.example.ru'] } });
      browser = await launchChromium(chromium.path!);
      const context = await browser.newContext({ locale: 'ru-RU', viewport: { width: 1280, height: 860 } });
      await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
      page = await context.newPage();
      page.setDefaultTimeout(15_000);
      page.on('pageerror', (e) => pageErrors.push(e.message));
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await sb?.close();
    });

    it('a click on a data button is an event in the bot history, with the button data', async () => {
      const m = await api('POST', '/messages', {
        message: { entity_id: 103, content: '🚨 Очередь поддержки: 140', buttons: [[{ text: 'Взять в работу', data: 'pd1.ack' }, { text: 'Отчёт', url: 'https://bi.example.ru/x' }]] },
      });
      expect(m.status).toBe(201);
      await page.goto(`${sb.origin}/#chat-103`);
      await page.locator(`#message-${m.body.data.id} .msg-button.data`).click();
      await page.locator('#toast:not([hidden])').waitFor();
      expect(await page.locator('#toast').textContent()).toContain('pd1.ack');
      const clicks = sb.bot.events().filter((e) => e.event_type === 'button_click');
      expect(clicks).toHaveLength(1);
      expect(clicks[0]!.payload).toMatchObject({ type: 'button', event: 'click', data: 'pd1.ack', message_id: m.body.data.id, chat_id: 103 });
      expect(typeof clicks[0]!.payload.user_id).toBe('number');
      expect(pageErrors).toEqual([]);
    });

    it('a person writes a report link in the composer; the card the bot adds shows up under it', async () => {
      await page.goto(`${sb.origin}/#chat-101`);
      await page.locator('.chat-item.active').waitFor();
      const link = 'https://bi.example.ru/sales/daily?date=2026-11-30';
      await page.fill('#composer-text', `Вот отчёт ${link}`);
      await page.click('.composer-send');
      // The sandbox (as Pachca) tells the Unfurl bot about the link.
      const event = await waitFor(() => sb.bot.events().find((e) => e.event_type === 'message_link_shared'));
      expect(event.payload.links).toEqual([{ url: link, domain: 'bi.example.ru', skip: false }]);
      const messageId = event.payload.message_id as number;
      await page.locator(`#message-${messageId}`).waitFor();
      expect(await page.locator(`#message-${messageId} .preview`).count()).toBe(0);
      // The bot answers through the public API, as the service does.
      const r = await api('POST', `/messages/${messageId}/link_previews`, { link_previews: { [link]: { title: '📈 Продажи за 30 ноября', description: 'Выручка: 6 323 801 ₽' } } });
      expect(r.status).toBe(204);
      await page.locator(`#message-${messageId} .preview`).waitFor();
      expect(await page.locator(`#message-${messageId} .preview-title`).textContent()).toBe('📈 Продажи за 30 ноября');
      expect(await page.locator(`#message-${messageId} .preview-text`).textContent()).toBe('Выручка: 6 323 801 ₽');
      expect(await page.inputValue('#composer-text')).toBe('');
      expect(pageErrors).toEqual([]);
    });
  });
}

async function waitFor<T>(check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
