/**
 * The attachments stage: per message, the job's `attachments:` become files (PNG charts, `.md`
 * table cards, CSV, XLSX, markdown from a template). Rendering happens for every message of a run
 * before anything is posted, so bad data fails the run whole or becomes a note, never half a digest.
 * The renderers load on first use: a job without attachments never pays for ECharts or resvg.
 */
import type { ChartImage } from './chart.js';
import type { AttachmentRenderOptions, AttachmentSpec, ChartSpec, RenderedFile } from './types.js';

export type * from './types.js';
export type { ChartImage } from './chart.js';
export { EXTENSIONS, fileName, attachmentInfos } from './names.js';
export { toNumber, toTime, lttb } from './data.js';

type Context = Record<string, unknown>;

/** Renders every attachment of one message. Throws DigestError (config position attached) on data the job cannot use. */
export async function renderAttachments(specs: AttachmentSpec[], context: Context, opts: AttachmentRenderOptions): Promise<RenderedFile[]> {
  if (specs.length === 0) return [];
  return (await import('./render.js')).renderAttachments(specs, context, opts);
}

/**
 * The PNG of a job's first chart for one context (link previews, monitors): the same rendering a
 * digest attaches. `null` when the job has no chart.
 */
export async function renderJobChart(
  job: { attachments?: AttachmentSpec[]; locale: string; timezone: string },
  context: Context,
  overrides: Partial<Pick<ChartSpec, 'width' | 'height' | 'density'>> = {},
): Promise<(ChartImage & { name: string }) | null> {
  if (!job.attachments?.some((a) => a.kind === 'chart')) return null;
  return (await import('./render.js')).renderJobChart(job, context, overrides);
}

/** The chart renderer itself (benchmarks, tests, previews of ad-hoc data). */
export async function loadChartRenderer(): Promise<typeof import('./chart.js')> {
  return import('./chart.js');
}
