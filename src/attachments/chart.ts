/**
 * Charts as PNG, rendered in-process without a browser: ECharts' server-side renderer draws SVG,
 * resvg rasterises it with the shipped font. One look everywhere: light background, one palette,
 * labels sized for Pachca's inline preview, ru-RU numbers and dates on the axes.
 */
import { createRequire } from 'node:module';
import * as echarts from 'echarts/core';
// Each installer from its own module: the `echarts/charts` and `echarts/components` indexes
// evaluate every chart type and component ECharts has (Node does not tree-shake), which cost a
// chart-rendering process 13 MB of RSS and a second of start-up for code it never runs.
import { install as LineChart } from 'echarts/lib/chart/line/install.js';
import { install as BarChart } from 'echarts/lib/chart/bar/install.js';
import { install as PieChart } from 'echarts/lib/chart/pie/install.js';
import { install as GridComponent } from 'echarts/lib/component/grid/install.js';
import { install as LegendComponent } from 'echarts/lib/component/legend/install.js';
import { install as TitleComponent } from 'echarts/lib/component/title/install.js';
import { install as GraphicComponent } from 'echarts/lib/component/graphic/install.js';
import { install as SVGRenderer } from 'echarts/lib/renderer/installSVGRenderer.js';
import { encodePng } from './png.js';
import { CHART_FONT_FAMILY, chartFontFiles } from './fonts.js';
import { countRu, lttb, POINTS, toNumber, toTime, type Row } from './data.js';
import type { AttachmentRenderOptions, ChartSpec, ValueFormat } from './types.js';

echarts.use([LineChart, BarChart, PieChart, GridComponent, LegendComponent, TitleComponent, GraphicComponent, SVGRenderer]);

/** One palette for every chart: distinguishable, print-safe, readable on white. */
export const CHART_PALETTE = ['#2f6fde', '#f08a24', '#1fa67a', '#d64545', '#8257d6', '#c9a300', '#1b9fc2', '#d6568f'];
const TEXT = '#1f2937';
const MUTED = '#6b7280';
const GRID = '#e5e7eb';

export interface ChartImage {
  png: Buffer;
  svg: string;
  /** Pixel size of the PNG (density included). */
  width: number;
  height: number;
  notes: string[];
}

interface SeriesData {
  name: string;
  points: Array<[number | string, number | null]>;
}

type XKind = 'time' | 'value' | 'category';

/** Renders one chart of `rows`. Never throws on bad data: a placeholder image and a note instead. */
export function renderChart(spec: ChartSpec, rows: Row[], title: string | null, opts: AttachmentRenderOptions): ChartImage {
  const notes: string[] = [];
  const option = spec.type === 'pie' ? pieOption(spec, rows, notes, opts) : axisOption(spec, rows, notes, opts);
  const svg = toSvg(spec, option ?? placeholderOption(spec), title);
  if (option === null) notes.push(`${title ? `«${title}»` : 'график'}: нет данных за период`);
  const png = rasterise(svg, spec.density);
  return { png, svg, width: spec.width * spec.density, height: spec.height * spec.density, notes };
}

function xKindOf(rows: Row[], x: string, type: ChartSpec['type']): XKind {
  const values = rows.map((r) => r[x]).filter((v) => v !== null && v !== undefined && v !== '');
  if (values.length === 0) return 'category';
  // Bars sit on categories (a time axis gives bars of arbitrary width); dates get formatted labels.
  if (type !== 'bar' && values.every((v) => toTime(v) !== null)) return 'time';
  if (values.every((v) => typeof v === 'number')) return type === 'bar' ? 'category' : 'value';
  return 'category';
}

