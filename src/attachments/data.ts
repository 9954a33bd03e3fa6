/**
 * Rows for attachments: resolved from the message context, values coerced, long series thinned.
 * Bad data never throws here: it becomes a gap and a note, so one odd value cannot fail a digest.
 */
import { DigestError } from '../errors.js';
import { getPath, splitPath } from '../util/index.js';
import type { ColumnSpec } from './types.js';

export type Row = Record<string, unknown>;

/**
 * The rows at `path`. `null` (an optional source that failed, an empty period) is no rows; a path
 * that is not in the data is a config mistake and fails the run before anything is posted.
 */
export function resolveRows(context: unknown, path: string, where: { file: string; line: number; column: number; path: string }): { rows: Row[]; notes: string[] } {
  const value = getPath(context, path);
  const notes: string[] = [];
  if (value === null) return { rows: [], notes };
  if (value === undefined) {
    if (parentIsNull(context, path)) return { rows: [], notes };
    throw new DigestError('E_SOURCE', `attachment data "${path}" is not in the data`, {
      location: where,
      hint: 'Point the attachment at an array of rows in the metrics (e.g. metrics.rows); `pachca-digest render JOB --json` shows the data.',
    });
  }
  if (!Array.isArray(value)) {
    throw new DigestError('E_SOURCE', `attachment data "${path}" is a ${typeof value}, not an array of rows`, {
      location: where,
      hint: 'Attachments need a list of objects, e.g. [{ date: "2026-01-01", revenue: 100 }].',
    });
  }
  const rows: Row[] = [];
  let skipped = 0;
  for (const r of value) {
    if (r !== null && typeof r === 'object' && !Array.isArray(r)) rows.push(r as Row);
    else skipped++;
  }
  if (skipped > 0) notes.push(`${path}: ${countRu(skipped, ROWS)} не объекты, пропущены`);
  return { rows, notes };
}

function parentIsNull(context: unknown, path: string): boolean {
  let cur: unknown = context;
  for (const part of splitPath(path)) {
    if (cur === null) return true;
    if (cur === undefined || typeof cur !== 'object') return false;
    cur = (cur as Row)[part];
  }
  return false;
}

/** Columns given in the config, or every key of the first rows in order of appearance. */
export function columnsOf(rows: Row[], given: ColumnSpec[] | undefined): ColumnSpec[] {
  if (given && given.length > 0) return given;
  const seen = new Set<string>();
  for (const r of rows.slice(0, 50)) for (const k of Object.keys(r)) seen.add(k);
  return [...seen].map((field) => ({ field, title: field }));
}

const NUMERIC = /^[+-]?(\d{1,3}([ \u00a0\u202f]\d{3})+|\d+)([.,]\d+)?$/;

/**
 * A number, or null for a gap. Numeric strings count, in either notation ("1234.5", "1 234,5"),
 * because CSV and SQL sources often return numbers as text.
 */
export function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const s = v.trim().replace(/\u2212/g, '-');
    if (!NUMERIC.test(s)) return null;
    const n = Number(s.replace(/[ \u00a0\u202f]/g, '').replace(',', '.'));
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch ms of a date-like value (Date, ISO string), or null. */
export function toTime(v: unknown): number | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.getTime();
  if (typeof v === 'string' && ISO_DATE.test(v.trim())) {
    const s = v.trim();
    // A bare date is a calendar day: noon UTC keeps it on that day in every zone we format in.
    const t = Date.parse(s.length === 10 ? `${s}T12:00:00Z` : s);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

/**
 * Largest-Triangle-Three-Buckets: keeps the visual shape (peaks, dips) of a long series with
 * `threshold` points, where plain striding would drop exactly the spikes a reader looks for.
 */
export function lttb(points: Array<[number, number | null]>, threshold: number): Array<[number, number | null]> {
  const n = points.length;
  if (threshold >= n || threshold < 3) return points;
  // Gaps are not triangles: thin the numeric points, then put no gaps back (a thinned line is continuous).
  const pts = points.filter((p): p is [number, number] => p[1] !== null);
  if (pts.length <= threshold) return pts;
  const out: Array<[number, number]> = [pts[0]!];
  const every = (pts.length - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    const start = Math.floor((i + 1) * every) + 1;
    const end = Math.min(Math.floor((i + 2) * every) + 1, pts.length);
    let avgX = 0;
    let avgY = 0;
    for (let j = start; j < end; j++) {
      avgX += pts[j]![0];
      avgY += pts[j]![1];
    }
    const len = Math.max(1, end - start);
    avgX /= len;
    avgY /= len;
    const rangeStart = Math.floor(i * every) + 1;
    const rangeEnd = Math.floor((i + 1) * every) + 1;
    const [ax, ay] = pts[a]!;
    let best = rangeStart;
    let bestArea = -1;
    for (let j = rangeStart; j < rangeEnd; j++) {
      const area = Math.abs((ax - avgX) * (pts[j]![1] - ay) - (ax - pts[j]![0]) * (avgY - ay));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    out.push(pts[best]!);
    a = best;
  }
  out.push(pts[pts.length - 1]!);
  return out;
}

const ruRules = new Intl.PluralRules('ru-RU');

/** "5 строк": the count in ru-RU digits with the Russian plural form (one/few/many). */
export function countRu(n: number, forms: { one: string; few: string; many: string }): string {
  const rule = ruRules.select(n);
  const word = rule === 'one' ? forms.one : rule === 'few' ? forms.few : forms.many;
  return `${new Intl.NumberFormat('ru-RU').format(n)} ${word}`;
}

export const ROWS = { one: 'строка', few: 'строки', many: 'строк' };
export const POINTS = { one: 'точка', few: 'точки', many: 'точек' };
