/**
 * Files in the sandbox web view, in a real Chromium: a chart uploaded through the documented flow
 * shows inline as an image (non-blank pixels in a screenshot), a `.md` card renders its table, a
 * CSV is a download chip.
 */
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadChartRenderer } from '../../src/attachments/index.js';
import { PachcaClient, uploadFiles } from '../../src/pachca/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { findChromium, launchChromium } from './helpers.js';

const chromium = findChromium();

describe.skipIf(Boolean(chromium.skip))('web view shows attachments in Chromium', () => {
  let sb: Sandbox;
  let browser: Browser;
  let page: Page;
  let client: PachcaClient;

  beforeAll(async () => {
    sb = await startSandbox({ tokens: ['files-token'] });
    client = new PachcaClient({ token: 'files-token', baseUrl: sb.baseUrl });
    browser = await launchChromium(chromium.path!);
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await client?.close();
    await sb?.close();
  });

  it('an uploaded chart is an inline image, the .md card a table, the CSV a chip', async () => {
    const { renderChart } = await loadChartRenderer();
    const rows = [
      { region: 'Москва', revenue: 2_456_300 },
      { region: 'Казань', revenue: 531_200 },
    ];
    const chart = renderChart(
      { type: 'bar', data: 'rows', x: 'region', y: ['revenue'], labels: { revenue: 'Выручка' }, stacked: false, format: 'currency', width: 800, height: 450, density: 1, maxPoints: 1000 },
      rows,
      'Выручка, ₽',
      { locale: 'ru-RU', timezone: 'Europe/Moscow' },
    );
    const md = '# Регионы\n\n| Регион | Выручка |\n| --- | ---: |\n| Москва | 2 456 300 |\n| Казань | 531 200 |\n\n- [x] сверено\n\n```mermaid\ngraph LR; A-->B\n```\n';
    const files = await uploadFiles(client, [
      { name: 'revenue.png', bytes: chart.png, contentType: 'image/png', fileType: 'image', width: chart.width, height: chart.height },
      { name: 'регионы.md', bytes: Buffer.from(md), contentType: 'text/markdown', fileType: 'file' },
      { name: 'sales.csv', bytes: Buffer.from('\ufeffregion,revenue\r\nМосква,2456300\r\n'), contentType: 'text/csv', fileType: 'file' },
    ]);
    const msg = await client.createMessage({ entity_type: 'discussion', entity_id: 103, content: 'Продажи за день', files });

    await page.goto(`${sb.origin}/#chat-103`);
    const item = page.locator(`#message-${msg.id}`);
    const img = item.locator('img.file-image');
    await img.waitFor();
    await page.waitForFunction((id) => {
      const i = (globalThis as any).document.querySelector(`#message-${id} img.file-image`) as { complete: boolean; naturalWidth: number } | null;
      return Boolean(i && i.complete && i.naturalWidth > 0);
    }, msg.id);
    expect(await img.evaluate((i) => [(i as unknown as { naturalWidth: number }).naturalWidth, (i as unknown as { naturalHeight: number }).naturalHeight])).toEqual([800, 450]);

    // The screenshot of the image has the chart's ink: bars and labels, not a blank box.
    const shot = PNG.sync.read(await img.screenshot());
    let dark = 0;
    let colored = 0;
    for (let i = 0; i < shot.data.length; i += 4) {
      const [r, g, b] = [shot.data[i]!, shot.data[i + 1]!, shot.data[i + 2]!];
      if (r < 160 && g < 160 && b < 160) dark++; // text, axes
      if (b > 150 && r < 100) colored++; // the palette's blue bars
    }
    const total = shot.width * shot.height;
    expect(dark / total).toBeGreaterThan(0.0005);
    expect(colored / total).toBeGreaterThan(0.02);

    const table = item.locator('.md-card table.md-table');
    await table.waitFor();
    expect(await table.locator('th').allTextContents()).toEqual(['Регион', 'Выручка']);
    expect(await table.locator('tbody tr').count()).toBe(2);
    expect(await table.locator('td').nth(1).evaluate((td) => (globalThis as any).getComputedStyle(td).textAlign)).toBe('right');
    expect(await item.locator('.md-card h2').textContent()).toBe('Регионы');
    expect(await item.locator('.md-card input[type=checkbox]').isChecked()).toBe(true);
    // Mermaid: named as a diagram Pachca draws, its source shown (no diagram engine in the sandbox).
    expect(await item.locator('.md-card .md-mermaid figcaption').textContent()).toMatch(/Диаграмма Mermaid/);
    expect(await item.locator('.md-card .md-mermaid pre').textContent()).toBe('graph LR; A-->B');

    const csv = item.locator('a.file');
    expect(await csv.textContent()).toMatch(/sales\.csv/);
    const href = await csv.getAttribute('href');
    expect((await (await fetch(href!)).text()).includes('Москва')).toBe(true);
  }, 120_000);
});
