/**
 * Charts as a reader sees them: golden PNGs per chart type (ru-RU data, compared by pixels with a
 * tolerance, so a font hinting change passes and a lost series or a label in boxes does not), the
 * shipped font covering Cyrillic and ₽, and bad data turned into a placeholder or notes.
 * Regenerate goldens: PACHCA_DIGEST_UPDATE_GOLDEN=1 npx vitest run test/attachments/chart.test.ts
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { loadChartRenderer, type ChartSpec } from '../../src/attachments/index.js';
import { lttb, toNumber } from '../../src/attachments/index.js';

const { renderChart, rasterise, formatValue } = await loadChartRenderer();
const GOLDEN = resolve(import.meta.dirname, 'golden');
const OUT = resolve(import.meta.dirname, '../../test-artifacts/charts');
const opts = { locale: 'ru-RU', timezone: 'Europe/Moscow' };

const base: ChartSpec = { type: 'line', data: 'metrics.rows', x: 'date', y: ['revenue', 'plan'], labels: { revenue: 'Факт', plan: 'План' }, stacked: false, format: 'currency', width: 800, height: 450, density: 1, maxPoints: 1000 };
// Deterministic data: two weeks of a Moscow shop, three regions.
const days = Array.from({ length: 14 }, (_, i) => ({
  date: `2026-11-${String(10 + i).padStart(2, '0')}`,
  revenue: 900_000 + ((i * 7919) % 13) * 40_000,
  plan: 1_000_000 + i * 10_000,
  region: ['Москва', 'Санкт-Петербург', 'Казань', 'Новосибирск'][i % 4],
}));

const decode = (buf: Buffer) => PNG.sync.read(buf);

/** Share of pixels that differ beyond anti-aliasing noise. */
function diffRatio(a: PNG, b: PNG, out?: string): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  const diff = new PNG({ width: a.width, height: a.height });
  const n = pixelmatch(a.data, b.data, diff.data, a.width, a.height, { threshold: 0.15 });
  if (out && n > 0) writeFileSync(out, PNG.sync.write(diff));
  return n / (a.width * a.height);
}

function golden(name: string, png: Buffer): void {
  const file = join(GOLDEN, `${name}.png`);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, `${name}.png`), png);
  if (process.env.PACHCA_DIGEST_UPDATE_GOLDEN || !existsSync(file)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, png);
  }
  const ratio = diffRatio(decode(png), decode(readFileSync(file)), join(OUT, `${name}.diff.png`));
  expect(ratio, `${name}: ${(ratio * 100).toFixed(2)}% of pixels differ from ${file} (see test-artifacts/charts)`).toBeLessThan(0.005);
}

describe('chart goldens (ru-RU)', () => {
  it.each([
    ['line', { ...base }],
    ['bar', { ...base, type: 'bar' as const }],
    ['area-stacked', { ...base, type: 'area' as const, stacked: true }],
    ['pie', { ...base, type: 'pie' as const, x: 'region', y: ['revenue'] }],
  ])('%s', (name, spec) => {
    const img = renderChart(spec, days, 'Выручка, ₽', opts);
    expect(img.notes).toEqual([]);
    expect([img.width, img.height]).toEqual([800, 450]);
    golden(name, img.png);
  });

  it('no rows: a "no data" placeholder image and a note', () => {
    const img = renderChart(base, [], 'Выручка, ₽', opts);
    expect(img.notes).toEqual(['«Выручка, ₽»: нет данных за период']);
    expect(img.svg).toContain('Нет данных за период');
    golden('empty', img.png);
  });

  it('density 2 renders twice the pixels of the same picture', () => {
    const one = decode(renderChart(base, days, 'Выручка, ₽', opts).png);
    const two = decode(renderChart({ ...base, density: 2 }, days, 'Выручка, ₽', opts).png);
    expect([two.width, two.height]).toEqual([1600, 900]);
    // Downscaled by sampling, the 2x image is the 1x one (within anti-aliasing).
    const down = new PNG({ width: 800, height: 450 });
    for (let y = 0; y < 450; y++) for (let x = 0; x < 800; x++) {
      const s = ((y * 2) * 1600 + x * 2) * 4;
      const d = (y * 800 + x) * 4;
      for (let k = 0; k < 4; k++) down.data[d + k] = two.data[s + k]!;
    }
    expect(diffRatio(one, down)).toBeLessThan(0.05);
  });
});

