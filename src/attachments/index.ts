/**
 * The attachments stage: per message, the job's `attachments:` become files (PNG charts, `.md`
 * table cards, CSV, XLSX, markdown from a template). Rendering happens for every message of a run
 * before anything is posted, so bad data fails the run whole or becomes a note, never half a digest.
 */
import { DigestError, isDigestError } from '../errors.js';
import { renderChart, type ChartImage } from './chart.js';
import { columnsOf, resolveRows } from './data.js';
import { csvFile, markdownTable, xlsxFile } from './tables.js';
import type { AttachmentInfo, AttachmentKind, AttachmentRenderOptions, AttachmentSpec, ChartSpec, RenderedFile } from './types.js';

export type * from './types.js';
export { renderChart, rasterise, formatValue, CHART_PALETTE, type ChartImage } from './chart.js';
export { CHART_FONT_FAMILY, FONT_FILES } from './fonts.js';
export { toNumber, lttb } from './data.js';

export const EXTENSIONS: Record<AttachmentKind, string> = { chart: '.png', table: '.md', csv: '.csv', xlsx: '.xlsx', markdown: '.md' };
const CONTENT_TYPES: Record<AttachmentKind, string> = {
  chart: 'image/png',
  table: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  markdown: 'text/markdown; charset=utf-8',
};

type Context = Record<string, unknown>;

/** A file name from its template: no path separators or control characters, the kind's extension. */
export function fileName(spec: AttachmentSpec, context: Context, opts: AttachmentRenderOptions): string {
  let name = spec.name.render(context, opts).replace(/[\\/\u0000-\u001f\u007f]/g, '_').trim();
  const ext = EXTENSIONS[spec.kind];
  if (name === '' || name === ext) name = `${spec.kind === 'chart' ? 'chart' : 'data'}${ext}`;
  if (!name.toLowerCase().endsWith(ext)) name += ext;
  return name;
}

function titleOf(spec: AttachmentSpec, context: Context, opts: AttachmentRenderOptions): string | null {
  const t = spec.kind === 'chart' ? spec.chart.title : spec.kind === 'table' ? spec.title : undefined;
  const text = t?.render(context, opts).trim();
  return text ? text : null;
}

/** What the message's template sees as `attachments` (cheap: names and titles, nothing rendered). */
export function attachmentInfos(specs: AttachmentSpec[], context: Context, opts: AttachmentRenderOptions): AttachmentInfo[] {
  return specs.map((s) => ({ kind: s.kind, name: fileName(s, context, opts), title: titleOf(s, context, opts) }));
}

/** Renders every attachment of one message. Throws DigestError (config position attached) on data the job cannot use. */
export async function renderAttachments(specs: AttachmentSpec[], context: Context, opts: AttachmentRenderOptions): Promise<RenderedFile[]> {
  const out: RenderedFile[] = [];
  for (const spec of specs) {
    try {
      out.push(await renderOne(spec, context, opts));
    } catch (err) {
      if (isDigestError(err)) throw err.location ? err : new DigestError(err.code, err.message, { location: spec.position, hint: err.hint, cause: err });
      throw new DigestError('E_TEMPLATE', `attachment ${spec.kind} could not be rendered: ${(err as Error)?.message ?? String(err)}`, {
        location: spec.position,
        hint: 'check the attachment options and its data (`pachca-digest render JOB --out DIR` writes the files)',
        cause: err,
      });
    }
  }
  return out;
}

async function renderOne(spec: AttachmentSpec, context: Context, opts: AttachmentRenderOptions): Promise<RenderedFile> {
  const name = fileName(spec, context, opts);
  const base = { kind: spec.kind, name, contentType: CONTENT_TYPES[spec.kind] };
  switch (spec.kind) {
    case 'chart': {
      const { rows, notes } = resolveRows(context, spec.chart.data, spec.position);
      const img = renderChart(spec.chart, rows, titleOf(spec, context, opts), opts);
      return { ...base, fileType: 'image', bytes: img.png, width: img.width, height: img.height, notes: [...notes, ...img.notes] };
    }
    case 'table': {
      const { rows, notes } = resolveRows(context, spec.rows, spec.position);
      const f = markdownTable(rows, columnsOf(rows, spec.columns), { title: titleOf(spec, context, opts), maxRows: spec.maxRows, name, ...opts });
      return { ...base, fileType: 'file', bytes: f.bytes, notes: [...notes, ...f.notes] };
    }
    case 'csv': {
      const { rows, notes } = resolveRows(context, spec.rows, spec.position);
      const f = csvFile(rows, columnsOf(rows, spec.columns), { delimiter: spec.delimiter, maxRows: spec.maxRows, name });
      return { ...base, fileType: 'file', bytes: f.bytes, notes: [...notes, ...f.notes] };
    }
    case 'xlsx': {
      const { rows, notes } = resolveRows(context, spec.rows, spec.position);
      const f = await xlsxFile(rows, columnsOf(rows, spec.columns), { sheet: spec.sheet, maxRows: spec.maxRows, name });
      return { ...base, fileType: 'file', bytes: f.bytes, notes: [...notes, ...f.notes] };
    }
    case 'markdown': {
      const text = spec.template.render(context, opts);
      return { ...base, fileType: 'file', bytes: Buffer.from(text.endsWith('\n') ? text : `${text}\n`, 'utf8'), notes: [] };
    }
  }
}

/**
 * The PNG of a job's first chart for one context (link previews, monitors): the same rendering a
 * digest attaches. `null` when the job has no chart.
 */
export function renderJobChart(
  job: { attachments?: AttachmentSpec[]; locale: string; timezone: string },
  context: Context,
  overrides: Partial<Pick<ChartSpec, 'width' | 'height' | 'density'>> = {},
): (ChartImage & { name: string }) | null {
  const spec = job.attachments?.find((a): a is Extract<AttachmentSpec, { kind: 'chart' }> => a.kind === 'chart');
  if (!spec) return null;
  const opts = { locale: job.locale, timezone: job.timezone };
  const { rows } = resolveRows(context, spec.chart.data, spec.position);
  const img = renderChart({ ...spec.chart, ...overrides }, rows, titleOf(spec, context, opts), opts);
  return { ...img, name: fileName(spec, context, opts) };
}
