/**
 * Rows as files: a `.md` card (Pachca renders tables in attached markdown, not in messages), CSV
 * (RFC 4180 with a UTF-8 BOM so Excel opens Cyrillic correctly) and XLSX (write-excel-file).
 * Row caps keep a million-row source from producing a file nobody can open; the cut is noted.
 */
import writeXlsxFile from 'write-excel-file/node';
import { countRu, ROWS, toTime, type Row } from './data.js';
import type { ColumnSpec } from './types.js';

export interface TableFile {
  bytes: Buffer;
  notes: string[];
}

function capped(rows: Row[], max: number, name: string): { rows: Row[]; notes: string[] } {
  if (rows.length <= max) return { rows, notes: [] };
  return { rows: rows.slice(0, max), notes: [`${name}: первые ${countRu(max, ROWS)} из ${new Intl.NumberFormat('ru-RU').format(rows.length)}`] };
}

/** Table cells: numbers in the job's locale, dates as dates, objects as JSON, never a raw "[object Object]". */
function cellText(v: unknown, locale: string, timezone: string): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(v) : '';
  if (v instanceof Date) return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: timezone }).format(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Markdown table cell: pipes escaped, line breaks as <br> (a raw newline ends the row). */
function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

export function markdownTable(rows: Row[], columns: ColumnSpec[], o: { title: string | null; maxRows: number; name: string; locale: string; timezone: string }): TableFile {
  const cut = capped(rows, o.maxRows, o.name);
  const numeric = columns.map((c) => cut.rows.length > 0 && cut.rows.every((r) => r[c.field] === null || r[c.field] === undefined || typeof r[c.field] === 'number'));
  const lines: string[] = [];
  if (o.title) lines.push(`# ${o.title.replace(/\r?\n/g, ' ')}`, '');
  lines.push(`| ${columns.map((c) => mdCell(c.title)).join(' | ')} |`);
  lines.push(`| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`);
  for (const r of cut.rows) lines.push(`| ${columns.map((c) => mdCell(cellText(r[c.field], o.locale, o.timezone))).join(' | ')} |`);
  if (cut.rows.length === 0) lines.push(`| ${columns.map((_, i) => (i === 0 ? 'нет данных' : '')).join(' | ')} |`);
  if (cut.notes.length > 0) lines.push('', `_Показаны первые ${countRu(o.maxRows, ROWS)} из ${new Intl.NumberFormat('ru-RU').format(rows.length)}._`);
  return { bytes: Buffer.from(`${lines.join('\n')}\n`, 'utf8'), notes: cut.notes };
}

/** RFC 4180 field: quoted when it holds the delimiter, a quote or a line break; quotes doubled. */
function csvField(s: string, delimiter: string): string {
  return s.includes(delimiter) || /["\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV values stay machine-readable: plain numbers ("1234.5"), ISO dates; only the BOM is for Excel. */
function csvValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function csvFile(rows: Row[], columns: ColumnSpec[], o: { delimiter: string; maxRows: number; name: string }): TableFile {
  const cut = capped(rows, o.maxRows, o.name);
  const out: string[] = [columns.map((c) => csvField(c.title, o.delimiter)).join(o.delimiter)];
  for (const r of cut.rows) out.push(columns.map((c) => csvField(csvValue(r[c.field]), o.delimiter)).join(o.delimiter));
  return { bytes: Buffer.from(`\ufeff${out.join('\r\n')}\r\n`, 'utf8'), notes: cut.notes };
}

/** Excel's limit on a sheet name: 31 characters, none of : \ / ? * [ ]. */
export function sheetName(s: string): string {
  return s.replace(/[:\\/?*[\]]/g, ' ').slice(0, 31).trim() || 'Sheet1';
}

export async function xlsxFile(rows: Row[], columns: ColumnSpec[], o: { sheet: string; maxRows: number; name: string }): Promise<TableFile> {
  const cut = capped(rows, o.maxRows, o.name);
  const header = columns.map((c) => ({ value: c.title, fontWeight: 'bold' as const }));
  const data = cut.rows.map((r) =>
    columns.map((c) => {
      const v = r[c.field];
      if (v === null || v === undefined) return null;
      if (typeof v === 'number') return Number.isFinite(v) ? { value: v, type: Number } : null;
      if (typeof v === 'boolean') return { value: v, type: Boolean };
      const t = v instanceof Date ? v.getTime() : typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? toTime(v) : null;
      // Calendar days become Excel dates (sortable, filterable), shown as dd.mm.yyyy.
      if (t !== null) return { value: new Date(t), type: Date, format: v instanceof Date ? 'dd.mm.yyyy hh:mm' : 'dd.mm.yyyy' };
      return { value: typeof v === 'object' ? JSON.stringify(v) : String(v), type: String };
    }),
  );
  const widths = columns.map((c, i) => ({ width: Math.min(60, Math.max(8, c.title.length + 2, ...data.slice(0, 200).map((row) => String((row[i] as { value?: unknown } | null)?.value ?? '').length + 2))) }));
  const bytes = await writeXlsxFile([header, ...data] as never, { sheet: sheetName(o.sheet), columns: widths, stickyRowsCount: 1 } as never).toBuffer();
  return { bytes, notes: cut.notes };
}