describe('Cyrillic and ₽ never render as boxes', () => {
  const textSvg = (text: string) =>
    `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="40"><text x="4" y="28" font-size="22" style="font-family:Noto Sans">${text}</text></svg>`;
  const ink = (png: PNG) => {
    let n = 0;
    for (let i = 0; i < png.data.length; i += 4) if (png.data[i]! < 128) n++;
    return n;
  };

  it('distinct Cyrillic letters draw distinct glyphs (missing glyphs would all be the same box)', () => {
    const letters = ['Ж', 'Ы', 'Щ', 'Ё', 'ю', '₽'];
    const renders = letters.map((l) => decode(rasterise(textSvg(l.repeat(6)), 1)));
    for (const r of renders) expect(ink(r)).toBeGreaterThan(50);
    for (let i = 0; i < renders.length; i++) {
      for (let j = i + 1; j < renders.length; j++) {
        expect(diffRatio(renders[i]!, renders[j]!), `${letters[i]} vs ${letters[j]}`).toBeGreaterThan(0.01);
      }
    }
  });

  it('a Cyrillic label differs from the font’s missing-glyph box drawn for the same count of characters', () => {
    // Private-use code points are in no font: this is what "boxes" look like with the shipped font.
    const tofu = decode(rasterise(textSvg('\ue000\ue001\ue002\ue003\ue004\ue005\ue006'), 1));
    const label = decode(rasterise(textSvg('Выручка'), 1));
    expect(diffRatio(label, tofu)).toBeGreaterThan(0.02);
  });

  it('the shipped font maps every Russian letter, ₽, №, «», — and the narrow no-break space', () => {
    const cmap = fontCodepoints(readFileSync(resolve(import.meta.dirname, '../../assets/fonts/NotoSans-Regular.ttf')));
    const needed = [...'АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя₽№«»—–−\u00a0\u202f'].map((c) => c.codePointAt(0)!);
    expect(needed.filter((c) => !cmap.has(c)).map((c) => c.toString(16))).toEqual([]);
  });
});

describe('bad data', () => {
  it('non-numeric values are gaps with a note; numeric strings in either notation count', () => {
    const rows = [
      { date: '2026-11-10', revenue: '1 200,5', plan: 1 },
      { date: '2026-11-11', revenue: 'н/д', plan: 2 },
      { date: '2026-11-12', revenue: '1300.25', plan: 3 },
    ];
    const img = renderChart(base, rows, null, opts);
    expect(img.notes).toEqual(['1 нечисловое значение на графике пропущено']);
    expect(toNumber('1 200,5')).toBe(1200.5);
    expect(toNumber('1\u00a0200')).toBe(1200);
    expect(toNumber('12abc')).toBeNull();
  });

  it('thousands of points are downsampled with LTTB, keeping the spike a reader looks for', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({ t: i, v: i === 2500 ? 1000 : Math.sin(i / 50) }));
    const img = renderChart({ ...base, x: 't', y: ['v'], maxPoints: 500, format: 'number' }, rows, null, opts);
    expect(img.notes).toEqual(['на графике 5\u00a0000 точек показаны как 500 (форма линии сохранена)']);
    const thinned = lttb(rows.map((r) => [r.t, r.v] as [number, number]), 500);
    expect(thinned).toHaveLength(500);
    expect(thinned.some(([x, y]) => x === 2500 && y === 1000)).toBe(true);
  });

  it('ru-RU axis numbers: grouping, compact millions, ₽ and percent', () => {
    expect(formatValue(1_250_000, 'number', 'ru-RU')).toBe('1\u00a0250\u00a0000');
    expect(formatValue(1_250_000, 'compact', 'ru-RU')).toBe('1,3\u00a0млн');
    expect(formatValue(950_000, 'currency', 'ru-RU')).toBe('950\u00a0000\u00a0₽');
    expect(formatValue(12.5, 'percent', 'ru-RU')).toBe('12,5\u00a0%');
  });
});

/** Code points of a TrueType font's cmap (formats 4 and 12): enough to prove glyph coverage. */
function fontCodepoints(buf: Buffer): Set<number> {
  const tables = buf.readUInt16BE(4);
  let cmap = -1;
  for (let i = 0; i < tables; i++) {
    const rec = 12 + i * 16;
    if (buf.toString('latin1', rec, rec + 4) === 'cmap') cmap = buf.readUInt32BE(rec + 8);
  }
  if (cmap < 0) throw new Error('no cmap table');
  const out = new Set<number>();
  const n = buf.readUInt16BE(cmap + 2);
  for (let i = 0; i < n; i++) {
    const off = cmap + buf.readUInt32BE(cmap + 4 + i * 8 + 4);
    const format = buf.readUInt16BE(off);
    if (format === 4) {
      const segX2 = buf.readUInt16BE(off + 6);
      const ends = off + 14;
      const starts = ends + segX2 + 2;
      const deltas = starts + segX2;
      const ranges = deltas + segX2;
      for (let s = 0; s < segX2 / 2; s++) {
        const end = buf.readUInt16BE(ends + s * 2);
        const start = buf.readUInt16BE(starts + s * 2);
        const delta = buf.readInt16BE(deltas + s * 2);
        const range = buf.readUInt16BE(ranges + s * 2);
        for (let c = start; c <= end && c !== 0xffff; c++) {
          let glyph: number;
          if (range === 0) glyph = (c + delta) & 0xffff;
          else {
            const at = ranges + s * 2 + range + (c - start) * 2;
            glyph = buf.readUInt16BE(at);
            if (glyph !== 0) glyph = (glyph + delta) & 0xffff;
          }
          if (glyph !== 0) out.add(c);
        }
      }
    } else if (format === 12) {
      const groups = buf.readUInt32BE(off + 12);
      for (let g = 0; g < groups; g++) {
        const start = buf.readUInt32BE(off + 16 + g * 12);
        const end = buf.readUInt32BE(off + 20 + g * 12);
        for (let c = start; c <= end; c++) out.add(c);
      }
    }
  }
  return out;
}