function axisOption(spec: ChartSpec, rows: Row[], notes: string[], opts: AttachmentRenderOptions): Record<string, unknown> | null {
  const xKind = xKindOf(rows, spec.x, spec.type);
  const isDate = rows.some((r) => toTime(r[spec.x]) !== null) && rows.every((r) => r[spec.x] == null || toTime(r[spec.x]) !== null);
  const dateFmt = dateFormatter(rows.map((r) => toTime(r[spec.x])).filter((t): t is number => t !== null), opts);
  const xValue = (v: unknown): number | string | null => {
    if (v === null || v === undefined || v === '') return null;
    if (xKind === 'time') return toTime(v);
    if (xKind === 'value') return typeof v === 'number' ? v : null;
    if (isDate) return dateFmt(toTime(v)!);
    return typeof v === 'number' ? formatValue(v, 'number', opts.locale) : String(v);
  };

  let series: SeriesData[] = [];
  let nonNumeric = 0;
  const push = (s: SeriesData, row: Row, field: string) => {
    const x = xValue(row[spec.x]);
    if (x === null) return;
    const raw = row[field];
    const y = toNumber(raw);
    if (y === null && raw !== null && raw !== undefined && raw !== '') nonNumeric++;
    s.points.push([x, y]);
  };
  if (spec.series) {
    const field = spec.y[0]!;
    const byName = new Map<string, SeriesData>();
    for (const row of rows) {
      const name = String(row[spec.series] ?? '—');
      let s = byName.get(name);
      if (!s) byName.set(name, (s = { name, points: [] }));
      push(s, row, field);
    }
    series = [...byName.values()];
  } else {
    series = spec.y.map((field) => {
      const s: SeriesData = { name: spec.labels[field] ?? field, points: [] };
      for (const row of rows) push(s, row, field);
      return s;
    });
  }
  if (nonNumeric > 0) notes.push(`${countRu(nonNumeric, { one: 'нечисловое значение', few: 'нечисловых значения', many: 'нечисловых значений' })} на графике пропущено`);
  if (!series.some((s) => s.points.some((p) => p[1] !== null))) return null;

  const longest = Math.max(...series.map((s) => s.points.length));
  if (longest > spec.maxPoints) {
    series = series.map((s) => ({ ...s, points: downsample(s.points, spec.maxPoints, xKind) }));
    notes.push(`на графике ${countRu(longest, POINTS)} показаны как ${formatValue(spec.maxPoints, 'number', opts.locale)} (форма линии сохранена)`);
  }

  const categories = xKind === 'category' ? [...new Set(series.flatMap((s) => s.points.map((p) => String(p[0]))))] : undefined;
  const all = series.flatMap((s) => s.points.map((p) => p[1]).filter((v): v is number => v !== null));
  const maxAbs = Math.max(...all.map(Math.abs));
  const fmt = spec.format === 'number' && maxAbs >= 1_000_000 ? 'compact' : spec.format;

  return {
    legend: series.length > 1 ? { bottom: 8, icon: 'roundRect', itemWidth: 14, itemHeight: 8, textStyle: { fontSize: 13, color: TEXT } } : undefined,
    grid: { left: 16, right: 24, top: 56, bottom: series.length > 1 ? 68 : 36 },
    xAxis: {
      type: xKind,
      ...(categories ? { data: categories } : {}),
      ...(xKind === 'value' ? { scale: true } : {}),
      boundaryGap: spec.type === 'bar',
      axisLine: { lineStyle: { color: GRID } },
      axisTick: { show: false },
      axisLabel: {
        color: MUTED,
        fontSize: 12,
        hideOverlap: true,
        // A few named categories (regions, teams): every label, wrapped, rather than every other one.
        ...(categories && categories.length <= 12 ? { interval: 0, hideOverlap: false, ...(categories.length > 7 ? { rotate: 30 } : {}) } : {}),
        ...(xKind === 'time' ? { formatter: (v: number) => dateFmt(v) } : {}),
        ...(xKind === 'value' ? { formatter: (v: number) => formatValue(v, 'number', opts.locale) } : {}),
      },
    },
    yAxis: {
      type: 'value',
      splitLine: { lineStyle: { color: GRID } },
      axisLabel: { color: MUTED, fontSize: 12, formatter: (v: number) => formatValue(v, fmt, opts.locale) },
    },
    series: series.map((s) => ({
      type: spec.type === 'bar' ? 'bar' : 'line',
      name: s.name,
      data: categories ? s.points.map((p) => p[1]) : s.points,
      ...(spec.stacked ? { stack: 'total' } : {}),
      ...(spec.type === 'area' ? { areaStyle: { opacity: spec.stacked ? 0.85 : 0.25 } } : {}),
      ...(spec.type !== 'bar' ? { showSymbol: (s.points.length <= 31), symbolSize: 5, lineStyle: { width: 2.5 }, connectNulls: false } : {}),
      ...(spec.type === 'bar' ? { barMaxWidth: 36 } : {}),
    })),
  };
}

function downsample(points: SeriesData['points'], max: number, xKind: XKind): SeriesData['points'] {
  if (xKind !== 'category') return lttb(points as Array<[number, number | null]>, max);
  // Categories have no distance to weigh: keep evenly spaced ones, always the last (the latest day).
  const step = points.length / max;
  const out: SeriesData['points'] = [];
  for (let i = 0; i < max; i++) out.push(points[Math.floor(i * step)]!);
  out[out.length - 1] = points[points.length - 1]!;
  return out;
}

