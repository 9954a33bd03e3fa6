#!/usr/bin/env node
/**
 * Regenerates docs/sandbox.png, the README's picture of the sandbox web view.
 *
 *   npm run build && node scripts/screenshot.mjs [out.png]
 *
 * Starts a sandbox from dist/, posts a few realistic digests through the API (real HTTP, as the
 * service would), opens the page in headless Chromium and saves a 1280×800 screenshot.
 * Chromium: $PACHCA_DIGEST_TEST_CHROMIUM or /usr/bin/chromium.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? `${root}/docs/sandbox.png`);
const executablePath = process.env.PACHCA_DIGEST_TEST_CHROMIUM || '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(`No Chromium at ${executablePath}: install it or set PACHCA_DIGEST_TEST_CHROMIUM.`);
  process.exit(1);
}
const distEntry = `${root}/dist/sandbox/index.js`;
if (!existsSync(distEntry)) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(1);
}
const { startSandbox } = await import(distEntry);

const BOT = 'digest-bot-token';
const MARIA = 'maria-token';

const sb = await startSandbox({
  tokens: { [BOT]: 1000, [MARIA]: 2 },
  chats: [
    { id: 201, name: 'Дайджесты', channel: true },
    { id: 202, name: 'Продажи' },
    { id: 203, name: 'Дежурства' },
    { id: 204, name: 'Общий' },
  ],
  web: {
    jobs: {
      async list() {
        const next = (days, hourUtc) => Array.from({ length: 3 }, (_, i) => new Date(Date.UTC(2030, 0, 7 + i * days, hourUtc)).toISOString());
        return [
          { name: 'sales-daily', description: 'Продажи за вчера', schedule: '0 9 * * 1-5', scheduleText: 'at 09:00 on Monday–Friday', timezone: 'Europe/Moscow', enabled: true, next: next(1, 6) },
          { name: 'oncall-weekly', description: 'Дежурства на неделю', schedule: '0 10 * * 1', scheduleText: 'at 10:00 on Monday', timezone: 'Europe/Moscow', enabled: true, next: next(7, 7) },
        ];
      },
      async runNow() {
        return { status: 'skipped', messageIds: [] };
      },
    },
  },
});

async function api(method, path, body, token = BOT) {
  const res = await fetch(sb.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Posts like the service does: a 429 or a 5xx is retried once after a pause. */
async function post(message, token = BOT) {
  for (let attempt = 0; ; attempt++) {
    const res = await api('POST', '/messages', { message, link_preview: false }, token);
    if (res.status === 201) return res.body.data;
    if (attempt >= 2 || (res.status !== 429 && res.status < 500)) throw new Error(`POST /messages: ${res.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let browser;
try {
  await post({ entity_id: 204, content: 'Всем привет! Дайджесты теперь приходят в канал «Дайджесты».' });
  await post({ entity_id: 202, content: 'Новая сделка: **ООО «Альфа-Трейд»**, 180 000 ₽' });

  await post({
    entity_id: 201,
    display_name: 'Дежурства',
    content: [
      '**Дежурство на неделю 12–18 мая**',
      '• Основной: <@3>',
      '• Резервный: <@4>',
      'Открытых инцидентов: **2** · ~~P1~~ закрыт в 03:40 · runbook: [wiki](https://wiki.example.com/oncall)',
      'Проверьте алерты в `#alerts-prod` до 10:00.',
    ].join('\n'),
  });

  // The client meets a flaky network and the rate limit, and retries: the panel shows both.
  sb.faults.add({ kind: 'status', status: 503, path: '/messages', method: 'POST', times: 1 });
  sb.faults.add({ kind: 'rate-limit', retryAfter: 1, path: '/messages', method: 'POST', times: 1 });

  const sales = await post({
    entity_id: 201,
    display_name: 'Продажи за день',
    content: [
      '**Продажи за 14 мая** — выручка **1 248 300 ₽** (+12% к прошлой неделе)',
      '```text',
      'Менеджер     Сделки       Сумма',
      'Иванов            7     412 000',
      'Петрова           5     388 500',
      'Сидоров           4     257 800',
      '```',
      'Лучшая сделка: _«Альфа-Трейд»_, подробнее в [CRM](https://crm.example.com/deals/4812).',
    ].join('\n'),
    buttons: [
      [
        { text: 'Открыть дашборд', url: 'https://bi.example.com/sales' },
        { text: 'Выгрузить CSV', url: 'https://bi.example.com/sales.csv' },
      ],
      [{ text: 'Отметить прочитанным', data: 'ack:sales:2024-05-14' }],
    ],
  });
  const thread = await api('POST', `/messages/${sales.id}/thread`);
  await post({ entity_type: 'thread', entity_id: thread.body.data.id, content: 'Иванов, отличный результат! Сделку с «Альфа-Трейд» закрываем до пятницы.' }, MARIA);
  await api('GET', '/chats?limit=50');

  browser = await chromium.launch({
    executablePath,
    headless: true,
    timeout: 90_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ru-RU', timezoneId: 'Europe/Moscow' });
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
  const page = await context.newPage();
  await page.goto(`${sb.origin}/#chat-201`);
  await page.waitForSelector(`#message-${sales.id} .children.thread`);
  await page.waitForSelector('.live.on');
  await page.waitForSelector('.ep-row[data-endpoint="POST /messages"]');
  // Let the "new message" highlight fade before the picture is taken.
  await page.waitForTimeout(2500);
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser?.close();
  await sb.close();
}
