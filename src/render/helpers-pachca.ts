/** Pachca helpers: attachments_note, mention, link, sparkline, bar, table. */
import Handlebars from 'handlebars';
import { DateTime } from 'luxon';
import { RENDER_DEFAULTS } from './defaults.js';
import { escapeMarkdown, sanitizeForCode } from './escape.js';
import { formatNumber, helper, preview, type Call, type HelperSpec, type RenderData } from './helper-call.js';
import { field } from './helpers-text.js';
import { displayWidth, padEnd, padStart } from './width.js';

// ---------------------------------------------------------------- Pachca

const SPARKS = '▁▂▃▄▅▆▇█';

function seriesValue(c: Call, point: unknown): number | null {
  // Prometheus range vectors give [unixSeconds, "value"].
  const v = Array.isArray(point) ? point[1] : point;
  if (v === null || v === undefined || v === 'NaN') return null;
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return c.maybeNumber(v, 0);
}

const ATTACHMENT_WORDS: Record<string, { ru: string; en: string }> = {
  chart: { ru: 'график', en: 'chart' },
  table: { ru: 'таблица', en: 'table' },
  csv: { ru: 'CSV', en: 'CSV' },
  xlsx: { ru: 'Excel', en: 'Excel' },
  markdown: { ru: 'подробности', en: 'details' },
};

