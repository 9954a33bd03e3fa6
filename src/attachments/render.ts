/** Rendering attachments into files; loaded on demand (ECharts and resvg are heavy to load). */
import { DigestError, isDigestError } from '../errors.js';
import { renderChart, type ChartImage } from './chart.js';
import { columnsOf, resolveRows } from './data.js';
import { CONTENT_TYPES, fileName, titleOf } from './names.js';
import { csvFile, markdownTable, xlsxFile } from './tables.js';
import type { AttachmentRenderOptions, AttachmentSpec, ChartSpec, RenderedFile } from './types.js';

type Context = Record<string, unknown>;

/** Renders every attachment of one message. Throws DigestError (config position attached) on data the job cannot use. */
export async function renderAttachments(specs: AttachmentSpec[], context: Context, opts: AttachmentRenderOptions): Promise<RenderedFile[]> {
  const out: RenderedFile[] = [];
  for (const spec of specs) {
    try {
      out.push(await renderOne(spec, context, opts));
      // resvg's native buffers (~3 MB a chart) are freed by finalizers that run only when the event
      // loop turns: a fan-out rendering a chart per item without yielding grew by that much per chart.
      if (spec.kind === 'chart') await new Promise<void>((r) => setImmediate(r));
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