function pieOption(spec: ChartSpec, rows: Row[], notes: string[], opts: AttachmentRenderOptions): Record<string, unknown> | null {
  const field = spec.y[0]!;
  const byName = new Map<string, number>();
  let dropped = 0;
  for (const r of rows) {
    const v = toNumber(r[field]);
    if (v === null || v <= 0) {
      if (r[field] !== null && r[field] !== undefined && v !== 0) dropped++;
      continue;
    }
    const label = r[spec.x];
    const name = label instanceof Date || toTime(label) !== null ? dateFormatter([], opts)(toTime(label)!) : String(label ?? '—');
    byName.set(name, (byName.get(name) ?? 0) + v);
  }
  const data = [...byName].map(([name, value]) => ({ name, value }));
  if (dropped > 0) notes.push(`${countRu(dropped, { one: 'значение', few: 'значения', many: 'значений' })} не больше нуля или не число — не показаны на круговой диаграмме`);
  if (data.length === 0) return null;
  // Many slices are unreadable: the largest ones, the rest as «Прочее».
  data.sort((a, b) => b.value - a.value);
  const maxSlices = 8;
  if (data.length > maxSlices) {
    const rest = data.splice(maxSlices - 1);
    data.push({ name: 'Прочее', value: rest.reduce((s, d) => s + d.value, 0) });
  }
  const total = data.reduce((s, d) => s + d.value, 0);
  return {
    legend: { bottom: 8, icon: 'circle', itemWidth: 10, itemHeight: 10, textStyle: { fontSize: 13, color: TEXT } },
    series: [
      {
        type: 'pie',
        radius: ['38%', '66%'],
        center: ['50%', '50%'],
        data,
        label: {
          color: TEXT,
          fontSize: 12,
          formatter: (p: { name: string; value: number }) => `${p.name}\n${formatValue(p.value, spec.format === 'number' ? 'compact' : spec.format, opts.locale)} · ${formatValue(Math.round((p.value / total) * 1000) / 10, 'percent', opts.locale)}`,
        },
        itemStyle: { borderColor: '#ffffff', borderWidth: 2 },
      },
    ],
  };
}

function placeholderOption(spec: ChartSpec): Record<string, unknown> {
  const cx = spec.width / 2;
  const cy = spec.height / 2 + 12;
  return {
    graphic: [
      { type: 'rect', shape: { x: cx - 180, y: cy - 50, width: 360, height: 100, r: 12 }, style: { fill: '#f3f4f6' } },
      { type: 'text', style: { x: cx, y: cy, text: 'Нет данных за период', fontSize: 20, fill: MUTED, fontFamily: CHART_FONT_FAMILY, align: 'center', verticalAlign: 'middle' } },
    ],
  };
}

function toSvg(spec: ChartSpec, option: Record<string, unknown>, title: string | null): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: spec.width, height: spec.height });
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      color: CHART_PALETTE,
      textStyle: { fontFamily: CHART_FONT_FAMILY, color: TEXT },
      ...(title ? { title: { text: title, left: 16, top: 14, textStyle: { fontSize: 18, fontWeight: 600, color: TEXT } } } : {}),
      ...option,
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const require = createRequire(import.meta.url);
type ResvgModule = typeof import('@resvg/resvg-js');
let resvg: ResvgModule | undefined;

export function rasterise(svg: string, density: number): Buffer {
  resvg ??= require('@resvg/resvg-js') as ResvgModule;
  const r = new resvg.Resvg(svg, {
    background: '#ffffff',
    fitTo: { mode: 'zoom', value: density },
    font: { fontFiles: chartFontFiles(), loadSystemFonts: false, defaultFontFamily: CHART_FONT_FAMILY, sansSerifFamily: CHART_FONT_FAMILY },
    shapeRendering: 2,
    textRendering: 1,
  });
  const image = r.render();
  return encodePng(image.width, image.height, image.pixels);
}

const numberFormats = new Map<string, Intl.NumberFormat>();
function nf(locale: string, o: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(o)}`;
  let f = numberFormats.get(key);
  if (!f) numberFormats.set(key, (f = new Intl.NumberFormat(locale, o)));
  return f;
}

/** Axis and label numbers: "1 250 000", "1,3 млн", "1,3 млн ₽", "12,5 %". */
export function formatValue(v: number, format: ValueFormat, locale: string): string {
  switch (format) {
    case 'compact':
      return nf(locale, { notation: 'compact', maximumFractionDigits: 1 }).format(v);
    case 'currency': {
      const big = Math.abs(v) >= 1_000_000;
      return nf(locale, { style: 'currency', currency: 'RUB', currencyDisplay: 'narrowSymbol', maximumFractionDigits: big ? 1 : 0, ...(big ? { notation: 'compact' } : {}) }).format(v);
    }
    case 'percent':
      return `${nf(locale, { maximumFractionDigits: 1 }).format(v)}\u00a0%`;
    default:
      return nf(locale, { maximumFractionDigits: 2 }).format(v);
  }
}

/** Day labels ("5 янв."), with the month only when the data spans more than ~4 months, in the job's zone. */
function dateFormatter(times: number[], opts: AttachmentRenderOptions): (t: number) => string {
  const span = times.length > 1 ? Math.max(...times) - Math.min(...times) : 0;
  const long = span > 120 * 86_400_000;
  const f = new Intl.DateTimeFormat(opts.locale, long ? { month: 'short', year: '2-digit', timeZone: opts.timezone } : { day: 'numeric', month: 'short', timeZone: opts.timezone });
  return (t: number) => f.format(new Date(t));
}