export const pachcaHelpers: Record<string, HelperSpec> = {
  /** "📎 Во вложении: график «Выручка», таблица регионы.md": the message's files, from the context's `attachments`. */
  attachments_note: helper(0, 0, '{{attachments_note}}', (c) => {
    const list = (c.options.data as Partial<RenderData> | undefined)?.root?.attachments;
    if (!Array.isArray(list) || list.length === 0) return '';
    const ru = c.locale.toLowerCase().startsWith('ru');
    const parts = (list as Array<{ kind: string; name: string; title: string | null }>).map((a) => {
      const word = ATTACHMENT_WORDS[a.kind] ?? { ru: 'файл', en: 'file' };
      return `${ru ? word.ru : word.en} ${a.title ? (ru ? `«${a.title}»` : `"${a.title}"`) : a.name}`;
    });
    return `📎 ${ru ? 'Во вложении' : 'Attached'}: ${parts.join(', ')}`;
  }),
  mention: helper(1, 1, '{{mention user_id}}', (c, p) => {
    const raw = p[0];
    const id = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
      c.fail(`${c.what(0)} must be a positive integer user id, got ${preview(raw)}`);
    }
    return new Handlebars.SafeString(`<@${id}>`);
  }),
  link: helper(2, 2, '{{link text url}}', (c, p) => {
    const url = c.string(p[1], 1).trim();
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return c.fail(`${c.what(1)} is not a valid URL: ${preview(url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      c.fail(`only http(s) links are allowed, got ${preview(parsed.protocol)}`);
    }
    // Parentheses and spaces would end the markdown link target early.
    const href = parsed.href.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/ /g, '%20');
    const text = p[0] === null || p[0] === undefined || p[0] === '' ? url : c.string(p[0], 0);
    return new Handlebars.SafeString(`[${escapeMarkdown(text)}](${href})`);
  }),
  sparkline: helper(1, 1, '{{sparkline series}}', (c, p) => {
    const vals = c.array(p[0], 0).map((pt) => seriesValue(c, pt));
    const present = vals.filter((v): v is number => v !== null);
    if (present.length === 0) return '';
    const min = Math.min(...present);
    const max = Math.max(...present);
    return vals
      .map((v) => {
        if (v === null) return ' ';
        // A flat series is drawn mid-height (or on the floor when it is all zeros): a line, not noise.
        if (max === min) return max === 0 ? SPARKS[0] : SPARKS[3];
        return SPARKS[Math.round(((v - min) / (max - min)) * (SPARKS.length - 1))];
      })
      .join('');
  }),
  bar: helper(2, 3, '{{bar value max [width]}}', (c, p) => {
    const v = c.maybeNumber(p[0], 0) ?? 0;
    const max = c.number(p[1], 1);
    if (max <= 0) c.fail(`${c.what(1)} must be positive, got ${max}`);
    const width = p[2] === undefined ? RENDER_DEFAULTS.barWidth : c.integer(p[2], 2, 1, 100);
    const fill = c.hash.fill === undefined ? '█' : c.string(c.hash.fill, 0);
    const empty = c.hash.empty === undefined ? '░' : c.string(c.hash.empty, 0);
    const filled = Math.max(0, Math.min(width, Math.round((v / max) * width)));
    return fill.repeat(filled) + empty.repeat(width - filled);
  }),
  table: helper(1, 2, '{{table rows ["key:Title,key2:Title2"]}}', (c, p) => {
    return new Handlebars.SafeString(renderTable(c, c.array(p[0], 0), p[1]));
  }),
};

interface Column {
  key: string;
  title: string;
}

function parseColumns(c: Call, spec: unknown, rows: unknown[]): Column[] {
  const fromPair = (s: string): Column => {
    const at = s.indexOf(':');
    const key = (at === -1 ? s : s.slice(0, at)).trim();
    const title = at === -1 ? key : s.slice(at + 1).trim();
    if (key === '') c.fail(`empty column key in ${preview(spec)}`);
    return { key, title };
  };
  if (spec === undefined) {
    const first = rows.find((r) => r !== null && typeof r === 'object');
    if (first === undefined) return [];
    return Object.keys(first).map((key) => ({ key, title: Array.isArray(first) ? '' : key }));
  }
  if (typeof spec === 'string') return spec.split(',').filter((s) => s.trim() !== '').map(fromPair);
  if (Array.isArray(spec)) {
    return spec.map((s) => {
      if (typeof s === 'string') return fromPair(s);
      if (s && typeof s === 'object' && typeof (s as Column).key === 'string') {
        const col = s as Partial<Column>;
        return { key: col.key!, title: typeof col.title === 'string' ? col.title : col.key! };
      }
      return c.fail(`columns must be "key:Title" strings or {key, title} objects, got ${preview(s)}`);
    });
  }
  if (spec && typeof spec === 'object') {
    return Object.entries(spec).map(([key, title]) => ({ key, title: String(title) }));
  }
  return c.fail(`columns must be "key:Title,…", an array or an object, got ${preview(spec)}`);
}

function renderTable(c: Call, rows: unknown[], spec: unknown): string {
  const columns = parseColumns(c, spec, rows);
  if (columns.length === 0) return '';
  const cells: string[][] = [];
  const numeric = columns.map(() => true);
  rows.forEach((row, r) => {
    if (row === null || typeof row !== 'object') c.fail(`row ${r + 1} is not an object: ${preview(row)}`);
    cells.push(
      columns.map((col, i) => {
        const v = field(c, row, col.key, r);
        if (v === null || v === undefined) return RENDER_DEFAULTS.nullText;
        if (typeof v === 'number' || typeof v === 'bigint') return formatNumber(c.locale, Number(v));
        numeric[i] = false;
        if (v instanceof Date) return DateTime.fromJSDate(v).setZone(c.timezone).setLocale(c.locale).toFormat('dd.LL.yyyy HH:mm');
        return sanitizeForCode(typeof v === 'object' ? JSON.stringify(v) : String(v));
      }),
    );
  });
  const header = columns.map((col) => sanitizeForCode(col.title));
  const widths = columns.map((_, i) => Math.max(displayWidth(header[i]!), ...cells.map((row) => displayWidth(row[i]!))));
  const line = (parts: string[]) =>
    parts.map((s, i) => (numeric[i] && rows.length > 0 ? padStart(s, widths[i]!) : padEnd(s, widths[i]!))).join('  ').trimEnd();
  const out = ['```text'];
  if (header.some((h) => h !== '')) {
    out.push(line(header));
    out.push(widths.map((w) => '─'.repeat(w)).join('  '));
  }
  for (const row of cells) out.push(line(row));
  out.push('```');
  return out.join('\n');
}
